//! The storage error type.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
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
    #[error("the receiver of the rows stopped: {0}")]
    Sink(String),
    #[error("the transaction this batch was committed in failed: {0}")]
    GroupCommit(String),
}

impl Error {
    /// Whether SQLite found a file that is not a database (damaged, or another kind
    /// of file).
    pub fn is_not_a_database(&self) -> bool {
        matches!(
            self,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase
        )
    }
}

/// `Result` with the storage [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
