//! Labeled benchmark datasets: every architecture vendored under `data/`, with its family,
//! its spec and its accuracy label, ready to become computation graphs.
//!
//! A graph is a pure function of its spec, and regenerating one takes microseconds, so the
//! binary cache (`cgpredict dataset build`) stores specs, labels and each graph's summary
//! (nodes, edges, parameters, MACs) rather than the graphs themselves, which would take
//! hundreds of megabytes; [`Dataset::graphs`] rebuilds the graphs in parallel.
//!
//! Labels are accuracies in percent, the family's primary measurement:
//! - NAS-Bench-101: CIFAR-10 **validation** accuracy after 108 epochs (the data has no test
//!   accuracy), ×100;
//! - NAS-Bench-201: CIFAR-10 test accuracy after 200 epochs;
//! - NAS-Bench-301: CIFAR-10 validation accuracy (500 labeled genotypes; the other 11,221
//!   have no label);
//! - OFA-MBv3: ImageNet top-1 measured with the supernet, at the row's resolution.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::darts::{CellEdge, DartsOp, Genotype, darts};
use super::nasbench101::Nb101Spec;
use super::nasbench201::Nb201Arch;
use super::ofa::ofa_mbv3;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::Graph;

/// NAS-Bench-201's CIFAR-10 network: classes and input resolution.
const CIFAR10_CLASSES: u32 = 10;
const CIFAR10_RESOLUTION: u32 = 32;

/// An architecture family: a benchmark search space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    Nb101,
    Nb201,
    Nb301,
    OfaMbv3,
}

impl Family {
    /// Every family, in a fixed order.
    pub const ALL: [Family; 4] = [Family::Nb101, Family::Nb201, Family::Nb301, Family::OfaMbv3];

    /// The short name used on the command line and in files (`nb101`, ..., `ofa_mbv3`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Nb101 => "nb101",
            Family::Nb201 => "nb201",
            Family::Nb301 => "nb301",
            Family::OfaMbv3 => "ofa_mbv3",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Family {
    type Err = Error;

    fn from_str(name: &str) -> Result<Family> {
        Family::ALL
            .into_iter()
            .find(|family| family.name() == name)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown family {name:?}; expected nb101, nb201, nb301 or ofa_mbv3"
                ))
            })
    }
}

/// The architecture of one dataset entry, in its family's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Nb101(Nb101Spec),
    Nb201(Nb201Arch),
    Nb301(Genotype),
    OfaMbv3 {
        ks: Vec<u8>,
        e: Vec<u8>,
        d: Vec<u8>,
        resolution: u32,
    },
}

impl Spec {
    pub fn family(&self) -> Family {
        match self {
            Spec::Nb101(_) => Family::Nb101,
            Spec::Nb201(_) => Family::Nb201,
            Spec::Nb301(_) => Family::Nb301,
            Spec::OfaMbv3 { .. } => Family::OfaMbv3,
        }
    }

    /// The network's computation graph, as the benchmark trained it (NAS-Bench-201 on
    /// CIFAR-10).
    pub fn graph(&self) -> Result<Graph> {
        match self {
            Spec::Nb101(spec) => spec.to_graph(),
            Spec::Nb201(arch) => arch.to_graph(CIFAR10_CLASSES, CIFAR10_RESOLUTION),
            Spec::Nb301(genotype) => darts(genotype),
            Spec::OfaMbv3 {
                ks,
                e,
                d,
                resolution,
            } => ofa_mbv3(ks, e, d, *resolution),
        }
    }
}

/// Size of a graph, kept in the cache so that statistics need no graphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSummary {
    pub nodes: u32,
    pub edges: u32,
    pub params: u64,
    pub macs: u64,
}

impl GraphSummary {
    fn of(graph: &Graph) -> GraphSummary {
        GraphSummary {
            nodes: graph.node_count() as u32,
            edges: graph.edge_count() as u32,
            params: graph.param_count(),
            macs: graph.macs(),
        }
    }
}

/// One architecture with its label (accuracy in percent; `None` when unlabeled).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub spec: Spec,
    pub label: Option<f64>,
    pub summary: GraphSummary,
}

/// Architectures of one or more families.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub records: Vec<Record>,
}

/// The cache's first bytes; the number is the cache format version.
const CACHE_MAGIC: &[u8; 8] = b"CGPDS\x00\x00\x01";

