//! Learning goals: a target on one measure, optional deadline, milestones at 25/50/75/100 %;
//! progress computed from the sessions since the goal was set, so it is always current.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tally_store::{Activity, GoalRecord};

use crate::{Error, LearningConfig, Result};

/// What a goal measures, over the sessions since it was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalKind {
    /// Current streak in days.
    Streak,
    Sessions,
    Exchanges,
    /// Average session quality, in [0, 1].
    Quality,
    /// Distinct topics.
    Topics,
    Minutes,
}

impl GoalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GoalKind::Streak => "streak",
            GoalKind::Sessions => "sessions",
            GoalKind::Exchanges => "exchanges",
            GoalKind::Quality => "quality",
            GoalKind::Topics => "topics",
            GoalKind::Minutes => "minutes",
        }
    }
}

impl FromStr for GoalKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<GoalKind> {
        Ok(match text {
            "streak" => GoalKind::Streak,
            "sessions" => GoalKind::Sessions,
            "exchanges" => GoalKind::Exchanges,
            "quality" => GoalKind::Quality,
            "topics" => GoalKind::Topics,
            "minutes" => GoalKind::Minutes,
            other => {
                return Err(Error::InvalidGoal(format!(
                    "type must be streak, sessions, exchanges, quality, topics or minutes, got {other:?}"
                )));
            }
        })
    }
}

/// Checks a goal's type and target.
///
/// # Errors
/// [`Error::InvalidGoal`] saying what is wrong.
pub fn validate(kind: &str, target: f64) -> Result<GoalKind> {
    let kind: GoalKind = kind.parse()?;
    if !target.is_finite() || target <= 0.0 {
        return Err(Error::InvalidGoal(format!(
            "target must be a number > 0, got {target}"
        )));
    }
    if kind == GoalKind::Quality && target > 1.0 {
        return Err(Error::InvalidGoal(format!(
            "a quality target must be in (0, 1], got {target}"
        )));
    }
    Ok(kind)
}

/// Where a goal stands as of an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    Active,
    Paused,
    Abandoned,
    /// The target was reached (before the deadline, if any); stays so.
    Completed,
    /// The deadline passed before the target was reached.
    Failed,
}

/// A goal with its progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalProgress {
    #[serde(flatten)]
    pub goal: GoalRecord,
    pub status: GoalStatus,
    /// The measure now, over the sessions since the goal was set.
    pub value: f64,
    /// `value / target`, in percent, at most 100 (100 once completed).
    pub percent: f64,
    /// The milestones (25, 50, 75, 100 %) reached.
    pub milestones: Vec<u8>,
    /// The time of the session that reached the target.
    pub completed_at: Option<DateTime<Utc>>,
}

/// The running measures of a goal over activity fed oldest first.
#[derive(Default)]
struct Running<'a> {
    sessions: u64,
    exchanges: u128,
    duration_us: i128,
    quality_sum: f64,
    rated: u64,
    topics: BTreeSet<&'a str>,
    streak: crate::streak::RunningStreak,
}

impl<'a> Running<'a> {
    fn push(&mut self, a: &'a Activity, zone: Tz, config: &LearningConfig) {
        self.sessions += a.sessions;
        self.exchanges += a.exchanges;
        self.duration_us += a.duration_us;
        self.quality_sum += a.quality_sum;
        self.rated += a.rated;
        self.topics
            .extend(a.topics.iter().map(|t| t.topic.as_str()));
        self.streak.push((a.first, a.last), zone, config);
    }

    /// The measure right after the last activity pushed (the streak as of its last
    /// session).
    fn value(&self, kind: GoalKind) -> f64 {
        match kind {
            GoalKind::Streak => f64::from(self.streak.days),
            GoalKind::Sessions => self.sessions as f64,
            GoalKind::Exchanges => self.exchanges as f64,
            GoalKind::Quality if self.rated > 0 => self.quality_sum / self.rated as f64,
            GoalKind::Quality => 0.0,
            GoalKind::Topics => self.topics.len() as f64,
            GoalKind::Minutes => self.duration_us as f64 / 60e6,
        }
    }
}

