//! tally's predictive tier: statistics that look forward or for the unusual, over the
//! series the rollup tier (and the raw tables) hold, and experiments (A/B/n tests) in
//! [`experiment`].

mod error;
pub mod experiment;
pub mod series;
pub mod skill;

pub use error::{Error, Result};