impl Dataset {
    /// Reads every family vendored under `data_dir` (the repository's `data/`), building each
    /// graph once to check it and to record its summary.
    pub fn from_vendored(data_dir: &Path) -> Result<Dataset> {
        let mut rows: Vec<(Spec, Option<f64>)> = Vec::new();
        for family in Family::ALL {
            rows.extend(read_family(data_dir, family)?);
        }
        let records = rows
            .into_par_iter()
            .map(|(spec, label)| {
                let summary = GraphSummary::of(&spec.graph()?);
                Ok(Record {
                    spec,
                    label,
                    summary,
                })
            })
            .collect::<Result<Vec<Record>>>()?;
        Ok(Dataset { records })
    }

    /// The records of one family, in file order.
    pub fn family(&self, family: Family) -> impl Iterator<Item = &Record> + '_ {
        self.records
            .iter()
            .filter(move |record| record.spec.family() == family)
    }

    /// Every record's computation graph, built in parallel, in record order.
    pub fn graphs(&self) -> Result<Vec<Graph>> {
        self.records
            .par_iter()
            .map(|record| record.spec.graph())
            .collect()
    }

    /// The compact binary cache.
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored: Vec<StoredRecord> = self.records.iter().map(StoredRecord::from).collect();
        let mut bytes = CACHE_MAGIC.to_vec();
        bytes.extend(postcard::to_allocvec(&stored).expect("records always serialize"));
        bytes
    }

    /// Reads a cache written by [`Dataset::to_bytes`]; every spec is checked again.
    pub fn from_bytes(bytes: &[u8]) -> Result<Dataset> {
        let body = bytes.strip_prefix(CACHE_MAGIC).ok_or_else(|| {
            Error::parse("not a cgpredict dataset cache of this version (rebuild it with `cgpredict dataset build`)")
        })?;
        let stored: Vec<StoredRecord> = postcard::from_bytes(body)
            .map_err(|error| Error::parse(format!("dataset cache: {error}")))?;
        let records = stored
            .into_iter()
            .enumerate()
            .map(|(index, record)| {
                record
                    .into_record()
                    .map_err(|error| error.context(format_args!("dataset cache record {index}")))
            })
            .collect::<Result<Vec<Record>>>()?;
        Ok(Dataset { records })
    }

    /// Per-family statistics: counts, labels, graph sizes.
    pub fn stats(&self) -> Vec<FamilyStats> {
        Family::ALL
            .into_iter()
            .filter_map(|family| FamilyStats::of(family, self.family(family)))
            .collect()
    }
}

/// What `cgpredict dataset stats` prints for a family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyStats {
    pub family: Family,
    pub architectures: usize,
    pub labeled: usize,
    /// Lowest, median and highest label.
    pub label_range: Option<[f64; 3]>,
    /// Lowest, median, mean and highest node count.
    pub nodes: [f64; 4],
    /// Lowest, median and highest parameter count.
    pub params: [u64; 3],
}

impl FamilyStats {
    fn of<'a>(family: Family, records: impl Iterator<Item = &'a Record>) -> Option<FamilyStats> {
        let records: Vec<&Record> = records.collect();
        if records.is_empty() {
            return None;
        }
        let mut labels: Vec<f64> = records.iter().filter_map(|record| record.label).collect();
        labels.sort_by(f64::total_cmp);
        let mut nodes: Vec<u32> = records.iter().map(|record| record.summary.nodes).collect();
        nodes.sort_unstable();
        let mut params: Vec<u64> = records.iter().map(|record| record.summary.params).collect();
        params.sort_unstable();
        let mean_nodes = nodes.iter().map(|&n| f64::from(n)).sum::<f64>() / nodes.len() as f64;
        Some(FamilyStats {
            family,
            architectures: records.len(),
            labeled: labels.len(),
            label_range: (!labels.is_empty()).then(|| {
                [
                    labels[0],
                    labels[labels.len() / 2],
                    labels[labels.len() - 1],
                ]
            }),
            nodes: [
                f64::from(nodes[0]),
                f64::from(nodes[nodes.len() / 2]),
                mean_nodes,
                f64::from(nodes[nodes.len() - 1]),
            ],
            params: [
                params[0],
                params[params.len() / 2],
                params[params.len() - 1],
            ],
        })
    }
}

/// The zero-cost proxies of the paper's Table 1, as the columns of `data/zero_cost/` name them.
pub const ZERO_COST_PROXIES: [&str; 6] =
    ["synflow", "jacov", "fisher", "grad_norm", "grasp", "snip"];

