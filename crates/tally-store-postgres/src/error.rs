//! The adapter's error: PostgreSQL's and the pool's failures beside the store's own. It
//! becomes the ports' [`tally_store::Error`] at the port boundary (`ports.rs`), where a
//! driver failure is boxed as [`tally_store::Error::Backend`].

use tally_store::Error as StoreError;

/// What went wrong in the PostgreSQL store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "database {location}: schema version {found} is newer than this tally understands ({supported})"
    )]
    SchemaTooNew {
        location: String,
        found: i64,
        supported: i64,
    },
    #[error("{0}")]
    Config(String),
    #[error("event without an id reached the store; ingest derives one before writing")]
    MissingId,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("backup: {0}")]
    Backup(String),
}

impl From<Error> for StoreError {
    fn from(error: Error) -> StoreError {
        match error {
            Error::Store(error) => error,
            Error::SchemaTooNew {
                location,
                found,
                supported,
            } => StoreError::SchemaTooNew {
                path: location,
                found,
                supported,
            },
            Error::MissingId => StoreError::MissingId,
            Error::Corrupt(what) => StoreError::Corrupt(what),
            Error::Backup(what) => StoreError::Backup(what),
            error @ (Error::Postgres(_) | Error::Pool(_) | Error::Config(_)) => {
                StoreError::Backend(Box::new(error))
            }
        }
    }
}

/// `Result` with the adapter's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
