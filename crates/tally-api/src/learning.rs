//! The facade's learning methods: progress, streaks, topic mastery and learner settings
//! (`tally_learning` over the store), answered as of the facade's clock or a given instant.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tally_learning::achievements::{Earned, Rarity};
use tally_learning::goals::{GoalProgress, GoalStatus, GoalSuggestion};
use tally_learning::insights::LearnerInsight;
use tally_learning::mastery::TopicMastery;
use tally_learning::progress::{Period, PeriodProgress, Totals};
use tally_learning::streak::Streak;
use tally_learning::{LearnerHistory, LearningConfig};
use tally_storage::{GoalRecord, LearningReader, LearningSession};

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

/// One achievement of a learner, with how rare it is among active learners.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerAchievement {
    #[serde(flatten)]
    pub earned: Earned,
    /// Share of active learners holding it (`None` when no learner is active).
    pub holders_share: Option<f64>,
    pub rarity: Option<Rarity>,
}

/// A learner's achievements, stats and the next ones within reach.
#[derive(Debug, Clone, Serialize)]
pub struct LearningAchievements {
    pub user: String,
    pub at: DateTime<Utc>,
    /// Learners with a session in the 30 days up to `at`: the base of rarity.
    pub active_learners: u64,
    pub points: u32,
    pub unlocked: usize,
    pub total: usize,
    /// Unlocked ones, oldest first.
    pub achievements: Vec<LearnerAchievement>,
    /// Up to three locked ones, closest first.
    pub next: Vec<LearnerAchievement>,
}

