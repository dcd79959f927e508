//! The metrics error type.

/// Why a view could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] tally_store::Error),
}

/// `Result` with the metrics [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
