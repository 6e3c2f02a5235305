//! Search algorithms in one harness: random search, regularized evolution, and the
//! predictor-guided evolutionary algorithm. All spend the same kind of budget: unique oracle
//! queries ([`Queries`]).

use std::collections::{HashSet, VecDeque};

use rand::seq::index::sample as sample_indices;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use super::oracle::{Oracle, Queries};
use super::score::{Scorer, order_best_first};
use super::space::{SearchRng, SearchSpace};
use crate::error::{Error, Result};

/// Mutations tried to find a child not queried yet before drawing a fresh sample instead.
const CHILD_TRIES: usize = 100;
/// Samples tried to find an architecture not queried yet before giving up.
const SAMPLE_TRIES: usize = 1_000_000;

/// Regularized evolution (Real et al. 2019, "aging evolution"): a population of the last
/// `population` queried architectures, first filled with random ones; each step draws
/// `tournament` members at random (without replacement), mutates the most accurate of them,
/// queries the child, adds it and removes the oldest member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EvolutionConfig {
    pub population: usize,
    pub tournament: usize,
}

/// The predictor-guided evolutionary algorithm.
///
/// 1. `warmup` random architectures are queried, and the scorer learns from them (the
///    paper's fine-tuning set; these queries count).
/// 2. Each generation, `candidates` distinct children not yet queried are made by mutating
///    (1 to `max_mutations` times) parents drawn from the `parents` most accurate queried
///    architectures; the scorer ranks them, the best `batch` are queried, and the scorer
///    learns from every label so far. Repeat until `refine` queries are left.
/// 3. The last `refine` queries refine the best architecture found: candidates are single
///    mutations of it only (its neighbours), screened the same way; when every neighbour is
///    queried, generations go on as in 2. Evolution over many parents finds the good region,
///    but its best is often one edit away from a better one, which the scorer cannot tell
///    apart from the rest of the region until it has labels from that neighbourhood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GuidedConfig {
    pub warmup: usize,
    pub parents: usize,
    pub candidates: usize,
    pub batch: usize,
    pub max_mutations: usize,
    pub refine: usize,
}

/// A search method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// Uniform samples, each architecture once.
    Random,
    /// [`EvolutionConfig`]: evolution without a predictor.
    Evolution(EvolutionConfig),
    /// [`GuidedConfig`]: evolution whose candidates a [`Scorer`] screens.
    Guided(GuidedConfig),
}

impl Method {
    /// A short name: `random`, `evolution`, `predictor`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Random => "random",
            Method::Evolution(_) => "evolution",
            Method::Guided(_) => "predictor",
        }
    }

    /// Checks the settings against a budget.
    fn check(&self, budget: usize) -> Result<()> {
        let positive = |value: usize, name: &str| {
            if value == 0 {
                Err(Error::invalid(format!(
                    "{}: {name} must be at least 1",
                    self.name()
                )))
            } else {
                Ok(())
            }
        };
        match *self {
            Method::Random => Ok(()),
            Method::Evolution(config) => {
                positive(config.population, "the population")?;
                positive(config.tournament, "the tournament size")?;
                if config.tournament > config.population {
                    return Err(Error::invalid(format!(
                        "evolution: a tournament of {} from a population of {}",
                        config.tournament, config.population
                    )));
                }
                Ok(())
            }
            Method::Guided(config) => {
                positive(config.parents, "parents")?;
                positive(config.candidates, "candidates")?;
                positive(config.batch, "the batch")?;
                positive(config.max_mutations, "max mutations")?;
                if config.warmup >= budget {
                    return Err(Error::invalid(format!(
                        "predictor: {} warm-up queries leave nothing of a budget of {budget}",
                        config.warmup
                    )));
                }
                Ok(())
            }
        }
    }
}

/// What one search run found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<A> {
    /// The most accurate architecture queried.
    pub best: A,
    /// Its accuracy (%).
    pub accuracy: f64,
    /// Unique oracle queries spent (#Q).
    pub queries: usize,
    /// After each query, the best accuracy so far.
    pub best_so_far: Vec<f64>,
}

/// Runs `method` on `space` against `oracle` with a budget of `budget` unique queries, from
/// `seed`. The guided method needs a `scorer`, which is [`Scorer::reset`] first.
pub fn search<S: SearchSpace>(
    space: &S,
    oracle: &dyn Oracle<S::Arch>,
    method: &Method,
    scorer: Option<&mut dyn Scorer<S::Arch>>,
    budget: usize,
    seed: u64,
) -> Result<Outcome<S::Arch>> {
    if budget == 0 {
        return Err(Error::invalid(
            "a search needs a budget of at least 1 query",
        ));
    }
    if let Some(size) = space.size()
        && budget > size
    {
        return Err(Error::invalid(format!(
            "a budget of {budget} queries exceeds the {size} architectures of {}",
            space.name()
        )));
    }
    method.check(budget)?;
    let mut rng = SearchRng::seed_from_u64(seed);
    let mut queries = Queries::new(oracle, budget);
    match method {
        Method::Random => random_search(space, &mut queries, &mut rng)?,
        Method::Evolution(config) => regularized_evolution(space, &mut queries, config, &mut rng)?,
        Method::Guided(config) => {
            let scorer = scorer.ok_or_else(|| {
                Error::invalid("the predictor-guided search needs a scorer (a model)")
            })?;
            scorer.reset();
            guided_evolution(space, &mut queries, scorer, config, &mut rng)?
        }
    }
    let (best, accuracy) = queries
        .best()
        .cloned()
        .expect("a budget of at least 1 was spent");
    Ok(Outcome {
        best,
        accuracy,
        queries: queries.count(),
        best_so_far: queries.best_so_far(),
    })
}