/// One architecture of a zero-cost subset (NAS-Bench-Suite-Zero, NASLib): its spec, its
/// validation accuracy (%) as NASLib stores it, and its proxy scores.
#[derive(Debug, Clone, PartialEq)]
pub struct ZeroCostRecord {
    pub spec: Spec,
    pub val_accuracy: f64,
    /// Scores of [`ZERO_COST_PROXIES`], in that order.
    pub scores: [f64; ZERO_COST_PROXIES.len()],
}

/// Reads the zero-cost subset of `family` vendored under `data_dir/zero_cost/` (NAS-Bench-101:
/// 500 cells, pruned; NAS-Bench-201: the 491 CIFAR-10 rows; NAS-Bench-301: 500 genotypes).
/// OFA-MBv3 has no zero-cost subset: an error says so.
pub fn read_zero_cost(data_dir: &Path, family: Family) -> Result<Vec<ZeroCostRecord>> {
    let scores = |row: &Row| -> Result<[f64; ZERO_COST_PROXIES.len()]> {
        let mut scores = [0.0; ZERO_COST_PROXIES.len()];
        for (score, proxy) in scores.iter_mut().zip(ZERO_COST_PROXIES) {
            *score = row.number(proxy)?;
        }
        Ok(scores)
    };
    let record = |spec: Spec, row: &Row| -> Result<Option<ZeroCostRecord>> {
        Ok(Some(ZeroCostRecord {
            spec,
            val_accuracy: row.number("val_accuracy")?,
            scores: scores(row)?,
        }))
    };
    let rows = match family {
        Family::Nb101 => read_table(data_dir, "zero_cost/nb101_500.csv.gz", |row| {
            let spec = Nb101Spec::pruned_from_json(row.get("adjacency")?, row.get("ops")?)?;
            record(Spec::Nb101(spec.canonical()), row)
        })?,
        Family::Nb201 => read_table(data_dir, "zero_cost/nb201_491x3.csv.gz", |row| {
            if row.get("dataset")? != "cifar10" {
                return Ok(None);
            }
            record(Spec::Nb201(row.get("arch_str")?.parse()?), row)
        })?,
        Family::Nb301 => read_table(data_dir, "zero_cost/nb301_500.csv.gz", |row| {
            let genotype =
                Genotype::from_cells(row.get("genotype_normal")?, row.get("genotype_reduce")?)?;
            record(Spec::Nb301(genotype), row)
        })?,
        Family::OfaMbv3 => {
            return Err(Error::invalid(
                "zero-cost scores: the vendored data has none for ofa_mbv3 (only nb101, nb201, nb301)",
            ));
        }
    };
    Ok(rows.into_iter().flatten().collect())
}

/// Op histogram over every graph of a family, keyed by op spelling.
pub fn op_histogram(graphs: &[Graph]) -> BTreeMap<String, usize> {
    let mut histogram = BTreeMap::new();
    for graph in graphs {
        for (op, count) in graph.op_histogram() {
            *histogram.entry(op).or_insert(0) += count;
        }
    }
    histogram
}

/// The rows of one family's vendored files under `data_dir`: each architecture's spec and
/// label (accuracy in percent, as in [`Record`]), without building any graph.
pub fn read_family(data_dir: &Path, family: Family) -> Result<Vec<(Spec, Option<f64>)>> {
    match family {
        Family::Nb101 => read_table(data_dir, "nasbench101/nb101_20001.csv.gz", |row| {
            let spec = Nb101Spec::from_json(row.get("adjacency")?, row.get("ops")?)?;
            // The file's accuracies are fractions.
            Ok((
                Spec::Nb101(spec.canonical()),
                Some(100.0 * row.number("val_acc_108ep")?),
            ))
        }),
        Family::Nb201 => read_table(data_dir, "nasbench201/nb201_15625.csv.gz", |row| {
            let arch: Nb201Arch = row.get("arch_str")?.parse()?;
            Ok((Spec::Nb201(arch), Some(row.number("cifar10_test_200ep")?)))
        }),
        Family::Nb301 => {
            let mut rows = read_table(data_dir, "nasbench301/nb301_labeled_500.csv.gz", |row| {
                let genotype =
                    Genotype::from_cells(row.get("genotype_normal")?, row.get("genotype_reduce")?)?;
                Ok((Spec::Nb301(genotype), Some(row.number("val_accuracy")?)))
            })?;
            rows.extend(read_table(
                data_dir,
                "nasbench301/nb301_unlabeled_11221.csv.gz",
                |row| {
                    let genotype = Genotype::from_cells(
                        row.get("genotype_normal")?,
                        row.get("genotype_reduce")?,
                    )?;
                    Ok((Spec::Nb301(genotype), None))
                },
            )?);
            Ok(rows)
        }
        Family::OfaMbv3 => read_table(data_dir, "ofa_mbv3/ofa_mbv3_subnets_2223.csv.gz", |row| {
            let list = |column: &str| -> Result<Vec<u8>> {
                serde_json::from_str(row.get(column)?)
                    .map_err(|error| Error::parse(format!("column {column}: {error}")))
            };
            let resolution = row.get("r")?;
            let resolution = resolution.parse().map_err(|_| {
                Error::parse(format!("column r: {resolution:?} is not a resolution"))
            })?;
            let spec = Spec::OfaMbv3 {
                ks: list("ks")?,
                e: list("e")?,
                d: list("d")?,
                resolution,
            };
            Ok((spec, Some(row.number("top1_mean")?)))
        }),
    }
}

