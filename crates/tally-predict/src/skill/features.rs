//! The seven features of a skill invocation, computed only from invocations strictly
//! before it. Times are UTC.
//!
//! | # | feature | value |
//! |---|---|---|
//! | 0 | `hour_of_day` | hour of the invocation, 0..=23 (UTC) |
//! | 1 | `day_of_week` | 0 = Monday .. 6 = Sunday (UTC) |
//! | 2 | `invocation_count_24h` | the user's invocations (any skill) in `[t - 24 h, t)` |
//! | 3 | `avg_completion_rate_24h` | completed share of those; with none, the user's earlier completion share smoothed, `(c + 1) / (n + 2)` over all earlier invocations (0.5 for a new user) |
//! | 4 | `workflow_phase` | [`phase_code`]: planning 0, execution 1, review 2, debugging 3, documentation 4, testing 5, deployment 6, other or missing 7 |
//! | 5 | `session_length_minutes` | minutes since the first earlier invocation of the same `session_id`; 0 without a session id or for the session's first invocation |
//! | 6 | `user_skill_familiarity` | `n / (n + 3) · (s + 1) / (n + 2)` over the user's `n` earlier invocations of the skill, `s` of them completed: 0 on first use, toward the success share as uses accumulate; in [0, 1) |
//!
//! Invocations of the same instant do not see each other: [`FeatureBuilder`] computes
//! the features of every invocation of an instant before it observes any of them.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde::Serialize;
use tally_store::{SkillRow, SkillTally};

/// How many features a row has.
pub const FEATURE_COUNT: usize = 7;

/// The features' names, in row order: the columns of a feature CSV.
pub use crate::forest::csv::FEATURE_NAMES as FEATURES;

/// The phases with their own code, in code order; anything else is [`OTHER_PHASE`].
pub const PHASES: [&str; 7] = [
    "planning",
    "execution",
    "review",
    "debugging",
    "documentation",
    "testing",
    "deployment",
];

/// The code of a phase not in [`PHASES`], or of none.
pub const OTHER_PHASE: u8 = PHASES.len() as u8;

/// The recent-activity window of features 2 and 3.
pub const RECENT_HOURS: i64 = 24;

/// Prior uses that weigh a familiarity half way: `n / (n + 3)`.
const FAMILIARITY_USES: f64 = 3.0;

/// A phase's code: its index in [`PHASES`] (case and surrounding space ignored), else
/// [`OTHER_PHASE`].
pub fn phase_code(phase: Option<&str>) -> u8 {
    phase
        .map(str::trim)
        .and_then(|phase| PHASES.iter().position(|p| p.eq_ignore_ascii_case(phase)))
        .map_or(OTHER_PHASE, |index| index as u8)
}

/// One invocation's features, named.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Features {
    pub hour_of_day: u32,
    pub day_of_week: u32,
    pub invocation_count_24h: u64,
    pub avg_completion_rate_24h: f64,
    pub workflow_phase: u8,
    pub session_length_minutes: f64,
    pub user_skill_familiarity: f64,
}

impl Features {
    /// The features as a model row, in [`FEATURES`] order.
    pub fn row(&self) -> [f64; FEATURE_COUNT] {
        [
            f64::from(self.hour_of_day),
            f64::from(self.day_of_week),
            self.invocation_count_24h as f64,
            self.avg_completion_rate_24h,
            f64::from(self.workflow_phase),
            self.session_length_minutes,
            self.user_skill_familiarity,
        ]
    }
}

/// What is known of an invocation before its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context<'a> {
    pub ts: DateTime<Utc>,
    pub user: &'a str,
    pub skill: &'a str,
    pub phase: Option<&'a str>,
    pub session: Option<&'a str>,
}

impl<'a> Context<'a> {
    /// A stored invocation's context (its outcome left out).
    pub fn of(row: &'a SkillRow) -> Context<'a> {
        Context {
            ts: row.ts,
            user: &row.user,
            skill: &row.skill,
            phase: row.phase.as_deref(),
            session: row.session.as_deref(),
        }
    }
}

/// Invocations and completions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    invocations: u64,
    completed: u64,
}

impl Tally {
    fn add(&mut self, invocations: u64, completed: u64) {
        self.invocations += invocations;
        self.completed += completed;
    }

    /// `(c + 1) / (n + 2)`: the completion share with one success and one failure
    /// assumed, 0.5 when there is nothing yet.
    fn smoothed_share(self) -> f64 {
        (self.completed as f64 + 1.0) / (self.invocations as f64 + 2.0)
    }
}

/// A user's state: recent invocations (instant in epoch ms, completed) and totals.
#[derive(Debug, Default)]
struct UserState {
    recent: VecDeque<(i64, bool)>,
    total: Tally,
    skills: HashMap<String, Tally>,
}

/// Folds invocations in time order and answers the features of the next one.
///
/// Feed it the history first (the tallies and session starts before the recent
/// window, then every invocation from the window's start on, in time order), then ask
/// [`FeatureBuilder::features`] for contexts no earlier than the last observed
/// invocation.
#[derive(Debug, Default)]
pub struct FeatureBuilder {
    users: HashMap<String, UserState>,
    /// First invocation of each session seen, epoch ms.
    session_starts: HashMap<String, i64>,
}

