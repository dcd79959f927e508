//! The one error type of the learning tier.

/// What went wrong answering a learning question.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("unknown time zone {0:?}: expected an IANA name such as Europe/Berlin")]
    UnknownTimeZone(String),
    #[error("invalid learning setting: {0}")]
    InvalidConfig(String),
    #[error("invalid goal: {0}")]
    InvalidGoal(String),
    #[error("no goal {id} for user {user:?}")]
    UnknownGoal { user: String, id: i64 },
    #[error(
        "user {user:?} already has {active} active goals, the most allowed: pause, finish or abandon one first"
    )]
    TooManyGoals { user: String, active: usize },
    #[error(transparent)]
    Storage(#[from] tally_store::Error),
}

/// The result of learning operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
