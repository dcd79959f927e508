//! Rarity across learners, kept between calls: per learner, when each achievement
//! unlocked over their whole history and when they were active. An achievement held as
//! of `at` is one unlocked at or before `at` (unlocking depends only on the activity up
//! to the unlock), so one evaluation per learner serves every instant, and only the
//! learners whose store revision moved are evaluated again. One index covers one set of
//! learners and what of their histories may be seen: every project's, or one project's
//! (its learners, their marks from that project's sessions alone).

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use tally_store::Activity;

use crate::achievements::{CATALOG, Earned};

/// How far back a session makes a learner active: 30 days.
pub fn active_window() -> Duration {
    Duration::days(30)
}

/// An instant after any session: the `at` of an evaluation over a whole history.
pub fn end_of_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Unlock times in catalog order (epoch ms; `i64::MAX` while locked).
type Unlocks = [i64; CATALOG.len()];

/// What rarity needs of one learner.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnerMarks {
    /// Unlock time of each catalog entry, over the whole history.
    unlocked: Unlocks,
    /// The latest session (epoch ms), `i64::MIN` without any.
    last_active: i64,
    /// The last session of each activity (epoch ms), sorted.
    active: Vec<i64>,
}

impl LearnerMarks {
    /// From a learner's whole `activity` and their achievements evaluated over it (as of
    /// [`end_of_time`]).
    pub fn new(activity: &[Activity], earned: &[Earned]) -> LearnerMarks {
        let mut active: Vec<i64> = activity.iter().map(|a| a.last.timestamp_millis()).collect();
        active.sort_unstable();
        let mut unlocked = [i64::MAX; CATALOG.len()];
        for (slot, entry) in unlocked.iter_mut().zip(CATALOG) {
            if let Some(t) = earned
                .iter()
                .find(|e| e.achievement.id == entry.id)
                .and_then(|e| e.unlocked_at)
            {
                *slot = t.timestamp_millis();
            }
        }
        LearnerMarks {
            unlocked,
            last_active: active.last().copied().unwrap_or(i64::MIN),
            active,
        }
    }

    /// A session in the 30 days up to `at`.
    pub fn active_at(&self, at: DateTime<Utc>) -> bool {
        self.active_between(
            (at - active_window()).timestamp_millis(),
            at.timestamp_millis(),
        )
    }

    /// A session in `from..=to` (epoch ms).
    fn active_between(&self, from: i64, to: i64) -> bool {
        if self.last_active <= to {
            return self.last_active >= from;
        }
        let first = self.active.partition_point(|t| *t < from);
        self.active.get(first).is_some_and(|t| *t <= to)
    }
}

/// Every learner's [`LearnerMarks`], and the store revision they were read at.
#[derive(Debug, Default)]
pub struct RarityIndex {
    revision: i64,
    /// Where each learner's marks are in `marks`.
    position: HashMap<String, usize>,
    /// Contiguous, so counting holders walks memory in order.
    marks: Vec<LearnerMarks>,
}

/// Learners active at an instant and how many of them hold each catalog entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Holders {
    pub active_learners: u64,
    /// In [`CATALOG`] order.
    pub holders: Vec<u64>,
}

impl Holders {
    /// The share of active learners holding catalog entry `index`; `None` without any.
    pub fn share(&self, index: usize) -> Option<f64> {
        (self.active_learners > 0).then(|| {
            self.holders.get(index).copied().unwrap_or(0) as f64 / self.active_learners as f64
        })
    }
}

impl RarityIndex {
    /// The store revision the index is current with (0: empty).
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Replaces one learner's marks, read at store revision `revision`.
    pub fn update(&mut self, user: String, marks: LearnerMarks, revision: i64) {
        match self.position.get(&user) {
            Some(&i) => self.marks[i] = marks,
            None => {
                self.position.insert(user, self.marks.len());
                self.marks.push(marks);
            }
        }
        self.revision = self.revision.max(revision);
    }

    pub fn len(&self) -> usize {
        self.marks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Active learners as of `at` and the holders among them of each achievement.
    pub fn holders(&self, at: DateTime<Utc>) -> Holders {
        Self::count(self.marks.iter(), at)
    }

    /// Records that the index is current with store revision `revision` although the
    /// learners that moved up to it are none of its own (another project's, say).
    pub fn caught_up(&mut self, revision: i64) {
        self.revision = self.revision.max(revision);
    }

    fn count<'a>(marks: impl Iterator<Item = &'a LearnerMarks>, at: DateTime<Utc>) -> Holders {
        let at_ms = at.timestamp_millis();
        let from = (at - active_window()).timestamp_millis();
        let mut out = Holders {
            active_learners: 0,
            holders: vec![0; CATALOG.len()],
        };
        let mut holders = [0u64; CATALOG.len()];
        for marks in marks.filter(|m| m.active_between(from, at_ms)) {
            out.active_learners += 1;
            for (count, unlocked) in holders.iter_mut().zip(&marks.unlocked) {
                *count += u64::from(*unlocked <= at_ms);
            }
        }
        out.holders = holders.to_vec();
        out
    }
}
