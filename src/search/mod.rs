//! Neural architecture search guided by the predictor, as in the paper's Tables 2 and 3.
//!
//! - [`space`]: search spaces (NAS-Bench-201, the labeled NAS-Bench-101 cells, OFA-MobileNetV3)
//!   with sampling and mutation;
//! - [`oracle`]: the real evaluations (benchmark tables, OFA's published accuracy predictor)
//!   and the counting of unique queries (#Q);
//! - [`score`]: what screens candidates: a [`Scorer`], a cgpredict model adapted to the labels
//!   as the search goes ([`PredictorScorer`]), and [`rank_graphs`] (`cgp_rank`);
//! - [`algorithm`]: random search, regularized evolution, and the predictor-guided
//!   evolutionary algorithm, in one harness ([`search`]);
//! - [`npz`]: the NumPy `.npz` reader that loads OFA's predictor.

pub mod algorithm;
pub mod npz;
pub mod oracle;
pub mod score;
pub mod space;

pub use algorithm::{EvolutionConfig, GuidedConfig, Method, Outcome, search};
pub use oracle::{OfaAccuracyPredictor, Oracle, Queries, Table, nb101_table, nb201_table};
pub use score::{PredictorScorer, ScaleScorer, Scorer, order_best_first, rank_graphs};
pub use space::{Nb101Space, Nb201Space, OfaArch, OfaSpace, SearchRng, SearchSpace};
