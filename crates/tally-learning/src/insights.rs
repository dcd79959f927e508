//! Insights: short findings about one learner (quality trend, streak at risk, mastered
//! topic, unusual drop, milestone reached), each with the numbers that triggered it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tally_store::Activity;

use crate::LearningConfig;
use crate::achievements::Earned;

/// What an insight is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsightKind {
    QualityTrend,
    StreakAtRisk,
    MasteredTopic,
    UnusualDrop,
    MilestoneReached,
}

/// How soon it deserves attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Medium,
    Low,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnerInsight {
    pub kind: InsightKind,
    pub title: String,
    pub description: String,
    pub recommendation: String,
    pub priority: Priority,
    /// In [0, 1]: how much data backs it.
    pub confidence: f64,
    /// The figures that triggered it.
    pub numbers: BTreeMap<&'static str, f64>,
}

/// The qualities of the last `n` rated sessions of `ordered` (oldest first), a bucket's
/// sessions each at its mean.
pub fn recent_qualities(ordered: &[&Activity], n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    for a in ordered.iter().rev() {
        if let Some(mean) = a.average_quality() {
            for _ in 0..a.rated {
                if out.len() == n {
                    break;
                }
                out.push(mean);
            }
        }
        if out.len() == n {
            break;
        }
    }
    out.reverse();
    out
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The insights for a learner as of `at`, most urgent first. `achievements` is the
/// output of [`crate::achievements::evaluate`] for the same learner and instant.
pub fn insights(
    activity: &[Activity],
    achievements: &[Earned],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Vec<LearnerInsight> {
    let mut ordered: Vec<&Activity> = activity.iter().filter(|a| a.last <= at).collect();
    ordered.sort_by_key(|a| a.first);
    let mut out = Vec::new();

    // Quality trend: the last 5 rated sessions against the 5 before them (the sessions
    // of a summary bucket each count with the bucket's mean quality).
    let rated = recent_qualities(&ordered, 10);
    if rated.len() >= 10 {
        let recent = mean(&rated[rated.len() - 5..]);
        let before = mean(&rated[rated.len() - 10..rated.len() - 5]);
        let change = recent - before;
        if change.abs() >= 0.1 {
            let up = change > 0.0;
            out.push(LearnerInsight {
                kind: InsightKind::QualityTrend,
                title: if up { "Quality is rising" } else { "Quality is falling" }.into(),
                description: format!(
                    "average quality of the last 5 sessions is {recent:.2}, against {before:.2} for the 5 before"
                ),
                recommendation: if up {
                    "keep the current pace and try a harder topic".into()
                } else {
                    "revisit recent topics with shorter, focused sessions".into()
                },
                priority: if up { Priority::Low } else { Priority::Medium },
                confidence: (ordered.iter().map(|a| a.rated).sum::<u64>() as f64 / 20.0).min(1.0),
                numbers: BTreeMap::from([("recent", recent), ("before", before), ("change", change)]),
            });
        }
    }

    // Streak at risk.
    let spans: Vec<crate::streak::Span> = ordered.iter().map(|a| (a.first, a.last)).collect();
    let streak = crate::streak::streak_of_spans(&spans, zone, at, config);
    if streak.at_risk && streak.current_days >= 3 {
        out.push(LearnerInsight {
            kind: InsightKind::StreakAtRisk,
            title: format!("{}-day streak at risk", streak.current_days),
            description: format!(
                "no session today; {} missed day(s) since the last one",
                streak.missed_days_now
            ),
            recommendation: "a short session today keeps the streak".into(),
            priority: Priority::High,
            confidence: 0.9,
            numbers: BTreeMap::from([
                ("current_days", f64::from(streak.current_days)),
                ("missed_days", f64::from(streak.missed_days_now)),
            ]),
        });
    }

    // Unusual drop: sessions in the last 7 days against the weekly mean of the 4 weeks
    // before.
    let week = |from: i64, to: i64| {
        ordered
            .iter()
            .filter(|a| a.last > at - Duration::days(to) && a.last <= at - Duration::days(from))
            .map(|a| a.sessions)
            .sum::<u64>() as f64
    };
    let last_week = week(0, 7);
    let usual = week(7, 35) / 4.0;
    if usual >= 2.0 && last_week < usual / 2.0 {
        out.push(LearnerInsight {
            kind: InsightKind::UnusualDrop,
            title: "Fewer sessions than usual".into(),
            description: format!(
                "{last_week:.0} sessions in the last 7 days, against {usual:.1} a week before"
            ),
            recommendation: "check in with the learner; set a small sessions goal".into(),
            priority: Priority::High,
            confidence: (usual / 5.0).min(1.0),
            numbers: BTreeMap::from([("last_7_days", last_week), ("weekly_mean_before", usual)]),
        });
    }

    // Topics mastered, seen in the last 7 days.
    for topic in crate::mastery::mastery(activity, at, config) {
        if topic.mastered && at - topic.last_seen <= Duration::days(7) {
            out.push(LearnerInsight {
                kind: InsightKind::MasteredTopic,
                title: format!("{} mastered", topic.topic),
                description: format!(
                    "mastery score {:.2} over {} sessions",
                    topic.score, topic.interactions
                ),
                recommendation: "move on to a related, harder topic".into(),
                priority: Priority::Low,
                confidence: topic.score,
                numbers: BTreeMap::from([
                    ("score", topic.score),
                    ("interactions", topic.interactions as f64),
                ]),
            });
        }
    }

    // Achievements unlocked in the last 7 days.
    for earned in achievements {
        if let Some(ts) = earned
            .unlocked_at
            .filter(|ts| at - *ts <= Duration::days(7))
        {
            out.push(LearnerInsight {
                kind: InsightKind::MilestoneReached,
                title: format!("Unlocked {}", earned.achievement.name),
                description: format!(
                    "{} on {}",
                    earned.achievement.description,
                    ts.with_timezone(&zone).format("%Y-%m-%d")
                ),
                recommendation: "celebrate it with the learner".into(),
                priority: Priority::Low,
                confidence: 1.0,
                numbers: BTreeMap::from([
                    ("value", earned.value),
                    ("threshold", earned.achievement.threshold),
                ]),
            });
        }
    }
    out.sort_by_key(|i| i.priority);
    out
}
