module cgpredict

go 1.19
