//! What the facade's learning views keep between calls: the learners' achievement marks
//! for rarity (`tally_learning::rarity::RarityIndex`), one index per project limit (and
//! one over every project), each refreshed only for the learners whose store revision
//! moved, and the last all-learner progress answer,
//! reused while no learner changed. Shared by the clones of one `Analytics`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tally_learning::progress::Period;
use tally_learning::rarity::RarityIndex;

use crate::learning::LearningProgress;

/// The learning views' state between calls.
#[derive(Debug, Default)]
pub struct LearningCache {
    /// By project limit (`None`: every project).
    rarity: Mutex<HashMap<Option<String>, RarityIndex>>,
    progress: Mutex<Option<CachedProgress>>,
}

/// An all-learner progress answer and what it is valid for.
#[derive(Debug, Clone)]
pub struct CachedProgress {
    /// The store's learner revision when it was computed.
    pub revision: i64,
    pub period: Period,
    /// The last session it counted: the answer holds for any instant from here on.
    pub latest: Option<DateTime<Utc>>,
    pub answer: LearningProgress,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values are replaced whole, so a panic elsewhere leaves them usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LearningCache {
    pub fn rarity(&self) -> MutexGuard<'_, HashMap<Option<String>, RarityIndex>> {
        lock(&self.rarity)
    }

    pub fn progress(&self) -> MutexGuard<'_, Option<CachedProgress>> {
        lock(&self.progress)
    }
}