/// One CSV row with its header, for reading columns by name.
pub(super) struct Row<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    pub(super) fn get(&self, column: &str) -> Result<&str> {
        self.headers
            .iter()
            .position(|name| name == column)
            .and_then(|index| self.record.get(index))
            .ok_or_else(|| Error::parse(format!("no column {column:?}")))
    }

    pub(super) fn number(&self, column: &str) -> Result<f64> {
        let text = self.get(column)?;
        text.parse()
            .map_err(|_| Error::parse(format!("column {column}: {text:?} is not a number")))
    }

    /// A number, or `None` for an empty field (a value the file does not give).
    pub(super) fn optional_number(&self, column: &str) -> Result<Option<f64>> {
        match self.get(column)? {
            "" => Ok(None),
            _ => self.number(column).map(Some),
        }
    }
}

/// Reads a CSV of `data_dir` (gzipped when its name ends in `.gz`), turning each row into a
/// value; errors name the file and the line.
pub(super) fn read_table<T>(
    data_dir: &Path,
    relative: &str,
    mut parse: impl FnMut(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let path = data_dir.join(relative);
    let file =
        std::fs::File::open(&path).map_err(|error| Error::from(error).context(path.display()))?;
    let mut text = String::new();
    let read = if relative.ends_with(".gz") {
        flate2::read::GzDecoder::new(file).read_to_string(&mut text)
    } else {
        (&file).read_to_string(&mut text)
    };
    read.map_err(|error| Error::from(error).context(path.display()))?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| Error::parse(format!("{}: {error}", path.display())))?
        .clone();
    let mut values = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // Line 1 is the header.
        let line = index + 2;
        let record =
            record.map_err(|error| Error::parse(format!("{}: {error}", path.display())))?;
        let value = parse(&Row {
            headers: &headers,
            record: &record,
        })
        .map_err(|error| {
            error
                .context(format_args!("{} line {line}", path.display()))
                .with_kind(ErrorKind::Parse)
        })?;
        values.push(value);
    }
    Ok(values)
}

/// A record in the cache: specs in their benchmarks' own spelling, so that the cache does
/// not depend on the in-memory layout of the spec types.
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    spec: StoredSpec,
    label: Option<f64>,
    summary: GraphSummary,
}

#[derive(Serialize, Deserialize)]
enum StoredSpec {
    Nb101 {
        n: u8,
        adjacency: Vec<u8>,
        ops: Vec<String>,
    },
    Nb201 {
        arch: String,
    },
    Nb301 {
        normal: Vec<(String, u8)>,
        reduce: Vec<(String, u8)>,
    },
    OfaMbv3 {
        ks: Vec<u8>,
        e: Vec<u8>,
        d: Vec<u8>,
        resolution: u32,
    },
}

impl From<&Record> for StoredRecord {
    fn from(record: &Record) -> StoredRecord {
        let cell = |edges: &[CellEdge; 8]| {
            edges
                .iter()
                .map(|edge| (edge.op.name().to_owned(), edge.input))
                .collect()
        };
        let spec = match &record.spec {
            Spec::Nb101(spec) => {
                let n = spec.num_vertices();
                StoredSpec::Nb101 {
                    n: n as u8,
                    adjacency: (0..n * n)
                        .map(|i| u8::from(spec.has_edge(i / n, i % n)))
                        .collect(),
                    ops: (0..n)
                        .map(|vertex| nb101_vertex_name(spec, vertex).to_owned())
                        .collect(),
                }
            }
            Spec::Nb201(arch) => StoredSpec::Nb201 {
                arch: arch.to_string(),
            },
            Spec::Nb301(genotype) => StoredSpec::Nb301 {
                normal: cell(genotype.normal()),
                reduce: cell(genotype.reduce()),
            },
            Spec::OfaMbv3 {
                ks,
                e,
                d,
                resolution,
            } => StoredSpec::OfaMbv3 {
                ks: ks.clone(),
                e: e.clone(),
                d: d.clone(),
                resolution: *resolution,
            },
        };
        StoredRecord {
            spec,
            label: record.label,
            summary: record.summary,
        }
    }
}

