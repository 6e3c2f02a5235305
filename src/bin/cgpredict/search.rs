//! `cgpredict search`: random search, regularized evolution and the predictor-guided EA on a
//! benchmark space, several runs each, with their best accuracy, rank and query count.

use std::path::PathBuf;

use cgpredict::runtime::{Predictor, PredictorOptions};
use cgpredict::search::{
    EvolutionConfig, GuidedConfig, Method, Nb101Space, Nb201Space, OfaAccuracyPredictor, OfaSpace,
    Oracle, PredictorScorer, ScaleScorer, Scorer, SearchSpace, Table, nb101_table, nb201_table,
    search,
};
use cgpredict::{Error, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

#[derive(Args)]
pub struct SearchArgs {
    /// The search space: nb201 (all 15,625 cells), nb101 (the 20,001 labeled cells), ofa
    /// (OFA-MobileNetV3; oracle: OFA's published accuracy predictor).
    #[arg(long, value_enum)]
    space: SpaceName,
    /// Unique oracle queries per run (#Q), warm-up (fine-tuning) labels included.
    #[arg(long)]
    queries: usize,
    /// Independent runs per method (seeds seed, seed+1, ...).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// The first run's seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The methods to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "random,evolution,predictor"
    )]
    methods: Vec<MethodName>,
    /// The cgpredict model of the predictor-guided EA (default: the bundled model, when this
    /// build has one).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The vendored data directory.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// OFA only: the largest subnet to consider, in millions of MACs.
    #[arg(long)]
    max_macs: Option<f64>,
    /// Regularized evolution: population size (default per space, at most the budget).
    #[arg(long)]
    population: Option<usize>,
    /// Regularized evolution: tournament size (default per space).
    #[arg(long)]
    tournament: Option<usize>,
    /// Predictor-guided EA: random warm-up queries that first adapt the predictor (default per
    /// space, at most half the budget).
    #[arg(long)]
    warmup: Option<usize>,
    /// Predictor-guided EA: labels needed before the ridge head replaces the model's own
    /// score (default: the warm-up size).
    #[arg(long)]
    adapt_from: Option<usize>,
    /// Predictor-guided EA: candidates the predictor screens per generation.
    #[arg(long)]
    candidates: Option<usize>,
    /// Predictor-guided EA: the last queries, spent on the neighbours of the best found
    /// (default: a fifth of the budget).
    #[arg(long)]
    refine: Option<usize>,
    /// Predictor-guided EA: candidates sent to the oracle per generation.
    #[arg(long)]
    batch: Option<usize>,
    /// Print the report as JSON (with every run's best-so-far curve).
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SpaceName {
    Nb201,
    Nb101,
    Ofa,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MethodName {
    Random,
    Evolution,
    Predictor,
    /// The guided EA with log MACs (then least squares on log MACs and log params) in place
    /// of the predictor: what the predictor must beat.
    Macs,
}

/// Mean and standard deviation (n - 1; 0 for one run) over runs.
#[derive(Serialize)]
struct Stats {
    mean: f64,
    std: f64,
}

impl Stats {
    fn of(values: &[f64]) -> Stats {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Stats {
            mean,
            std: variance.sqrt(),
        }
    }
}

#[derive(Serialize)]
struct RunReport {
    seed: u64,
    accuracy: f64,
    /// 1 + architectures of the table strictly more accurate.
    rank: Option<usize>,
    queries: usize,
    best: String,
    best_so_far: Vec<f64>,
}

#[derive(Serialize)]
struct MethodReport {
    name: &'static str,
    config: Method,
    accuracy: Stats,
    rank: Option<Stats>,
    /// #Q of every run (all equal to the budget).
    queries: Vec<usize>,
    runs: Vec<RunReport>,
}

#[derive(Serialize)]
struct TableInfo {
    architectures: usize,
    best: f64,
}

#[derive(Serialize)]
struct Report {
    space: &'static str,
    oracle: &'static str,
    table: Option<TableInfo>,
    budget: usize,
    seed: u64,
    model: Option<String>,
    methods: Vec<MethodReport>,
}

/// Per-space defaults: (population, tournament) of regularized evolution; warm-up, parents,
/// candidates, batch and mutations of the guided EA.
fn defaults(space: SpaceName) -> (EvolutionConfig, GuidedConfig) {
    let (population, tournament, warmup, parents, candidates, batch) = match space {
        SpaceName::Nb201 => (20, 5, 10, 10, 500, 5),
        SpaceName::Nb101 => (50, 10, 20, 20, 1000, 10),
        SpaceName::Ofa => (50, 10, 50, 20, 1000, 10),
    };
    (
        EvolutionConfig {
            population,
            tournament,
        },
        GuidedConfig {
            warmup,
            parents,
            candidates,
            batch,
            max_mutations: 2,
            // A fifth of the budget, set with the budget in `run_space`.
            refine: 0,
        },
    )
}

pub fn run(args: SearchArgs) -> Result<()> {
    if args.runs == 0 {
        return Err(Error::invalid("--runs must be at least 1"));
    }
    if args.max_macs.is_some() && args.space != SpaceName::Ofa {
        return Err(Error::invalid("--max-macs applies to --space ofa only"));
    }
    let predictor = if args.methods.contains(&MethodName::Predictor) {
        let options = PredictorOptions {
            model: args.model.clone(),
            ..PredictorOptions::default()
        };
        Some(Predictor::open(&options).map_err(|error| {
            error.context(
                "the predictor-guided EA needs a model (give --model FILE, or \
                 --methods random,evolution for the baselines only)",
            )
        })?)
    } else {
        None
    };
    let report = match args.space {
        SpaceName::Nb201 => {
            let table = nb201_table(&args.data)?;
            let oracle = "NAS-Bench-201 CIFAR-10 test accuracy after 200 epochs (all 15,625 cells)";
            run_space(
                &args,
                &Nb201Space,
                &table,
                Some(&table),
                oracle,
                predictor.as_ref(),
            )?
        }
        SpaceName::Nb101 => {
            let table = nb101_table(&args.data)?;
            let space = Nb101Space::new(table.entries().iter().map(|(cell, _)| cell.clone()))?;
            let oracle = "NAS-Bench-101 CIFAR-10 validation accuracy after 108 epochs \
                          (the 20,001 labeled cells; the search is restricted to them)";
            run_space(
                &args,
                &space,
                &table,
                Some(&table),
                oracle,
                predictor.as_ref(),
            )?
        }
        SpaceName::Ofa => {
            let path = args.data.join("ofa_mbv3/ofa_official_acc_predictor.npz");
            let oracle = OfaAccuracyPredictor::from_npz(&path)?;
            let max_macs = args.max_macs.map(|millions| (millions * 1e6) as u64);
            let space = OfaSpace::new(max_macs)?;
            let description = "OFA's published accuracy predictor (ImageNet top-1, a stand-in \
                               for the supernet; about 5.9 points above measured)";
            run_space::<OfaSpace>(
                &args,
                &space,
                &oracle,
                None,
                description,
                predictor.as_ref(),
            )?
        }
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|error| Error::invalid(format!("cannot write the report: {error}")))?;
        println!("{text}");
    } else {
        print!("{}", text_report(&report));
    }
    Ok(())
}

