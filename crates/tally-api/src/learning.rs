//! The facade's learning methods: progress, streaks, topic mastery and learner settings
//! (`tally_learning` over the store), answered as of the facade's clock or a given instant.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tally_learning::achievements::{Earned, Rarity};
use tally_learning::calendar::{CalendarDay, QualityDay};
use tally_learning::goals::{GoalProgress, GoalStatus, GoalSuggestion};
use tally_learning::insights::LearnerInsight;
use tally_learning::mastery::TopicMastery;
use tally_learning::progress::{Period, PeriodProgress, Totals};
use tally_learning::rarity::{Holders, LearnerMarks, RarityIndex};
use tally_learning::streak::Streak;
use tally_learning::{LearnerHistory, LearningConfig};
use tally_store::{Activity, GoalRecord};

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

/// Weeks the learner dashboard's heatmap and quality trend cover.
pub const DASHBOARD_WEEKS: u32 = 12;

/// Everything the learner page shows, from one read of the learner's activity.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerDashboard {
    pub user: String,
    pub at: DateTime<Utc>,
    pub time_zone: String,
    pub overall: Totals,
    pub streak: LearningStreak,
    pub goals: Vec<GoalProgress>,
    pub achievements: LearningAchievements,
    /// ISO weeks of the last twelve weeks with sessions, oldest first.
    pub weekly: Vec<PeriodProgress>,
    pub topics: Vec<TopicMastery>,
    /// Local days of the last twelve ISO weeks up to today, oldest first.
    pub heatmap: Vec<CalendarDay>,
    /// The same days' quality with its 7-day rolling average.
    pub quality_trend: Vec<QualityDay>,
}

impl Analytics {
    fn learning_config(&self) -> LearningConfig {
        self.config().learning.to_config()
    }

    fn learning_at(&self, at: Option<DateTime<Utc>>) -> DateTime<Utc> {
        at.unwrap_or(self.view_options().now)
    }

    /// `user`'s activity in the project limit (every project without one) up to `at`.
    pub(crate) fn learner(&self, user: &str, at: DateTime<Utc>) -> Result<LearnerHistory> {
        let mut history =
            LearnerHistory::load(&*self.store, user, self.project_limit.as_deref(), at)?;
        if history.time_zone != chrono_tz::Tz::UTC && !self.knows_learner(user)? {
            history.time_zone = chrono_tz::Tz::UTC;
        }
        Ok(history)
    }

    /// Whether `user` has sessions in the project limit (any user without one): the
    /// learner's settings, such as their time zone, are shown only then.
    pub(crate) fn knows_learner(&self, user: &str) -> Result<bool> {
        match self.project_limit.as_deref() {
            None => Ok(true),
            Some(project) => Ok(!self
                .store
                .learner_activity(user, Some(project), None)?
                .is_empty()),
        }
    }

    /// The time zone `user`'s days are counted in (UTC for a learner the project limit
    /// does not know).
    pub(crate) fn learner_zone(&self, user: &str) -> Result<chrono_tz::Tz> {
        if !self.knows_learner(user)? {
            return Ok(chrono_tz::Tz::UTC);
        }
        Ok(tally_learning::zone_or_utc(
            self.store.learner_time_zone(user)?.as_deref(),
        )?)
    }

    /// Every user with at least one session (in the project limit, if any).
    ///
    /// # Errors
    /// A storage failure.
    pub fn learners(&self) -> Result<Vec<String>> {
        Ok(self.store.learners(self.project_limit.as_deref())?)
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
        let Some(user) = user else {
            return match self.project_limit.as_deref() {
                None => self.all_learners_progress(period, at),
                Some(project) => Ok(self.progress_of_learners(Some(project), period, at)?.0),
            };
        };
        let history = self.learner(user, at)?;
        Ok(LearningProgress {
            user: Some(user.to_owned()),
            at,
            learners: u64::from(!history.activity.is_empty()),
            time_zone: history.time_zone.name().to_owned(),
            overall: tally_learning::progress::totals(&history.activity),
            period,
            periods: tally_learning::progress::by_period(
                &history.activity,
                history.time_zone,
                period,
            ),
        })
    }

