//! What the facade's learning views keep between calls: every learner's achievement
//! marks for rarity (`tally_learning::rarity::RarityIndex`), refreshed only for the
//! learners whose store revision moved, and the last all-learner progress answer,
//! reused while no learner changed. Shared by the clones of one `Analytics`.

use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tally_learning::progress::Period;
use tally_learning::rarity::RarityIndex;

use crate::learning::LearningProgress;

/// The learning views' state between calls.
#[derive(Debug, Default)]
pub struct LearningCache {
    rarity: Mutex<RarityIndex>,
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
    pub fn rarity(&self) -> MutexGuard<'_, RarityIndex> {
        lock(&self.rarity)
    }

    pub fn progress(&self) -> MutexGuard<'_, Option<CachedProgress>> {
        lock(&self.progress)
    }
}
