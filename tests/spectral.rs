//! The public spectral API: padding, distances, batches and errors (cheap; the solvers'
//! accuracy is tested in `src/spectral/tests.rs`).

#[path = "support/cg_like.rs"]
mod cg_like;

use std::f64::consts::PI;

use cgpredict::spectral::{self, DEFAULT_K, MAX_K, spectral_distance, spectrum};
use cgpredict::{ErrorKind, Graph, Node, NodeId, Op, Shape};

#[test]
fn graphs_smaller_than_k_are_padded_with_leading_zeros() {
    // P4: 0, 1/2, 3/2, 2; as if joined by 7 isolated nodes.
    let values = spectrum(&cg_like::path(4), DEFAULT_K).unwrap();
    let expected = [vec![0.0; 8], vec![0.5, 1.5, 2.0]].concat();
    for (value, expected) in values.iter().zip(&expected) {
        assert!((value - expected).abs() < 1e-12, "{values:?}");
    }
    assert_eq!(
        spectrum(&cg_like::from_edges(1, &[]), 3).unwrap(),
        vec![0.0; 3]
    );
}

#[test]
fn distances_are_euclidean_between_spectra() {
    let a = cg_like::cg_like(120, 1);
    let b = cg_like::cg_like(120, 2);
    let sa = spectrum(&a, DEFAULT_K).unwrap();
    let sb = spectrum(&b, DEFAULT_K).unwrap();
    let expected = sa
        .iter()
        .zip(&sb)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(expected > 0.0);
    assert_eq!(spectral_distance(&a, &b, DEFAULT_K).unwrap(), expected);
    assert_eq!(spectral_distance(&b, &a, DEFAULT_K).unwrap(), expected);
    assert_eq!(spectral_distance(&a, &a, DEFAULT_K).unwrap(), 0.0);
    // P4 and P5 padded to k = 5: [0, 0, 1/2, 3/2, 2] and [0, 1 - cos(pi/4), 1, 1 + cos(pi/4), 2].
    let c = (PI / 4.0).cos();
    let expected = ((1.0 - c).powi(2) + 0.25 + (0.5 - c).powi(2)).sqrt();
    let ours = spectral_distance(&cg_like::path(4), &cg_like::path(5), 5).unwrap();
    assert!((ours - expected).abs() < 1e-12, "{ours} vs {expected}");
}

#[test]
fn batch_spectra_equal_single_spectra_and_feed_the_distance_tools() {
    let graphs: Vec<Graph> = (0..12)
        .map(|seed| cg_like::cg_like(if seed % 4 == 0 { 400 } else { 90 }, seed))
        .collect();
    let all = spectral::spectra(&graphs, DEFAULT_K).unwrap();
    for (graph, values) in graphs.iter().zip(&all) {
        assert_eq!(values, &spectrum(graph, DEFAULT_K).unwrap());
    }
    let matrix = spectral::pairwise_distances(&all).unwrap();
    let near = spectral::nearest_neighbours(&all, 3, 2).unwrap();
    let mut row: Vec<(f64, usize)> = matrix.row(3).unwrap().iter().copied().zip(0..).collect();
    row.retain(|&(_, j)| j != 3);
    row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    assert_eq!(
        near.iter().map(|n| n.index).collect::<Vec<_>>(),
        vec![row[0].1, row[1].1]
    );
    assert_eq!(spectral::all_nearest_neighbours(&all, 2).unwrap()[3], near);
}

#[test]
fn bad_requests_are_errors_that_say_why() {
    let graph = cg_like::path(5);
    let err = spectrum(&graph, 0).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("at least 1"), "{err}");
    let err = spectrum(&graph, MAX_K + 1).unwrap_err();
    assert!(err.message.contains("k = 65537"), "{err}");
    let err = spectrum(&Graph::new(), 11).unwrap_err();
    assert!(err.message.contains("no nodes"), "{err}");
    let err = spectral_distance(&graph, &Graph::new(), 11).unwrap_err();
    assert!(err.message.starts_with("second graph: "), "{err}");
    let err = spectral::spectra(&[graph.clone(), Graph::new()], 11).unwrap_err();
    assert!(err.message.contains("graph 1 has no nodes"), "{err}");
    let err = spectral::spectra(&[graph], 0).unwrap_err();
    assert!(err.message.contains("at least 1"), "{err}");
}
