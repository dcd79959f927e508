//! tally's storage ports: the traits the other tiers ask a store through, the words
//! they share, and the backend-neutral logic every adapter uses. No driver here: the
//! adapters (`tally-store-sqlite`, ...) implement the ports in crates of their own.
//!
//! [`EventStore`] writes batches of validated events and quarantined rejects in one
//! atomic step; [`QuarantineStore`] lists the rejects; [`TotalsReader`],
//! [`RollupReader`] and [`SeriesReader`] answer the metrics tier; [`LearningReader`]
//! and [`LearningWriter`] the learning tier; [`SkillHistoryReader`],
//! [`PredictModelStore`] and [`ExperimentStore`] the prediction and experiment tier;
//! [`KeyStore`] keeps the API keys (hashed); [`Retention`], [`Maintenance`],
//! [`Catalog`] and [`Export`] serve the facade. [`Store`] is all of them at once.
//!
//! Shared by every adapter: the rollup vocabulary ([`rollup`]), the fold of events into
//! rollup deltas ([`rollup_fold`]), the fan-out of a delta to the rows it adds to
//! ([`rollup_fanout`]), the range planner that picks the rows covering a range
//! ([`rollup_plan`]), group commit ([`GroupCommit`]), and the writer's own figures
//! ([`WriterStats`]).

mod dim;
pub mod engagement;
mod error;
pub mod event_page;
mod group_commit;
pub mod learner_history;
mod ports;
pub mod rollup;
pub mod rollup_fanout;
pub mod rollup_fold;
pub mod rollup_plan;
mod store;
mod vocabulary;
mod writer_stats;

pub use dim::{DIMS, Dim};
pub use error::{BackendError, Error, Result};
pub use group_commit::{GROUP_COMMIT_MAX_RECORDS, GroupCommit};
pub use ports::*;
pub use rollup_fold::PreparedRollups;
pub use store::Store;
pub use vocabulary::*;
pub use writer_stats::{COMMIT_SECONDS_BOUNDS, CommitHistogram, CommitTimes, WriterStats};
