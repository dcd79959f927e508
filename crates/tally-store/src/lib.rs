//! tally's storage: the ports (traits) the other tiers call, and the SQLite adapter.
//!
//! [`EventStore`] writes batches of validated events and quarantined rejects in one
//! transaction; [`QuarantineStore`] lists and resolves rejects; [`TotalsReader`] answers
//! the aggregate questions the metrics tier composes; [`KeyStore`] keeps
//! the API keys (hashed); [`ExperimentStore`] the A/B test definitions and their
//! outcomes. [`sqlite::SqliteStore`] implements
//! them all; driver code stays inside [`sqlite`].

mod dim;
mod error;
mod experiments;
mod keys;
mod ports;
pub mod rollup;
mod rollup_fold;
pub mod sqlite;

pub use error::{Error, Result};
pub use experiments::{ExperimentRecord, ExperimentStore, OutcomeRecord};
pub use keys::{ApiKeyRecord, KeyScope, KeyStore, NewApiKey};
pub use ports::*;
pub use rollup_fold::PreparedRollups;
