//! The facade's learning methods: progress, streaks, topic mastery and learner settings
//! (`tally_learning` over the store), answered as of the facade's clock or a given instant.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tally_learning::mastery::TopicMastery;
use tally_learning::progress::{Period, PeriodProgress, Totals};
use tally_learning::streak::Streak;
use tally_learning::{LearnerHistory, LearningConfig};
use tally_storage::{LearningReader, LearningSession};

use crate::{Analytics, Result};

/// Progress of one learner or of all.
#[derive(Debug, Clone, Serialize)]
pub struct LearningProgress {
    /// `None`: every learner.
    pub user: Option<String>,
    pub at: DateTime<Utc>,
    pub learners: u64,
    /// The time zone days are counted in; for all learners, each learner's own.
    pub time_zone: String,
    pub overall: Totals,
    pub period: Period,
    pub periods: Vec<PeriodProgress>,
}

/// A learner's streak, with the rule's settings it was computed under.
#[derive(Debug, Clone, Serialize)]
pub struct LearningStreak {
    pub user: String,
    pub at: DateTime<Utc>,
    pub time_zone: String,
    pub grace_hours: f64,
    pub freezes_held: u8,
    #[serde(flatten)]
    pub streak: Streak,
}

/// A learner's topic mastery.
#[derive(Debug, Clone, Serialize)]
pub struct LearningMastery {
    pub user: String,
    pub at: DateTime<Utc>,
    pub mastered_at: f64,
    pub topics: Vec<TopicMastery>,
}

impl Analytics {
    fn learning_config(&self) -> LearningConfig {
        LearningConfig::default()
    }

    fn learning_at(&self, at: Option<DateTime<Utc>>) -> DateTime<Utc> {
        at.unwrap_or(self.view_options().now)
    }

    fn learner(&self, user: &str, at: DateTime<Utc>) -> Result<LearnerHistory> {
        Ok(LearnerHistory::load(&*self.store, user, None, at)?)
    }

    /// Every user with at least one session.
    ///
    /// # Errors
    /// A storage failure.
    pub fn learners(&self) -> Result<Vec<String>> {
        Ok(self.store.learners(None)?)
    }

    /// Overall and per-period progress of `user`, or of every learner when `None`, as of
    /// `at` (the facade's clock when `None`).
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learning_progress(
        &self,
        user: Option<&str>,
        period: Period,
        at: Option<DateTime<Utc>>,
    ) -> Result<LearningProgress> {
        let at = self.learning_at(at);
        let users = match user {
            Some(user) => vec![user.to_owned()],
            None => self.learners()?,
        };
        let mut placed: Vec<(NaiveDate, LearningSession)> = Vec::new();
        let mut learners = 0;
        let mut zone = String::from("per learner");
        for name in &users {
            let history = self.learner(name, at)?;
            if user.is_some() {
                zone = history.time_zone.name().to_owned();
            }
            learners += u64::from(!history.sessions.is_empty());
            placed.extend(
                history
                    .sessions
                    .into_iter()
                    .map(|s| (s.ts.with_timezone(&history.time_zone).date_naive(), s)),
            );
        }
        Ok(LearningProgress {
            user: user.map(str::to_owned),
            at,
            learners,
            time_zone: zone,
            overall: tally_learning::progress::totals(placed.iter().map(|(_, s)| s)),
            period,
            periods: tally_learning::progress::by_local_day(
                placed.iter().map(|(day, s)| (*day, s)),
                period,
            ),
        })
    }

    /// `user`'s current and longest streak as of `at`.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learning_streak(&self, user: &str, at: Option<DateTime<Utc>>) -> Result<LearningStreak> {
        let at = self.learning_at(at);
        let config = self.learning_config();
        let history = self.learner(user, at)?;
        let times: Vec<DateTime<Utc>> = history.sessions.iter().map(|s| s.ts).collect();
        Ok(LearningStreak {
            user: user.to_owned(),
            at,
            time_zone: history.time_zone.name().to_owned(),
            grace_hours: config.grace.num_seconds() as f64 / 3600.0,
            freezes_held: config.freezes,
            streak: tally_learning::streak::streak(&times, history.time_zone, at, &config),
        })
    }

    /// `user`'s mastery of each topic as of `at`, best first.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learning_mastery(
        &self,
        user: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<LearningMastery> {
        let at = self.learning_at(at);
        let config = self.learning_config();
        let history = self.learner(user, at)?;
        Ok(LearningMastery {
            user: user.to_owned(),
            at,
            mastered_at: config.mastered_at,
            topics: tally_learning::mastery::mastery(&history.sessions, at, &config),
        })
    }

    /// Sets the IANA time zone `user`'s days are counted in.
    ///
    /// # Errors
    /// An unknown time zone, or a storage failure.
    pub fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        let zone = tally_learning::time_zone(time_zone)?;
        Ok(self.store.set_learner_time_zone(user, zone.name())?)
    }
}
