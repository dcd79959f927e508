//! The adapter's error: SQLite's and the pool's failures beside the store's own. It
//! becomes the ports' [`tally_store::Error`] at the port boundary (`ports.rs`), where a
//! driver failure is boxed as [`tally_store::Error::Backend`].

use tally_store::Error as StoreError;

/// What went wrong in the SQLite store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "database {path}: schema version {found} is newer than this tally understands ({supported})"
    )]
    SchemaTooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("event without an id reached the store; ingest derives one before writing")]
    MissingId,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("backup: {0}")]
    Backup(String),
    #[error("the transaction this batch was committed in failed: {0}")]
    GroupCommit(String),
}

impl Error {
    /// Whether SQLite found a file that is not a database (damaged, or another kind
    /// of file).
    fn is_not_a_database(&self) -> bool {
        matches!(
            self,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase
        )
    }
}

impl From<Error> for StoreError {
    fn from(error: Error) -> StoreError {
        match error {
            Error::Store(error) => error,
            Error::SchemaTooNew {
                path,
                found,
                supported,
            } => StoreError::SchemaTooNew {
                path,
                found,
                supported,
            },
            Error::MissingId => StoreError::MissingId,
            Error::Corrupt(what) => StoreError::Corrupt(what),
            Error::Backup(what) => StoreError::Backup(what),
            Error::GroupCommit(what) => StoreError::GroupCommit(what),
            error if error.is_not_a_database() => StoreError::NotADatabase(Box::new(error)),
            error @ (Error::Sqlite(_) | Error::Pool(_)) => StoreError::Backend(Box::new(error)),
        }
    }
}

/// `Result` with the adapter's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
