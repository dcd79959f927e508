//! The storage error type, the same for every backend.

/// A failure of a backend's own machinery (driver, pool, file system), boxed so that
/// the ports name no driver.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The backend failed (a driver error, a pool timeout, a full disk...). Shown as
    /// the backend shows it.
    #[error(transparent)]
    Backend(BackendError),
    /// The location holds something that is not a database of this backend (a damaged
    /// file, or another kind of file).
    #[error(transparent)]
    NotADatabase(BackendError),
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
    /// Whether the store's location holds something that is not a database (damaged,
    /// or another kind of file).
    pub fn is_not_a_database(&self) -> bool {
        matches!(self, Error::NotADatabase(_))
    }
}

/// `Result` with the storage [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
