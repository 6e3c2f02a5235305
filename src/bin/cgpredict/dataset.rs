//! `cgpredict dataset ...`: the vendored benchmark data as labeled computation graphs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cgpredict::import::dataset::{Dataset, Family, op_histogram};
use cgpredict::{Error, Result};
use clap::Subcommand;

/// Where `dataset build` writes the cache unless told otherwise.
const DEFAULT_CACHE: &str = ".cache/datasets.bin";

#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Read every vendored family, check each architecture builds, and write the binary cache.
    Build {
        /// The vendored data directory.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// The cache file to write.
        #[arg(long, default_value = DEFAULT_CACHE)]
        out: PathBuf,
    },
    /// Per family: architectures, labels, graph sizes and the op histogram.
    Stats {
        /// The cache to read (written by `dataset build`); read `--data` instead when absent.
        #[arg(long, default_value = DEFAULT_CACHE)]
        cache: PathBuf,
        /// The vendored data directory, read when there is no cache.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Print the statistics as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: DatasetCommand) -> Result<()> {
    match command {
        DatasetCommand::Build { data, out } => {
            let start = Instant::now();
            let dataset = Dataset::from_vendored(&data)?;
            let bytes = dataset.to_bytes();
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|error| Error::from(error).context(parent.display()))?;
            }
            std::fs::write(&out, &bytes)
                .map_err(|error| Error::from(error).context(out.display()))?;
            println!(
                "{} architectures, {} bytes, written to {} in {:.1} s",
                dataset.records.len(),
                bytes.len(),
                out.display(),
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        DatasetCommand::Stats { cache, data, json } => {
            let dataset = load(&cache, &data)?;
            print!("{}", stats(&dataset, json)?);
            Ok(())
        }
    }
}

/// The cache when it exists, the vendored files otherwise.
pub fn load(cache: &Path, data: &Path) -> Result<Dataset> {
    match std::fs::read(cache) {
        Ok(bytes) => Dataset::from_bytes(&bytes).map_err(|error| error.context(cache.display())),
        Err(_) => Dataset::from_vendored(data),
    }
}

fn stats(dataset: &Dataset, json: bool) -> Result<String> {
    let mut families = Vec::new();
    for stats in dataset.stats() {
        let family = Dataset {
            records: dataset.family(stats.family).cloned().collect(),
        };
        families.push((stats, op_histogram(&family.graphs()?)));
    }
    if json {
        let value: Vec<serde_json::Value> = families
            .iter()
            .map(|(stats, ops)| serde_json::json!({"stats": stats, "ops": ops}))
            .collect();
        return Ok(format!("{:#}\n", serde_json::Value::Array(value)));
    }
    let mut text = String::new();
    for (stats, ops) in families {
        text.push_str(&format!(
            "{}: {} architectures, {} labeled\n",
            family_title(stats.family),
            stats.architectures,
            stats.labeled
        ));
        if let Some([low, median, high]) = stats.label_range {
            text.push_str(&format!(
                "  accuracy %   min {low:.2}  median {median:.2}  max {high:.2}\n"
            ));
        }
        let [low, median, mean, high] = stats.nodes;
        text.push_str(&format!(
            "  nodes        min {low}  median {median}  mean {mean:.1}  max {high}\n"
        ));
        let [low, median, high] = stats.params;
        text.push_str(&format!(
            "  parameters   min {low}  median {median}  max {high}\n"
        ));
        text.push_str("  ops         ");
        for (op, count) in ops {
            text.push_str(&format!(" {op}:{count}"));
        }
        text.push('\n');
    }
    Ok(text)
}

fn family_title(family: Family) -> &'static str {
    match family {
        Family::Nb101 => "NAS-Bench-101 (nb101)",
        Family::Nb201 => "NAS-Bench-201 (nb201)",
        Family::Nb301 => "NAS-Bench-301 (nb301)",
        Family::OfaMbv3 => "OFA MobileNetV3 (ofa_mbv3)",
    }
}
