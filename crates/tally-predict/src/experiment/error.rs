//! The experiment tier's error type.

/// What went wrong with an experiment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] tally_storage::Error),
    #[error("experiment definition: {0}")]
    Invalid(String),
    #[error("experiment {0:?} exists already; pick another key")]
    Exists(String),
    #[error("no experiment {0:?}: neither defined nor named by any outcome event")]
    Unknown(String),
    #[error("experiment {0:?} is not running")]
    NotRunning(String),
}

/// `Result` with the experiment [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