fn run_space<S: SearchSpace>(
    args: &SearchArgs,
    space: &S,
    oracle: &dyn Oracle<S::Arch>,
    table: Option<&Table<S::Arch>>,
    description: &'static str,
    predictor: Option<&Predictor>,
) -> Result<Report> {
    let budget = args.queries;
    let (evolution, guided) = defaults(args.space);
    let population = args
        .population
        .unwrap_or(evolution.population.min(budget.max(1)));
    let evolution = EvolutionConfig {
        population,
        tournament: args
            .tournament
            .unwrap_or(evolution.tournament.min(population)),
    };
    let guided = GuidedConfig {
        warmup: args.warmup.unwrap_or(guided.warmup.min(budget / 2)),
        candidates: args.candidates.unwrap_or(guided.candidates),
        batch: args.batch.unwrap_or(guided.batch),
        refine: args.refine.unwrap_or(budget / 5),
        ..guided
    };
    let adapt_from = args.adapt_from.unwrap_or(guided.warmup);
    let mut scorer = predictor.map(|p| PredictorScorer::new(p, space, adapt_from));
    let mut scale_scorer = ScaleScorer::new(space, adapt_from);
    let mut methods = Vec::new();
    for name in &args.methods {
        let method = match name {
            MethodName::Random => Method::Random,
            MethodName::Evolution => Method::Evolution(evolution),
            MethodName::Predictor | MethodName::Macs => Method::Guided(guided),
        };
        let mut runs = Vec::new();
        for run in 0..args.runs {
            let seed = args.seed + run as u64;
            let scorer = match name {
                MethodName::Macs => Some(&mut scale_scorer as &mut dyn Scorer<S::Arch>),
                _ => scorer.as_mut().map(|s| s as &mut dyn Scorer<S::Arch>),
            };
            let outcome = search(space, oracle, &method, scorer, budget, seed)
                .map_err(|error| error.context(format!("{} (seed {seed})", method.name())))?;
            runs.push(RunReport {
                seed,
                accuracy: outcome.accuracy,
                rank: table.map(|table| table.rank(outcome.accuracy)),
                queries: outcome.queries,
                best: space.describe(&outcome.best),
                best_so_far: outcome.best_so_far,
            });
        }
        let accuracies: Vec<f64> = runs.iter().map(|run| run.accuracy).collect();
        let ranks: Option<Vec<f64>> = runs.iter().map(|run| run.rank.map(|r| r as f64)).collect();
        methods.push(MethodReport {
            name: match name {
                MethodName::Macs => "MACs-guided EA",
                _ => display_name(&method),
            },
            config: method,
            accuracy: Stats::of(&accuracies),
            rank: ranks.map(|ranks| Stats::of(&ranks)),
            queries: runs.iter().map(|run| run.queries).collect(),
            runs,
        });
    }
    Ok(Report {
        space: space.name(),
        oracle: description,
        table: table.map(|table| TableInfo {
            architectures: table.len(),
            best: table.best(),
        }),
        budget,
        seed: args.seed,
        model: predictor.map(|_| {
            args.model
                .as_ref()
                .map_or_else(|| "bundled default".to_owned(), |p| p.display().to_string())
        }),
        methods,
    })
}

