//! The predictive tier's error type: series, experiments and the success predictor alike.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] tally_store::Error),
    #[error("too little skill data to train on {from} .. {to}: {detail}")]
    TooLittleData {
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        detail: String,
    },
    #[error("{}", no_model(*.0))]
    NoModel(Option<i64>),
    #[error("stored model {version} cannot be read: {message}")]
    ModelFormat { version: i64, message: String },
    #[error("unknown metric {0:?}: expected one of {1}")]
    UnknownMetric(String, String),
    #[error("{0}")]
    Input(String),
    #[error("not enough data for {what}: {got} points, need {needed}")]
    TooShort {
        what: &'static str,
        needed: usize,
        got: usize,
    },
    #[error(
        "the range holds {points} points {step_seconds} s apart, more than the limit of {limit} \
         per series: narrow the range or use a coarser step"
    )]
    TooManyPoints {
        points: u64,
        step_seconds: i64,
        limit: usize,
    },
    #[error("experiment definition: {0}")]
    Invalid(String),
    #[error("experiment {0:?} exists already; pick another key")]
    Exists(String),
    #[error("no experiment {0:?}: neither defined nor named by any outcome event")]
    Unknown(String),
    #[error("experiment {0:?} is not running")]
    NotRunning(String),
    #[error("no training data: expected at least one row and one feature")]
    EmptyInput,
    #[error("every label is {0}: training needs both classes")]
    OneClass(bool),
    #[error("row {row}, column {column} is {value}: expected a finite number")]
    NonFinite {
        row: usize,
        column: usize,
        value: f64,
    },
    #[error("{what}: expected {expected}, got {got}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("forest parameter {name}: {message}")]
    ForestParameter { name: &'static str, message: String },
    #[error("feature CSV line {line}, column {column}: {message}")]
    FeatureCsv {
        line: u64,
        column: String,
        message: String,
    },
    #[error("stored forest: {0}")]
    StoredModel(String),
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// The message of [`Error::NoModel`].
fn no_model(version: Option<i64>) -> String {
    match version {
        Some(version) => format!("no stored success-predictor model with version {version}"),
        None => {
            "no stored success-predictor model: train one first (`tally predict train`)".to_owned()
        }
    }
}

/// `Result` with the predictive tier's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
