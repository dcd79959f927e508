//! tally's predictive tier: statistics that look forward or for the unusual, over the
//! series the rollup tier (and the raw tables) hold.

mod error;
pub mod series;

pub use error::{Error, Result};
