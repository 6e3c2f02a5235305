//! Euclidean distances between spectra: one pair, all pairs, and nearest neighbours.

use rayon::prelude::*;

use crate::error::{Error, Result};

/// The Euclidean distance between two spectra of the same length.
pub fn distance(a: &[f64], b: &[f64]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::invalid(format!(
            "spectra of different lengths ({} and {}) cannot be compared",
            a.len(),
            b.len()
        )));
    }
    Ok(euclidean(a, b))
}

fn euclidean(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// The symmetric matrix of distances between `size` spectra, stored in full, row-major:
/// row `i` holds the distances from spectrum `i` to every spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceMatrix {
    size: usize,
    values: Vec<f64>,
}

impl DistanceMatrix {
    /// The number of spectra (rows and columns).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The distance between spectra `i` and `j`; `None` if either is out of range.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        (i < self.size && j < self.size).then(|| self.values[i * self.size + j])
    }

    /// Distances from spectrum `i` to every spectrum; `None` if `i` is out of range.
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        (i < self.size).then(|| &self.values[i * self.size..(i + 1) * self.size])
    }

    /// All `size × size` distances, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.values
    }
}

/// All pairwise distances between `spectra`, computed in parallel. The result is exactly
/// symmetric with a zero diagonal. The spectra must share one length and be finite.
pub fn pairwise_distances(spectra: &[Vec<f64>]) -> Result<DistanceMatrix> {
    check_spectra(spectra)?;
    let size = spectra.len();
    let k = spectra.first().map_or(0, Vec::len);
    // Eigenvalue `t` of every spectrum, contiguous: a row is then k passes over contiguous
    // columns, which vectorize, instead of `size` short sums. The sums run over `t` in the
    // same order as `distance`, so the values are the same to the bit.
    let columns: Vec<Vec<f64>> = (0..k)
        .map(|t| spectra.iter().map(|spectrum| spectrum[t]).collect())
        .collect();
    // Zeroed here, in one thread: with lazily zeroed pages (`vec![0.0; n]`) every worker
    // would take page faults on one shared address space, and the kernel then spends more
    // time on them than the distances take.
    let mut values = Vec::with_capacity(size * size);
    values.resize(size * size, 0.0);
    if size > 0 {
        values
            .par_chunks_mut(size)
            .zip(spectra)
            .for_each(|(row, spectrum)| {
                for (&a, column) in spectrum.iter().zip(&columns) {
                    for (out, &b) in row.iter_mut().zip(column) {
                        *out += (a - b) * (a - b);
                    }
                }
                row.iter_mut().for_each(|out| *out = out.sqrt());
            });
    }
    Ok(DistanceMatrix { size, values })
}

/// Another spectrum and its distance from the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    /// Its position in the spectra passed in.
    pub index: usize,
    /// Its Euclidean distance from the query spectrum.
    pub distance: f64,
}

/// The `m` spectra nearest to `spectra[query]`, the query itself excluded, nearest first
/// (ties by index). Fewer than `m` when there are fewer other spectra.
pub fn nearest_neighbours(spectra: &[Vec<f64>], query: usize, m: usize) -> Result<Vec<Neighbour>> {
    check_spectra(spectra)?;
    check_neighbour_count(m)?;
    if query >= spectra.len() {
        return Err(Error::invalid(format!(
            "query {query} is out of range: there are {} spectra",
            spectra.len()
        )));
    }
    Ok(nearest_to(spectra, query, m))
}

/// [`nearest_neighbours`] of every spectrum, in parallel; entry `i` is for spectrum `i`.
/// Memory stays linear in the number of spectra (no distance matrix is formed).
pub fn all_nearest_neighbours(spectra: &[Vec<f64>], m: usize) -> Result<Vec<Vec<Neighbour>>> {
    check_spectra(spectra)?;
    check_neighbour_count(m)?;
    Ok((0..spectra.len())
        .into_par_iter()
        .map(|query| nearest_to(spectra, query, m))
        .collect())
}

