//! tally's learning analytics: progress, streaks and topic mastery of learners, computed
//! from their sessions each time they are asked for (so always current, and the same
//! whatever the order events arrived in).
//!
//! The functions of [`progress`], [`streak`], [`mastery`], [`goals`], [`achievements`]
//! and [`insights`] are pure: they take a learner's activity (one
//! [`tally_store::Activity`] per session, or per 15-minute bucket of the learner
//! summary once raw retention removed the sessions), their time zone and the instant to
//! answer at. [`LearnerHistory`] loads those inputs through the
//! [`tally_store::LearningReader`] port; [`rarity::RarityIndex`] keeps what rarity
//! needs of every learner between calls.

pub mod achievements;
pub mod calendar;
mod error;
pub mod goals;
pub mod insights;
pub mod mastery;
pub mod progress;
pub mod rarity;
pub mod streak;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tally_store::{Activity, LearningReader};

pub use error::{Error, Result};

/// The knobs of the learning rules; see `docs/learning.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningConfig {
    /// Longest gap between two sessions that keeps a streak going (36 h by default).
    pub grace: Duration,
    /// Streak freezes a learner holds, each bridging one missed day (0..=2, 2 by default).
    pub freezes: u8,
    /// Mastery score from which a topic counts as mastered (0.75 by default).
    pub mastered_at: f64,
    /// Days after which a session's weight in the mastery score halves (30 by default).
    pub half_life_days: f64,
    /// Goals a learner may have active at once (5 by default).
    pub max_active_goals: usize,
}

impl Default for LearningConfig {
    fn default() -> Self {
        LearningConfig {
            grace: Duration::hours(36),
            freezes: 2,
            mastered_at: 0.75,
            half_life_days: 30.0,
            max_active_goals: 5,
        }
    }
}

impl LearningConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting out of range.
    pub fn validate(&self) -> Result<()> {
        if self.grace < Duration::zero() {
            return Err(Error::InvalidConfig(format!(
                "grace must be >= 0, got {} s",
                self.grace.num_seconds()
            )));
        }
        if self.freezes > 2 {
            return Err(Error::InvalidConfig(format!(
                "freezes must be 0, 1 or 2, got {}",
                self.freezes
            )));
        }
        if !(0.0..=1.0).contains(&self.mastered_at) {
            return Err(Error::InvalidConfig(format!(
                "mastered_at must be in [0, 1], got {}",
                self.mastered_at
            )));
        }
        if self.half_life_days.is_nan() || self.half_life_days <= 0.0 {
            return Err(Error::InvalidConfig(format!(
                "half_life_days must be > 0, got {}",
                self.half_life_days
            )));
        }
        Ok(())
    }
}

/// The time zone of a learner whose stored setting is `name` (UTC when unset).
///
/// # Errors
/// [`Error::UnknownTimeZone`] when the name is not in the IANA database.
pub fn zone_or_utc(name: Option<&str>) -> Result<Tz> {
    name.map_or(Ok(Tz::UTC), time_zone)
}

/// Parses an IANA time zone name.
///
/// # Errors
/// [`Error::UnknownTimeZone`] when the name is not in the IANA database.
pub fn time_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| Error::UnknownTimeZone(name.to_owned()))
}

/// One learner's activity up to an instant, and the time zone their days are counted in.
#[derive(Debug, Clone)]
pub struct LearnerHistory {
    pub user: String,
    pub time_zone: Tz,
    /// The instant the history was read at; later sessions are left out.
    pub at: DateTime<Utc>,
    /// Oldest first: one entry per session, or per 15-minute bucket where only the
    /// summary is kept.
    pub activity: Vec<Activity>,
}

impl LearnerHistory {
    /// Reads `user`'s activity at or before `at`, and their time zone (UTC when unset).
    ///
    /// # Errors
    /// A storage failure, or a stored time zone this build does not know.
    pub fn load(
        reader: &dyn LearningReader,
        user: &str,
        project: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<LearnerHistory> {
        let time_zone = zone_or_utc(reader.learner_time_zone(user)?.as_deref())?;
        let activity = reader.learner_activity(user, project, Some(at))?;
        Ok(LearnerHistory {
            user: user.to_owned(),
            time_zone,
            at,
            activity,
        })
    }
}

#[cfg(test)]
mod tests;
