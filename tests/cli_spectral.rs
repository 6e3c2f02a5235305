//! `cgpredict spectrum` and `cgpredict distance`, run as a user would.

use std::path::PathBuf;

mod common;

use common::{cgpredict, stdout};

/// A path of `n` identity nodes written as graph JSON into the scratch folder, under a
/// name of the test's own (tests run in parallel).
fn path_file(n: usize, test: &str) -> PathBuf {
    let nodes: Vec<String> = (0..n)
        .map(|i| {
            format!(r#"{{"id": {i}, "op": "identity", "input": [1, 1, 1], "output": [1, 1, 1]}}"#)
        })
        .collect();
    let edges: Vec<String> = (1..n).map(|i| format!("[{}, {i}]", i - 1)).collect();
    let json = format!(
        r#"{{"format": "cgpredict-graph", "version": 1, "nodes": [{}], "edges": [{}]}}"#,
        nodes.join(", "),
        edges.join(", ")
    );
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{test}_path_{n}.json"));
    std::fs::write(&file, json).unwrap();
    file
}

fn parse(text: &str) -> Vec<f64> {
    text.lines().map(|line| line.parse().unwrap()).collect()
}

#[test]
fn spectrum_prints_one_eigenvalue_per_line_or_json() {
    let p4 = path_file(4, "spectrum");
    let p4 = p4.to_str().unwrap();
    // P4: 0, 1/2, 3/2, 2; padded with zeros in front up to the default k = 11.
    let values = parse(&stdout(&cgpredict(&["spectrum", p4])));
    let expected = [vec![0.0; 8], vec![0.5, 1.5, 2.0]].concat();
    assert_eq!(values.len(), 11);
    for (value, expected) in values.iter().zip(&expected) {
        assert!((value - expected).abs() < 1e-12, "{values:?}");
    }
    let json: Vec<f64> =
        serde_json::from_str(&stdout(&cgpredict(&["spectrum", p4, "-k", "3", "--json"]))).unwrap();
    // The three smallest of P4 itself: no padding.
    assert_eq!(json.len(), 3);
    for (value, expected) in json.iter().zip(&values[7..10]) {
        assert!((value - expected).abs() < 1e-15, "{json:?}");
    }
}

#[test]
fn distance_prints_the_euclidean_distance_of_spectra() {
    let (p4, p5) = (path_file(4, "distance"), path_file(5, "distance"));
    let (p4, p5) = (p4.to_str().unwrap(), p5.to_str().unwrap());
    let distance: f64 = stdout(&cgpredict(&["distance", p4, p5, "-k", "5"]))
        .trim()
        .parse()
        .unwrap();
    let c = std::f64::consts::FRAC_1_SQRT_2;
    let expected = ((1.0 - c).powi(2) + 0.25 + (0.5 - c).powi(2)).sqrt();
    assert!((distance - expected).abs() < 1e-12, "{distance}");
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let p4 = path_file(4, "bad");
    let output = cgpredict(&["spectrum", p4.to_str().unwrap(), "-k", "0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad_path_4.json: k, the number of eigenvalues, must be at least 1"),
        "{stderr}"
    );
    let output = cgpredict(&["distance", p4.to_str().unwrap(), "no-such-file.json"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-file.json"));
}