    /// Every learner's progress from the learner summary, each bucket on its learner's
    /// local day; the last answer is reused while no learner changed and `at` is past
    /// the last session it counted.
    fn all_learners_progress(&self, period: Period, at: DateTime<Utc>) -> Result<LearningProgress> {
        let cache = &self.learning_cache;
        if let Some(cached) = cache.progress().clone() {
            let unchanged = cached.period == period
                && cached
                    .latest
                    .is_none_or(|latest| latest <= at && latest <= cached.answer.at)
                && self.store.learner_revisions(cached.revision)?.is_empty();
            if unchanged {
                return Ok(LearningProgress {
                    at,
                    ..cached.answer
                });
            }
        }
        let revision = self
            .store
            .learner_revisions(0)?
            .iter()
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(0);
        let (answer, latest) = self.progress_of_learners(None, period, at)?;
        *cache.progress() = Some(crate::learning_cache::CachedProgress {
            revision,
            period,
            latest,
            answer: answer.clone(),
        });
        Ok(answer)
    }

    /// The progress of every learner with sessions in `project` (every project when
    /// `None`), from the learner summary, and the last session it counted.
    fn progress_of_learners(
        &self,
        project: Option<&str>,
        period: Period,
        at: DateTime<Utc>,
    ) -> Result<(LearningProgress, Option<DateTime<Utc>>)> {
        let zones: HashMap<String, String> = self.store.learner_time_zones()?.into_iter().collect();
        let everyone = self.store.all_learner_activity(project, Some(at))?;
        let mut placed: Vec<(NaiveDate, &Activity)> = Vec::new();
        let mut latest: Option<DateTime<Utc>> = None;
        for (name, activity) in &everyone {
            let zone = tally_learning::zone_or_utc(zones.get(name).map(String::as_str))?;
            for a in activity {
                latest = latest.max(Some(a.last));
                placed.push((tally_learning::progress::local_day(a, zone), a));
            }
        }
        let answer = LearningProgress {
            user: None,
            at,
            learners: everyone.iter().filter(|(_, a)| !a.is_empty()).count() as u64,
            time_zone: "per learner".to_owned(),
            overall: tally_learning::progress::totals(placed.iter().map(|(_, a)| *a)),
            period,
            periods: tally_learning::progress::by_local_day(placed.iter().copied(), period),
        };
        Ok((answer, latest))
    }