impl FeatureBuilder {
    /// Adds the per-user-and-skill totals of invocations older than anything observed
    /// later (they count for the smoothed rates and familiarity, not the 24 h window).
    pub fn seed_tallies(&mut self, tallies: impl IntoIterator<Item = SkillTally>) {
        for tally in tallies {
            let user = self.users.entry(tally.user).or_default();
            user.total.add(tally.invocations, tally.completed);
            user.skills
                .entry(tally.skill)
                .or_default()
                .add(tally.invocations, tally.completed);
        }
    }

    /// Adds the starts of sessions that began before the observed invocations.
    pub fn seed_session_starts(
        &mut self,
        starts: impl IntoIterator<Item = (String, DateTime<Utc>)>,
    ) {
        for (session, start) in starts {
            let start = start.timestamp_millis();
            self.session_starts
                .entry(session)
                .and_modify(|known| *known = (*known).min(start))
                .or_insert(start);
        }
    }

    /// Folds in one invocation and its outcome.
    pub fn observe(&mut self, row: &SkillRow) {
        let ts = row.ts.timestamp_millis();
        let user = self.users.entry(row.user.clone()).or_default();
        user.recent.push_back((ts, row.completed));
        user.total.add(1, u64::from(row.completed));
        match user.skills.get_mut(&row.skill) {
            Some(tally) => tally.add(1, u64::from(row.completed)),
            None => {
                let mut tally = Tally::default();
                tally.add(1, u64::from(row.completed));
                user.skills.insert(row.skill.clone(), tally);
            }
        }
        if let Some(session) = &row.session {
            self.session_starts
                .entry(session.clone())
                .and_modify(|known| *known = (*known).min(ts))
                .or_insert(ts);
        }
    }

    /// The features of an invocation in `context`, from what was observed strictly
    /// before `context.ts`. Observed invocations older than 24 h before it are dropped
    /// from the user's recent window, so contexts must come in time order.
    pub fn features(&mut self, context: &Context<'_>) -> Features {
        let ts = context.ts.timestamp_millis();
        let since = (context.ts - Duration::hours(RECENT_HOURS)).timestamp_millis();
        let (count, rate, familiarity) = match self.users.get_mut(context.user) {
            Some(user) => {
                while user.recent.front().is_some_and(|&(at, _)| at < since) {
                    user.recent.pop_front();
                }
                let recent = user.recent.iter().filter(|&&(at, _)| at < ts);
                let (count, completed) = recent.fold((0u64, 0u64), |(n, c), &(_, done)| {
                    (n + 1, c + u64::from(done))
                });
                let rate = if count > 0 {
                    completed as f64 / count as f64
                } else {
                    user.total.smoothed_share()
                };
                let skill = user.skills.get(context.skill).copied().unwrap_or_default();
                (count, rate, familiarity(skill))
            }
            None => (0, Tally::default().smoothed_share(), 0.0),
        };
        let session_length_minutes = context
            .session
            .and_then(|session| self.session_starts.get(session))
            .filter(|&&start| start < ts)
            .map_or(0.0, |&start| (ts - start) as f64 / 60_000.0);
        Features {
            hour_of_day: context.ts.hour(),
            day_of_week: context.ts.weekday().num_days_from_monday(),
            invocation_count_24h: count,
            avg_completion_rate_24h: rate,
            workflow_phase: phase_code(context.phase),
            session_length_minutes,
            user_skill_familiarity: familiarity,
        }
    }
}

/// `n / (n + 3) · (s + 1) / (n + 2)`.
fn familiarity(skill: Tally) -> f64 {
    let n = skill.invocations as f64;
    n / (n + FAMILIARITY_USES) * skill.smoothed_share()
}

/// The invocations of a window with their features, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub rows: Vec<[f64; FEATURE_COUNT]>,
    pub labels: Vec<bool>,
    pub times: Vec<DateTime<Utc>>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many invocations completed.
    pub fn completed(&self) -> usize {
        self.labels.iter().filter(|&&done| done).count()
    }
}

/// Turns a time-ordered stream of invocations into a [`Dataset`]: rows before
/// `emit_from` only build up the state; invocations of one instant are featurized
/// together before any of them is observed.
#[derive(Debug)]
pub struct DatasetBuilder {
    builder: FeatureBuilder,
    emit_from: DateTime<Utc>,
    /// Invocations of the current instant, not yet observed.
    pending: Vec<SkillRow>,
    dataset: Dataset,
}

impl DatasetBuilder {
    pub fn new(builder: FeatureBuilder, emit_from: DateTime<Utc>) -> DatasetBuilder {
        DatasetBuilder {
            builder,
            emit_from,
            pending: Vec::new(),
            dataset: Dataset::default(),
        }
    }

    /// Takes the next invocation (not earlier than the previous one).
    pub fn push(&mut self, row: SkillRow) {
        if self.pending.first().is_some_and(|first| first.ts != row.ts) {
            self.flush();
        }
        if row.ts >= self.emit_from {
            let features = self.builder.features(&Context::of(&row));
            self.dataset.rows.push(features.row());
            self.dataset.labels.push(row.completed);
            self.dataset.times.push(row.ts);
        }
        self.pending.push(row);
    }

    fn flush(&mut self) {
        for row in self.pending.drain(..) {
            self.builder.observe(&row);
        }
    }

    pub fn finish(mut self) -> Dataset {
        self.flush();
        self.dataset
    }
}

#[cfg(test)]
#[path = "features_tests.rs"]
mod tests;