/// Queries uniform samples until the budget is spent.
pub fn random_search<S: SearchSpace>(
    space: &S,
    queries: &mut Queries<S::Arch>,
    rng: &mut SearchRng,
) -> Result<()> {
    while queries.remaining() > 0 {
        let arch = fresh_sample(space, queries, rng)?;
        queries.query(&arch)?;
    }
    Ok(())
}

/// Regularized evolution (see [`EvolutionConfig`]) until the budget is spent.
pub fn regularized_evolution<S: SearchSpace>(
    space: &S,
    queries: &mut Queries<S::Arch>,
    config: &EvolutionConfig,
    rng: &mut SearchRng,
) -> Result<()> {
    let mut population: VecDeque<(S::Arch, f64)> = VecDeque::with_capacity(config.population);
    while population.len() < config.population && queries.remaining() > 0 {
        let arch = fresh_sample(space, queries, rng)?;
        let accuracy = queries.query(&arch)?;
        population.push_back((arch, accuracy));
    }
    while queries.remaining() > 0 {
        let tournament = sample_indices(rng, population.len(), config.tournament);
        let parent = tournament
            .iter()
            .map(|index| &population[index])
            .reduce(|best, member| if member.1 > best.1 { member } else { best })
            .map(|(arch, _)| arch.clone())
            .expect("a tournament has at least one member");
        let child = fresh_child(space, &parent, queries, rng)?;
        let accuracy = queries.query(&child)?;
        population.push_back((child, accuracy));
        population.pop_front();
    }
    Ok(())
}

/// The predictor-guided evolutionary algorithm (see [`GuidedConfig`]) until the budget is
/// spent.
pub fn guided_evolution<S: SearchSpace>(
    space: &S,
    queries: &mut Queries<S::Arch>,
    scorer: &mut dyn Scorer<S::Arch>,
    config: &GuidedConfig,
    rng: &mut SearchRng,
) -> Result<()> {
    for _ in 0..config.warmup.min(queries.remaining()) {
        let arch = fresh_sample(space, queries, rng)?;
        queries.query(&arch)?;
    }
    scorer.update(queries.labeled())?;
    while queries.remaining() > 0 {
        let refining = queries.remaining() <= config.refine;
        let mut candidates = if refining {
            children(space, queries, &top(queries.labeled(), 1), 1, config, rng)
        } else {
            Vec::new()
        };
        if candidates.is_empty() {
            let parents = top(queries.labeled(), config.parents);
            candidates = children(space, queries, &parents, config.max_mutations, config, rng);
        }
        if candidates.is_empty() {
            // Every neighbour of the parents is known: explore elsewhere.
            candidates.push(fresh_sample(space, queries, rng)?);
        }
        let scores = scorer.score(&candidates)?;
        for index in order_best_first(&scores)
            .into_iter()
            .take(config.batch.min(queries.remaining()))
        {
            queries.query(&candidates[index])?;
        }
        scorer.update(queries.labeled())?;
    }
    Ok(())
}

/// Up to `config.candidates` distinct architectures not queried yet, each made by mutating a
/// random one of `parents` 1 to `max_mutations` times.
fn children<S: SearchSpace>(
    space: &S,
    queries: &Queries<S::Arch>,
    parents: &[S::Arch],
    max_mutations: usize,
    config: &GuidedConfig,
    rng: &mut SearchRng,
) -> Vec<S::Arch> {
    let mut candidates = Vec::with_capacity(config.candidates);
    let mut seen = HashSet::new();
    for _ in 0..config.candidates.saturating_mul(10) {
        if candidates.len() == config.candidates {
            break;
        }
        let mut child = parents[rng.random_range(0..parents.len())].clone();
        for _ in 0..rng.random_range(1..=max_mutations) {
            child = space.mutate(&child, rng);
        }
        if !queries.is_queried(&child) && seen.insert(child.clone()) {
            candidates.push(child);
        }
    }
    candidates
}

/// The `count` most accurate architectures of `labeled` (earlier first among equals).
fn top<A: Clone>(labeled: &[(A, f64)], count: usize) -> Vec<A> {
    let accuracies: Vec<f64> = labeled.iter().map(|&(_, accuracy)| accuracy).collect();
    order_best_first(&accuracies)
        .into_iter()
        .take(count)
        .map(|index| labeled[index].0.clone())
        .collect()
}

/// A uniform sample not queried yet.
fn fresh_sample<S: SearchSpace>(
    space: &S,
    queries: &Queries<S::Arch>,
    rng: &mut SearchRng,
) -> Result<S::Arch> {
    for _ in 0..SAMPLE_TRIES {
        let arch = space.sample(rng);
        if !queries.is_queried(&arch) {
            return Ok(arch);
        }
    }
    Err(Error::invalid(format!(
        "{SAMPLE_TRIES} samples of {} were all queried already: the budget nearly exhausts the space",
        space.name()
    )))
}

/// A mutation of `parent` not queried yet; a fresh sample when many mutations all were.
fn fresh_child<S: SearchSpace>(
    space: &S,
    parent: &S::Arch,
    queries: &Queries<S::Arch>,
    rng: &mut SearchRng,
) -> Result<S::Arch> {
    for _ in 0..CHILD_TRIES {
        let child = space.mutate(parent, rng);
        if !queries.is_queried(&child) {
            return Ok(child);
        }
    }
    fresh_sample(space, queries, rng)
}