    /// `user`'s current and longest streak as of `at`.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learning_streak(&self, user: &str, at: Option<DateTime<Utc>>) -> Result<LearningStreak> {
        let at = self.learning_at(at);
        let history = self.learner(user, at)?;
        Ok(self.streak_of(&history, at))
    }

    fn streak_of(&self, history: &LearnerHistory, at: DateTime<Utc>) -> LearningStreak {
        let config = self.learning_config();
        LearningStreak {
            user: history.user.clone(),
            at,
            time_zone: history.time_zone.name().to_owned(),
            grace_hours: config.grace.num_seconds() as f64 / 3600.0,
            freezes_held: config.freezes,
            streak: tally_learning::streak::of_activity(
                &history.activity,
                history.time_zone,
                at,
                &config,
            ),
        }
    }

    /// Everything the learner page shows as of `at`: streak, goals, achievements with
    /// rarity, weekly progress, topic mastery, the 12-week heatmap and quality trend.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learner_dashboard(
        &self,
        user: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<LearnerDashboard> {
        let at = self.learning_at(at);
        let history = self.learner(user, at)?;
        let zone = history.time_zone;
        let today = at.with_timezone(&zone).date_naive();
        // The first local day shown: Monday of the week eleven weeks before this one.
        let first = Period::IsoWeek.start(today)
            - chrono::Days::new(7 * u64::from(DASHBOARD_WEEKS.saturating_sub(1)));
        let day = |a: &Activity| tally_learning::progress::local_day(a, zone);
        let shown = history.activity.partition_point(|a| day(a) < first);
        // Six days more for the first rolling averages.
        let lead = history
            .activity
            .partition_point(|a| day(a) + chrono::Days::new(6) < first);
        let heatmap = tally_learning::calendar::heatmap(
            &history.activity[shown..],
            zone,
            today,
            DASHBOARD_WEEKS,
        );
        let weekly =
            tally_learning::progress::by_period(&history.activity[shown..], zone, Period::IsoWeek);
        let goals = self.goals_of(&history, at)?;
        Ok(LearnerDashboard {
            user: user.to_owned(),
            at,
            time_zone: zone.name().to_owned(),
            overall: tally_learning::progress::totals(&history.activity),
            streak: self.streak_of(&history, at),
            achievements: self.achievements_of(&history, at, &goals)?,
            goals,
            weekly,
            topics: tally_learning::mastery::mastery(
                &history.activity,
                at,
                &self.learning_config(),
            ),
            quality_trend: tally_learning::calendar::quality_trend(
                &history.activity[lead..],
                zone,
                first,
                today,
            ),
            heatmap,
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
            topics: tally_learning::mastery::mastery(&history.activity, at, &config),
        })
    }

    /// Sets the IANA time zone `user`'s days are counted in.
    ///
    /// # Errors
    /// An unknown time zone, or a storage failure.
    pub fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        let zone = tally_learning::time_zone(time_zone)?;
        self.observe_write(self.store.set_learner_time_zone(user, zone.name()))
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
        let history = self.learner(user, at)?;
        self.goals_of(&history, at)
    }

    /// `user`'s goals this facade sees: those of its project limit, or all.
    fn visible_goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        let mut goals = self.store.goals(user)?;
        if let Some(project) = self.project_limit.as_deref() {
            goals.retain(|g| g.project.as_deref() == Some(project));
        }
        Ok(goals)
    }

    /// The visible goals of the learner of `history` as of `at`, each counted over the
    /// sessions of its own project (every project's for a global goal).
    fn goals_of(&self, history: &LearnerHistory, at: DateTime<Utc>) -> Result<Vec<GoalProgress>> {
        let config = self.learning_config();
        let mut by_project: HashMap<String, Vec<Activity>> = HashMap::new();
        self.visible_goals(&history.user)?
            .iter()
            .filter(|g| g.created_at <= at)
            .map(|g| {
                // `history` holds the project limit's sessions: every project's without one.
                let activity = match g.project.as_deref() {
                    Some(project) if self.project_limit.is_none() => {
                        if !by_project.contains_key(project) {
                            let own = self.store.learner_activity(
                                &history.user,
                                Some(project),
                                Some(at),
                            )?;
                            by_project.insert(project.to_owned(), own);
                        }
                        by_project.get(project).map_or(&[][..], Vec::as_slice)
                    }
                    _ => &history.activity[..],
                };
                Ok(tally_learning::goals::evaluate(
                    g,
                    activity,
                    history.time_zone,
                    at,
                    &config,
                )?)
            })
            .collect()
    }

    fn goal(&self, user: &str, id: i64) -> Result<GoalRecord> {
        self.visible_goals(user)?
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

    /// Refuses a goal becoming active in `project` (`None`: global) when `user` has the
    /// most active goals there already: each project has its own quota.
    fn check_active_goals(&self, user: &str, project: Option<&str>) -> Result<()> {
        let limit = self.learning_config().max_active_goals;
        let active = self
            .limited_to_project(None)
            .learning_goals(user, None)?
            .iter()
            .filter(|g| g.status == GoalStatus::Active && g.goal.project.as_deref() == project)
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
        self.check_active_goals(user, self.project_limit.as_deref())?;
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
            project: self.project_limit.clone(),
        };
        goal.id = self.observe_write(self.store.create_goal(&goal))?;
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
        self.observe_write(self.store.update_goal(&goal))?;
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
            self.check_active_goals(user, goal.project.as_deref())?;
        }
        goal.state = state.to_owned();
        self.observe_write(self.store.update_goal(&goal))?;
        self.goal_progress(goal)
    }

    /// The achievements of the learner of `history` as of `at`.
    pub(crate) fn earned(
        &self,
        history: &LearnerHistory,
        at: DateTime<Utc>,
    ) -> Result<Vec<Earned>> {
        let goals = self.goals_of(history, at)?;
        Ok(self.earned_with(history, at, &goals))
    }

    /// [`Analytics::earned`] with the learner's goals as of `at` already evaluated.
    fn earned_with(
        &self,
        history: &LearnerHistory,
        at: DateTime<Utc>,
        goals: &[GoalProgress],
    ) -> Vec<Earned> {
        let completions: Vec<DateTime<Utc>> = goals.iter().filter_map(|g| g.completed_at).collect();
        tally_learning::achievements::evaluate(
            &history.activity,
            &completions,
            history.time_zone,
            at,
            &self.learning_config(),
        )
    }

    /// Active learners as of `at` and the holders of each achievement among them, from
    /// the rarity index after refreshing the learners that changed since it was read;
    /// with a project limit, among that project's learners and from its sessions alone.
    fn holders(&self, at: DateTime<Utc>) -> Result<Holders> {
        let mut indexes = self.learning_cache.rarity();
        let index = indexes.entry(self.project_limit.clone()).or_default();
        self.refresh_rarity(index)?;
        Ok(index.holders(at))
    }

    /// Evaluates now every learner the rarity index over every project has not seen at
    /// their current revision, so that the first achievements answer does not pay for
    /// it (`tally serve` runs this once at start). Returns how many learners were
    /// evaluated.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn warm_learning_cache(&self) -> Result<usize> {
        let everything = self.limited_to_project(None);
        let mut indexes = self.learning_cache.rarity();
        everything.refresh_rarity(indexes.entry(None).or_default())
    }

    /// Evaluates again, within this facade's project limit, the learners of `index`
    /// whose revision moved; returns how many they were.
    fn refresh_rarity(&self, index: &mut RarityIndex) -> Result<usize> {
        let changed = self.store.learner_revisions(index.revision())?;
        if changed.is_empty() {
            return Ok(0);
        }
        let own: Option<HashSet<String>> = match self.project_limit.as_deref() {
            None => None,
            Some(project) => Some(self.store.learners(Some(project))?.into_iter().collect()),
        };
        let end = tally_learning::rarity::end_of_time();
        let mut evaluated = 0;
        for (user, revision) in changed {
            if own.as_ref().is_some_and(|own| !own.contains(&user)) {
                index.caught_up(revision);
                continue;
            }
            let history = self.learner(&user, end)?;
            let earned = self.earned(&history, end)?;
            index.update(
                user,
                LearnerMarks::new(&history.activity, &earned),
                revision,
            );
            evaluated += 1;
        }
        Ok(evaluated)
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
        let history = self.learner(user, at)?;
        let goals = self.goals_of(&history, at)?;
        self.achievements_of(&history, at, &goals)
    }

    fn achievements_of(
        &self,
        history: &LearnerHistory,
        at: DateTime<Utc>,
        goals: &[GoalProgress],
    ) -> Result<LearningAchievements> {
        let catalog = tally_learning::achievements::CATALOG.len();
        let holders = self.holders(at)?;
        let earned = self.earned_with(history, at, goals);
        let with_rarity = |(index, e): (usize, Earned)| {
            let share = holders.share(index);
            LearnerAchievement {
                earned: e,
                holders_share: share,
                rarity: share.map(Rarity::of),
            }
        };
        let (mut unlocked, mut locked): (Vec<_>, Vec<_>) = earned
            .into_iter()
            .enumerate()
            .map(with_rarity)
            .partition(|a| a.earned.unlocked_at.is_some());
        unlocked.sort_by_key(|a| a.earned.unlocked_at);
        locked.sort_by(|a, b| b.earned.percent.total_cmp(&a.earned.percent));
        locked.truncate(3);
        Ok(LearningAchievements {
            user: history.user.clone(),
            at,
            active_learners: holders.active_learners,
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
        let earned = self.earned(&history, at)?;
        Ok(tally_learning::insights::insights(
            &history.activity,
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
            &history.activity,
            history.time_zone,
            at,
            &self.learning_config(),
        ))
    }
}
