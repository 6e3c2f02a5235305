//! The zero-cost baselines of the paper's Table 1: the vendored NAS-Bench-Suite-Zero subsets
//! read into specs and scores, and their rank correlations with NASLib's validation accuracy
//! against scipy (`scripts/fixtures/zero_cost_correlations.py` wrote the fixture).

use std::path::Path;

use cgpredict::ErrorKind;
use cgpredict::import::dataset::{Family, ZERO_COST_PROXIES, read_zero_cost};
use cgpredict::metrics::{kendall_tau, spearman};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn zero_cost_correlations_match_scipy() {
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/zero_cost/correlations.json"))
            .unwrap(),
    )
    .unwrap();
    for family in [Family::Nb101, Family::Nb201, Family::Nb301] {
        let expected = &fixture["families"][family.name()];
        let records = read_zero_cost(&root().join("data"), family).unwrap();
        assert_eq!(records.len() as u64, expected["rows"].as_u64().unwrap());
        // Every spec builds a graph of its family.
        for record in &records {
            assert_eq!(record.spec.family(), family);
            record.spec.graph().unwrap();
        }
        let accuracy: Vec<f64> = records.iter().map(|r| r.val_accuracy).collect();
        for (index, proxy) in ZERO_COST_PROXIES.iter().enumerate() {
            let scores: Vec<f64> = records.iter().map(|r| r.scores[index]).collect();
            let want = &expected["proxies"][proxy];
            let rho = spearman(&scores, &accuracy).unwrap();
            let tau = kendall_tau(&scores, &accuracy).unwrap();
            assert!(
                (rho - want["spearman"].as_f64().unwrap()).abs() < 1e-9,
                "{family} {proxy}: {rho}"
            );
            assert!(
                (tau - want["kendall_tau_b"].as_f64().unwrap()).abs() < 1e-9,
                "{family} {proxy}: {tau}"
            );
        }
    }
}

#[test]
fn ofa_has_no_zero_cost_subset() {
    let error = read_zero_cost(&root().join("data"), Family::OfaMbv3).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(error.message.contains("ofa_mbv3"), "{}", error.message);
}
