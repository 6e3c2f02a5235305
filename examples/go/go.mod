module cgpredict-example

go 1.19

require cgpredict v0.1.0

// The bindings come from this repository; a project elsewhere points this at its copy.
replace cgpredict => ../../bindings/go
