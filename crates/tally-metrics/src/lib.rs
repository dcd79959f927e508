//! tally's metrics tier: the aggregate views, composed from what the store's read
//! ports return. Storage does the SQL; this crate owns the domain arithmetic (averages,
//! rates, budget state) and the JSON shapes clients see.

mod error;
mod summary;

pub use error::{Error, Result};
pub use summary::{AnalyticsSummary, QaSummary, SummaryOptions, summary};