impl Analytics {
    fn learning_config(&self) -> LearningConfig {
        self.config().learning.to_config()
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

    /// `user`'s goals with their progress as of `at`, oldest first.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learning_goals(
        &self,
        user: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<GoalProgress>> {
        let at = self.learning_at(at);
        let config = self.learning_config();
        let history = self.learner(user, at)?;
        self.store
            .goals(user)?
            .iter()
            .filter(|g| g.created_at <= at)
            .map(|g| {
                Ok(tally_learning::goals::evaluate(
                    g,
                    &history.sessions,
                    history.time_zone,
                    at,
                    &config,
                )?)
            })
            .collect()
    }

    fn goal(&self, user: &str, id: i64) -> Result<GoalRecord> {
        self.store
            .goals(user)?
            .into_iter()
            .find(|g| g.id == id)
            .ok_or_else(|| {
                tally_learning::Error::UnknownGoal {
                    user: user.to_owned(),
                    id,
                }
                .into()
            })
    }

    fn check_active_goals(&self, user: &str) -> Result<()> {
        let limit = self.learning_config().max_active_goals;
        let active = self
            .learning_goals(user, None)?
            .iter()
            .filter(|g| g.status == GoalStatus::Active)
            .count();
        if active >= limit {
            return Err(tally_learning::Error::TooManyGoals {
                user: user.to_owned(),
                active,
            }
            .into());
        }
        Ok(())
    }

    /// Sets a goal for `user`: `kind` (streak, sessions, exchanges, quality, topics,
    /// minutes) reaching `target`, counted from now, by `deadline` if given.
    ///
    /// # Errors
    /// An invalid type or target, too many active goals, or a storage failure.
    pub fn create_learning_goal(
        &self,
        user: &str,
        kind: &str,
        target: f64,
        title: Option<String>,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<GoalProgress> {
        let checked = tally_learning::goals::validate(kind, target)?;
        self.check_active_goals(user)?;
        let now = self.learning_at(None);
        let mut goal = GoalRecord {
            id: 0,
            user: user.to_owned(),
            kind: checked.as_str().to_owned(),
            target,
            title: title.unwrap_or_else(|| format!("{target} {}", checked.as_str())),
            created_at: now,
            deadline,
            state: "active".to_owned(),
        };
        goal.id = self.store.create_goal(&goal)?;
        self.goal_progress(goal)
    }

    fn goal_progress(&self, goal: GoalRecord) -> Result<GoalProgress> {
        let id = goal.id;
        self.learning_goals(&goal.user, None)?
            .into_iter()
            .find(|g| g.goal.id == id)
            .ok_or_else(|| {
                tally_learning::Error::UnknownGoal {
                    user: goal.user.clone(),
                    id,
                }
                .into()
            })
    }

    /// Changes a goal's target, deadline or title.
    ///
    /// # Errors
    /// No such goal, an invalid target, or a storage failure.
    pub fn update_learning_goal(
        &self,
        user: &str,
        id: i64,
        target: Option<f64>,
        title: Option<String>,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<GoalProgress> {
        let mut goal = self.goal(user, id)?;
        if let Some(target) = target {
            tally_learning::goals::validate(&goal.kind, target)?;
            goal.target = target;
        }
        if let Some(title) = title {
            goal.title = title;
        }
        if deadline.is_some() {
            goal.deadline = deadline;
        }
        self.store.update_goal(&goal)?;
        self.goal_progress(goal)
    }

    /// Pauses (`paused`), resumes (`active`) or abandons (`abandoned`) a goal.
    ///
    /// # Errors
    /// No such goal, an abandoned goal, resuming beyond the active limit, or a storage
    /// failure.
    pub fn set_learning_goal_state(
        &self,
        user: &str,
        id: i64,
        state: &str,
    ) -> Result<GoalProgress> {
        let mut goal = self.goal(user, id)?;
        if goal.state == "abandoned" {
            return Err(tally_learning::Error::InvalidGoal(format!(
                "goal {id} was abandoned and cannot change state"
            ))
            .into());
        }
        if state == "active" && goal.state != "active" {
            self.check_active_goals(user)?;
        }
        goal.state = state.to_owned();
        self.store.update_goal(&goal)?;
        self.goal_progress(goal)
    }

    fn earned(&self, user: &str, at: DateTime<Utc>) -> Result<(Vec<Earned>, bool)> {
        let config = self.learning_config();
        let history = self.learner(user, at)?;
        let completions: Vec<DateTime<Utc>> = self
            .learning_goals(user, Some(at))?
            .into_iter()
            .filter_map(|g| g.completed_at)
            .collect();
        let active = history
            .sessions
            .last()
            .is_some_and(|s| at - s.ts <= chrono::Duration::days(30));
        Ok((
            tally_learning::achievements::evaluate(
                &history.sessions,
                &completions,
                history.time_zone,
                at,
                &config,
            ),
            active,
        ))
    }

    /// `user`'s achievements as of `at`, with rarity among the learners active in the 30
    /// days up to `at`.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learning_achievements(
        &self,
        user: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<LearningAchievements> {
        let at = self.learning_at(at);
        let catalog = tally_learning::achievements::CATALOG.len();
        let mut holders = vec![0u64; catalog];
        let mut active_learners = 0u64;
        for learner in self.learners()? {
            let (earned, active) = self.earned(&learner, at)?;
            if active {
                active_learners += 1;
                for (count, e) in holders.iter_mut().zip(&earned) {
                    *count += u64::from(e.unlocked_at.is_some());
                }
            }
        }
        let (earned, _) = self.earned(user, at)?;
        let with_rarity = |(e, held): (Earned, u64)| {
            let share = (active_learners > 0).then(|| held as f64 / active_learners as f64);
            LearnerAchievement {
                earned: e,
                holders_share: share,
                rarity: share.map(Rarity::of),
            }
        };
        let (mut unlocked, mut locked): (Vec<_>, Vec<_>) = earned
            .into_iter()
            .zip(holders)
            .map(with_rarity)
            .partition(|a| a.earned.unlocked_at.is_some());
        unlocked.sort_by_key(|a| a.earned.unlocked_at);
        locked.sort_by(|a, b| b.earned.percent.total_cmp(&a.earned.percent));
        locked.truncate(3);
        Ok(LearningAchievements {
            user: user.to_owned(),
            at,
            active_learners,
            points: unlocked.iter().map(|a| a.earned.achievement.points).sum(),
            unlocked: unlocked.len(),
            total: catalog,
            achievements: unlocked,
            next: locked,
        })
    }

    /// Insights about `user` as of `at`, most urgent first.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learning_insights(
        &self,
        user: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearnerInsight>> {
        let at = self.learning_at(at);
        let config = self.learning_config();
        let history = self.learner(user, at)?;
        let (earned, _) = self.earned(user, at)?;
        Ok(tally_learning::insights::insights(
            &history.sessions,
            &earned,
            history.time_zone,
            at,
            &config,
        ))
    }

    /// Goals suggested from `user`'s last 28 days.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn suggest_learning_goals(
        &self,
        user: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<GoalSuggestion>> {
        let at = self.learning_at(at);
        let history = self.learner(user, at)?;
        Ok(tally_learning::goals::suggest(
            &history.sessions,
            history.time_zone,
            at,
            &self.learning_config(),
        ))
    }
}