fn nearest_to(spectra: &[Vec<f64>], query: usize, m: usize) -> Vec<Neighbour> {
    let mut others: Vec<Neighbour> = spectra
        .iter()
        .enumerate()
        .filter(|&(index, _)| index != query)
        .map(|(index, other)| Neighbour {
            index,
            distance: euclidean(&spectra[query], other),
        })
        .collect();
    let by_distance = |a: &Neighbour, b: &Neighbour| {
        a.distance
            .total_cmp(&b.distance)
            .then(a.index.cmp(&b.index))
    };
    if m < others.len() {
        others.select_nth_unstable_by(m, by_distance);
        others.truncate(m);
    }
    others.sort_unstable_by(by_distance);
    others
}

fn check_neighbour_count(m: usize) -> Result<()> {
    if m == 0 {
        return Err(Error::invalid(
            "the number of neighbours m must be at least 1",
        ));
    }
    Ok(())
}

/// Every spectrum has the length of the first and only finite values.
fn check_spectra(spectra: &[Vec<f64>]) -> Result<()> {
    let Some(first) = spectra.first() else {
        return Ok(());
    };
    for (i, spectrum) in spectra.iter().enumerate() {
        if spectrum.len() != first.len() {
            return Err(Error::invalid(format!(
                "spectrum {i} has {} values but spectrum 0 has {}",
                spectrum.len(),
                first.len()
            )));
        }
        if let Some(j) = spectrum.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "spectrum {i} has a non-finite value {} at position {j}",
                spectrum[j]
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Vec<f64>> {
        vec![
            vec![0.0, 0.0],
            vec![3.0, 4.0],
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![0.0, 0.5],
        ]
    }

    #[test]
    fn distance_is_euclidean_and_checks_lengths() {
        assert_eq!(distance(&[0.0, 0.0], &[3.0, 4.0]).unwrap(), 5.0);
        let err = distance(&[0.0], &[1.0, 2.0]).unwrap_err();
        assert!(err.message.contains("different lengths (1 and 2)"), "{err}");
    }

    #[test]
    fn pairwise_matrix_matches_single_distances() {
        let spectra = sample();
        let matrix = pairwise_distances(&spectra).unwrap();
        assert_eq!(matrix.size(), 5);
        for i in 0..5 {
            for j in 0..5 {
                let expected = distance(&spectra[i], &spectra[j]).unwrap();
                assert_eq!(matrix.get(i, j), Some(expected));
                assert_eq!(matrix.get(i, j), matrix.get(j, i));
            }
            assert_eq!(matrix.row(i).unwrap()[i], 0.0);
        }
        assert_eq!(matrix.get(1, 0), Some(5.0));
        assert_eq!(matrix.get(5, 0), None);
        assert_eq!(matrix.row(5), None);
        assert_eq!(matrix.as_slice().len(), 25);
        assert_eq!(pairwise_distances(&[]).unwrap().size(), 0);
    }

    #[test]
    fn nearest_neighbours_exclude_the_query_and_break_ties_by_index() {
        let spectra = sample();
        let near = nearest_neighbours(&spectra, 0, 3).unwrap();
        let indices: Vec<usize> = near.iter().map(|n| n.index).collect();
        // Distances from 0: 1 -> 5, 2 -> 1, 3 -> 1, 4 -> 0.5.
        assert_eq!(indices, vec![4, 2, 3]);
        assert_eq!(near[0].distance, 0.5);
        assert_eq!(nearest_neighbours(&spectra, 1, 10).unwrap().len(), 4);
        let all = all_nearest_neighbours(&spectra, 2).unwrap();
        for (query, near) in all.iter().enumerate() {
            assert_eq!(near, &nearest_neighbours(&spectra, query, 2).unwrap());
        }
    }

    #[test]
    fn bad_inputs_are_named() {
        let mut spectra = sample();
        let err = nearest_neighbours(&spectra, 5, 1).unwrap_err();
        assert!(err.message.contains("query 5 is out of range"), "{err}");
        let err = nearest_neighbours(&spectra, 0, 0).unwrap_err();
        assert!(err.message.contains("at least 1"), "{err}");
        spectra[3] = vec![1.0];
        let err = pairwise_distances(&spectra).unwrap_err();
        assert!(err.message.contains("spectrum 3 has 1 values"), "{err}");
        spectra[3] = vec![1.0, f64::NAN];
        let err = all_nearest_neighbours(&spectra, 1).unwrap_err();
        assert!(
            err.message
                .contains("spectrum 3 has a non-finite value NaN at position 1"),
            "{err}"
        );
    }
}
