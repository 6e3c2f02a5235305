//! Rank correlations against scipy 1.17 (`tests/fixtures/rank_metrics.py` wrote the fixture).

use cgpredict::metrics::{average_ranks, kendall_tau, spearman};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Vec<f64>,
    y: Vec<f64>,
    spearman: f64,
    kendall_tau_b: f64,
    ranks_x: Vec<f64>,
}

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[test]
fn rank_correlations_match_scipy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rank_metrics.json"
    );
    let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(fixture.cases.len(), 6);
    for case in &fixture.cases {
        assert_eq!(average_ranks(&case.x), case.ranks_x, "{}", case.name);
        let rho = spearman(&case.x, &case.y).unwrap();
        let tau = kendall_tau(&case.x, &case.y).unwrap();
        assert!(
            (rho - case.spearman).abs() < 1e-12,
            "{}: ρ {rho} vs {}",
            case.name,
            case.spearman
        );
        assert!(
            (tau - case.kendall_tau_b).abs() < 1e-12,
            "{}: τ {tau} vs {}",
            case.name,
            case.kendall_tau_b
        );
    }
}
