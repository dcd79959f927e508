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
