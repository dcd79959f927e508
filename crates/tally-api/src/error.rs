//! The facade's error type: every lower tier's error, plus configuration.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] tally_store::Error),
    #[error(transparent)]
    Ingest(#[from] tally_ingest::Error),
    #[error(transparent)]
    Metrics(#[from] tally_metrics::Error),
    #[error(transparent)]
    Predict(#[from] tally_predict::Error),
    #[error(transparent)]
    Learning(#[from] tally_learning::Error),
    #[error("config {path}: {message}")]
    Config { path: String, message: String },
    #[error(
        "unsupported database location {0:?}: expected a file path, sqlite://PATH, memory: or postgres://..."
    )]
    Location(String),
    #[error("the {0} backend keeps no file")]
    NoFile(String),
    #[error("{0}")]
    Filter(String),
    #[error(
        "the range holds {points} points of one {step}, more than the limit of {limit} per \
         series: narrow from/to or use a coarser granularity"
    )]
    TooManyPoints {
        points: u64,
        step: String,
        limit: usize,
    },
    #[error("api key: {0}")]
    Key(String),
    #[error("server: {0}")]
    Server(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "{path} is not a tally database: SQLite cannot read it (a damaged file, or another kind of file)"
    )]
    NotADatabase { path: String },
    #[error("{}", unknown_project(project, known))]
    UnknownProject {
        project: String,
        /// The projects that have data.
        known: Vec<String>,
    },
    /// Work stopped because nobody waits for it any more (its request ran out of time,
    /// or the server is stopping).
    #[error("cancelled: the request ran out of its time budget or the server is stopping")]
    Cancelled,
    /// An analysis asked of a range or project without data to analyse.
    #[error("{0}")]
    NoData(String),
    /// A copy between stores stopped (what was committed stays; running it again
    /// finishes it).
    #[error("migrate: {0}")]
    Migrate(String),
    /// An alert or report that cannot be handed to its channel.
    #[error("delivery: {0}")]
    Delivery(String),
    /// What the database's own tools do better (backups of a PostgreSQL store).
    #[error("{0}")]
    DatabaseTools(String),
    /// An alert rule that cannot work; `field` names what is wrong (`threshold`, ...).
    #[error("{field}: {message}")]
    AlertInvalid { field: String, message: String },
    /// A rule limited to a project the caller's key may not use (or to none, for a key
    /// limited to projects).
    #[error("{0}")]
    AlertForbidden(String),
    /// No alert rule of this name.
    #[error("no alert rule {0:?}")]
    UnknownAlert(String),
    /// An alert rule that cannot be created or changed as asked (its name is taken, or it
    /// is defined in tally.toml).
    #[error("{0}")]
    AlertConflict(String),
    /// A saved dashboard that is invalid, forbidden, unknown or in conflict.
    #[error(transparent)]
    Dashboard(#[from] crate::dashboards::DashboardError),
}

/// The message of [`Error::UnknownProject`].
fn unknown_project(project: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!("unknown project {project:?}: no project has data yet")
    } else {
        format!(
            "unknown project {project:?}; projects with data: {}",
            known.join(", ")
        )
    }
}

impl Error {
    /// What an ingest that failed part-way had stored before it failed, if anything.
    pub fn stored_before(&self) -> Option<&tally_ingest::IngestReport> {
        match self {
            Error::Ingest(tally_ingest::Error::Interrupted { report, .. }) => Some(report),
            _ => None,
        }
    }
}

/// `Result` with the facade's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
