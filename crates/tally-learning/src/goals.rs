//! Learning goals: a target on one measure, optional deadline, milestones at 25/50/75/100 %;
//! progress computed from the sessions since the goal was set, so it is always current.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tally_storage::{GoalRecord, LearningSession};

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

/// The goal's measure over `sessions` (oldest first), as of `at`.
pub fn measure(
    kind: GoalKind,
    sessions: &[&LearningSession],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> f64 {
    match kind {
        GoalKind::Streak => {
            let times: Vec<_> = sessions.iter().map(|s| s.ts).collect();
            f64::from(crate::streak::streak(&times, zone, at, config).current_days)
        }
        GoalKind::Sessions => sessions.len() as f64,
        GoalKind::Exchanges => sessions.iter().map(|s| s.exchanges as f64).sum(),
        GoalKind::Quality => crate::progress::totals(sessions.iter().copied())
            .average_quality
            .unwrap_or(0.0),
        GoalKind::Topics => sessions
            .iter()
            .flat_map(|s| s.topics.iter())
            .collect::<BTreeSet<_>>()
            .len() as f64,
        GoalKind::Minutes => sessions.iter().map(|s| s.duration_us as f64 / 60e6).sum(),
    }
}

/// The progress of `goal` as of `at` from the learner's `sessions` (oldest first).
///
/// # Errors
/// [`Error::InvalidGoal`] when the stored type is unknown.
pub fn evaluate(
    goal: &GoalRecord,
    sessions: &[LearningSession],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Result<GoalProgress> {
    let kind: GoalKind = goal.kind.parse()?;
    let end = goal.deadline.map_or(at, |d| d.min(at));
    let counted: Vec<&LearningSession> = sessions
        .iter()
        .filter(|s| s.ts >= goal.created_at && s.ts <= end)
        .collect();
    let completed_at = (1..=counted.len()).find_map(|n| {
        let ts = counted[n - 1].ts;
        (measure(kind, &counted[..n], zone, ts, config) >= goal.target).then_some(ts)
    });
    let value = measure(kind, &counted, zone, end, config);
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

/// Suggestions from the 28 days up to `at` (`sessions` oldest first); none without history.
pub fn suggest(
    sessions: &[LearningSession],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Vec<GoalSuggestion> {
    let recent: Vec<&LearningSession> = sessions
        .iter()
        .filter(|s| s.ts <= at && at - s.ts <= chrono::Duration::days(28))
        .collect();
    if recent.is_empty() {
        return Vec::new();
    }
    let confidence = (recent.len() as f64 / 20.0).min(1.0);
    let totals = crate::progress::totals(recent.iter().copied());
    let times: Vec<_> = sessions
        .iter()
        .filter(|s| s.ts <= at)
        .map(|s| s.ts)
        .collect();
    let streak = crate::streak::streak(&times, zone, at, config);
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
