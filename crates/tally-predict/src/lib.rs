//! tally's predictive tier: statistics that look forward or for the unusual, over the
//! series the rollup tier (and the raw tables) hold, experiments (A/B/n tests) in
//! [`experiment`], and the success predictor (a random forest) in [`forest`] with its
//! quality metrics in [`quality`].

mod error;
pub mod experiment;
pub mod forest;
pub mod quality;
pub mod series;
pub mod skill;

pub use error::{Error, Result};
pub use forest::csv::{FEATURE_NAMES, FeatureTable, read_feature_csv};
pub use forest::{ForestParams, MaxFeatures, RandomForest};
/// The ndarray version the forest's matrices use (the one linfa uses).
pub use ndarray;