/// The progress of `goal` as of `at` from the learner's `activity` (oldest first). It
/// counts the activity whose sessions all started between the goal's creation and
/// `min(at, deadline)`; it completes at the last session of the activity that reached
/// the target.
///
/// # Errors
/// [`Error::InvalidGoal`] when the stored type is unknown.
pub fn evaluate(
    goal: &GoalRecord,
    activity: &[Activity],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Result<GoalProgress> {
    let kind: GoalKind = goal.kind.parse()?;
    let end = goal.deadline.map_or(at, |d| d.min(at));
    let counted: Vec<&Activity> = activity
        .iter()
        .filter(|a| a.first >= goal.created_at && a.last <= end)
        .collect();
    let mut running = Running::default();
    let mut completed_at = None;
    for a in &counted {
        running.push(a, zone, config);
        if completed_at.is_none() && running.value(kind) >= goal.target {
            completed_at = Some(a.last);
        }
    }
    let value = match kind {
        GoalKind::Streak => {
            let spans: Vec<_> = counted.iter().map(|a| (a.first, a.last)).collect();
            f64::from(crate::streak::streak_of_spans(&spans, zone, end, config).current_days)
        }
        _ => running.value(kind),
    };
    let percent = if completed_at.is_some() {
        100.0
    } else {
        (value / goal.target * 100.0).clamp(0.0, 100.0)
    };
    let status = match (goal.state.as_str(), completed_at) {
        ("abandoned", _) => GoalStatus::Abandoned,
        (_, Some(_)) => GoalStatus::Completed,
        ("paused", None) => GoalStatus::Paused,
        _ if goal.deadline.is_some_and(|d| d < at) => GoalStatus::Failed,
        _ => GoalStatus::Active,
    };
    Ok(GoalProgress {
        goal: goal.clone(),
        status,
        value,
        percent,
        milestones: [25u8, 50, 75, 100]
            .into_iter()
            .filter(|m| percent >= f64::from(*m))
            .collect(),
        completed_at,
    })
}

/// How hard a suggested goal is compared with what the learner has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

/// A goal suggested from the learner's own history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalSuggestion {
    pub title: String,
    pub kind: GoalKind,
    pub target: f64,
    pub difficulty: Difficulty,
    /// In [0, 1]: how much history backs it (sessions in the last 28 days / 20).
    pub confidence: f64,
}

/// Suggestions from the 28 days up to `at` (`activity` oldest first); none without history.
pub fn suggest(
    activity: &[Activity],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Vec<GoalSuggestion> {
    let recent: Vec<&Activity> = activity
        .iter()
        .filter(|a| a.last <= at && at - a.last <= chrono::Duration::days(28))
        .collect();
    if recent.is_empty() {
        return Vec::new();
    }
    let totals = crate::progress::totals(recent.iter().copied());
    let confidence = (totals.sessions as f64 / 20.0).min(1.0);
    let streak = crate::streak::of_activity(activity, zone, at, config);
    let weekly_sessions = totals.sessions as f64 / 4.0;
    let weekly_minutes = totals.minutes / 4.0;
    let mut out = vec![
        GoalSuggestion {
            title: "One more session a week than usual".into(),
            kind: GoalKind::Sessions,
            target: (weekly_sessions + 1.0).ceil(),
            difficulty: Difficulty::Easy,
            confidence,
        },
        GoalSuggestion {
            title: format!("Beat your longest streak of {} days", streak.longest_days),
            kind: GoalKind::Streak,
            target: f64::from(streak.longest_days + 1).max(3.0),
            difficulty: if streak.longest_days >= 14 {
                Difficulty::Hard
            } else {
                Difficulty::Medium
            },
            confidence,
        },
        GoalSuggestion {
            title: "A tenth more study time in a week".into(),
            kind: GoalKind::Minutes,
            target: (weekly_minutes * 1.1).ceil().max(10.0),
            difficulty: Difficulty::Medium,
            confidence,
        },
        GoalSuggestion {
            title: "Two new topics".into(),
            kind: GoalKind::Topics,
            target: 2.0,
            difficulty: Difficulty::Medium,
            confidence,
        },
    ];
    if let Some(quality) = totals.average_quality.filter(|q| *q < 0.95) {
        out.push(GoalSuggestion {
            title: format!("Raise average quality from {quality:.2}"),
            kind: GoalKind::Quality,
            target: ((quality + 0.05) * 100.0).round().min(100.0) / 100.0,
            difficulty: Difficulty::Hard,
            confidence,
        });
    }
    out
}
