//! Which events a question is about.

use chrono::{DateTime, Utc};

/// Which events a question is about. `to` is exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub project: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