fn nb101_vertex_name(spec: &Nb101Spec, vertex: usize) -> &'static str {
    match spec.op(vertex) {
        Some(op) => op.name(),
        None if vertex == 0 => "input",
        None => "output",
    }
}

impl StoredRecord {
    fn into_record(self) -> Result<Record> {
        let cell = |edges: Vec<(String, u8)>| -> Result<[CellEdge; 8]> {
            let edges = edges
                .into_iter()
                .map(|(op, input)| {
                    Ok(CellEdge {
                        op: DartsOp::from_name(&op)?,
                        input,
                    })
                })
                .collect::<Result<Vec<CellEdge>>>()?;
            let count = edges.len();
            edges
                .try_into()
                .map_err(|_| Error::parse(format!("a cell has {count} edges, not 8")))
        };
        let spec = match self.spec {
            StoredSpec::Nb101 { n, adjacency, ops } => {
                let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
                Spec::Nb101(Nb101Spec::new(&adjacency, usize::from(n), &ops)?)
            }
            StoredSpec::Nb201 { arch } => Spec::Nb201(arch.parse()?),
            StoredSpec::Nb301 { normal, reduce } => {
                Spec::Nb301(Genotype::new(cell(normal)?, cell(reduce)?)?)
            }
            StoredSpec::OfaMbv3 {
                ks,
                e,
                d,
                resolution,
            } => Spec::OfaMbv3 {
                ks,
                e,
                d,
                resolution,
            },
        };
        Ok(Record {
            spec,
            label: self.label,
            summary: self.summary,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
    }

    #[test]
    fn vendored_families_load_with_their_labels_and_survive_the_cache() {
        let dataset = Dataset::from_vendored(data_dir()).unwrap();
        let count = |family| dataset.family(family).count();
        let labeled = |family| dataset.family(family).filter(|r| r.label.is_some()).count();
        assert_eq!(
            (count(Family::Nb101), labeled(Family::Nb101)),
            (20_001, 20_001)
        );
        assert_eq!(
            (count(Family::Nb201), labeled(Family::Nb201)),
            (15_625, 15_625)
        );
        assert_eq!(
            (count(Family::Nb301), labeled(Family::Nb301)),
            (11_721, 500)
        );
        assert_eq!(
            (count(Family::OfaMbv3), labeled(Family::OfaMbv3)),
            (2_223, 2_223)
        );

        // The best NAS-Bench-201 cells on CIFAR-10: rows 6111 and 13714 tie at 94.3733.
        let best: Vec<String> = dataset
            .family(Family::Nb201)
            .filter(|record| record.label.unwrap() > 94.37)
            .map(|record| match &record.spec {
                Spec::Nb201(arch) => arch.to_string(),
                other => panic!("{other:?} in the NB-201 family"),
            })
            .collect();
        assert_eq!(
            best,
            [
                "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
                "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
            ]
        );

        let bytes = dataset.to_bytes();
        let back = Dataset::from_bytes(&bytes).unwrap();
        assert_eq!(back, dataset);
    }

    #[test]
    fn damaged_caches_are_refused() {
        assert!(
            Dataset::from_bytes(b"not a cache")
                .unwrap_err()
                .message
                .contains("not a cgpredict dataset cache")
        );
        let mut bytes = Dataset::default().to_bytes();
        bytes.push(0xff);
        bytes[CACHE_MAGIC.len()] = 0x05; // claims five records
        assert_eq!(
            Dataset::from_bytes(&bytes).unwrap_err().kind,
            ErrorKind::Parse
        );
    }

    #[test]
    fn family_names_round_trip() {
        for family in Family::ALL {
            assert_eq!(family.name().parse::<Family>().unwrap(), family);
        }
        assert!(
            "nb999"
                .parse::<Family>()
                .unwrap_err()
                .message
                .contains("unknown family")
        );
    }
}