fn display_name(method: &Method) -> &'static str {
    match method {
        Method::Random => "random search",
        Method::Evolution(_) => "regularized evolution",
        Method::Guided(_) => "predictor-guided EA",
    }
}

fn text_report(report: &Report) -> String {
    let runs = report.methods.first().map_or(0, |m| m.runs.len());
    let mut text = format!(
        "space {}, oracle: {}\n{} queries per run, {} runs from seed {}",
        report.space, report.oracle, report.budget, runs, report.seed
    );
    if let Some(table) = &report.table {
        text.push_str(&format!(
            "; table: {} architectures, best {:.2}",
            table.architectures, table.best
        ));
    }
    if let Some(model) = &report.model {
        text.push_str(&format!("; model: {model}"));
    }
    text.push_str(&format!(
        "\n{:<24} {:>18} {:>18} {:>6}\n",
        "method", "best acc. (%)", "rank", "#Q"
    ));
    for method in &report.methods {
        let accuracy = format!("{:.2} ± {:.2}", method.accuracy.mean, method.accuracy.std);
        let rank = method.rank.as_ref().map_or_else(
            || "-".to_owned(),
            |rank| format!("{:.1} ± {:.1}", rank.mean, rank.std),
        );
        let queries = method.queries.iter().max().copied().unwrap_or(0);
        text.push_str(&format!(
            "{:<24} {:>18} {:>18} {:>6}\n",
            method.name, accuracy, rank, queries
        ));
    }
    text
}
