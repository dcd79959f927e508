//! Achievements: a fixed catalog with points, unlocked at the time of the session (or goal
//! completion) that earned them, computed from events so each unlocks exactly once
//! whatever the arrival order; rarity from the share of active learners holding each.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tally_store::Activity;

use crate::LearningConfig;

/// The family an achievement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Streak,
    Sessions,
    Quality,
    Topics,
    Goals,
    Milestones,
}

/// The figure an achievement is judged on, as the learner's history grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Longest streak in days.
    LongestStreak,
    Sessions,
    /// Sessions with quality ≥ 0.9.
    ExcellentSessions,
    /// Average quality (only once 10 sessions reported one).
    AverageQuality,
    DistinctTopics,
    GoalsCompleted,
    Exchanges,
    Minutes,
}

/// One entry of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Achievement {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub category: Category,
    pub points: u32,
    pub measure: Measure,
    pub threshold: f64,
}

const fn a(
    id: &'static str,
    name: &'static str,
    description: &'static str,
    category: Category,
    points: u32,
    measure: Measure,
    threshold: f64,
) -> Achievement {
    Achievement {
        id,
        name,
        description,
        category,
        points,
        measure,
        threshold,
    }
}

use Category as C;
use Measure as M;

/// The catalog, 24 achievements.
pub const CATALOG: &[Achievement] = &[
    a(
        "streak_3",
        "Warming up",
        "a 3-day streak",
        C::Streak,
        10,
        M::LongestStreak,
        3.0,
    ),
    a(
        "streak_7",
        "One week",
        "a 7-day streak",
        C::Streak,
        25,
        M::LongestStreak,
        7.0,
    ),
    a(
        "streak_14",
        "Fortnight",
        "a 14-day streak",
        C::Streak,
        50,
        M::LongestStreak,
        14.0,
    ),
    a(
        "streak_30",
        "Monthly habit",
        "a 30-day streak",
        C::Streak,
        100,
        M::LongestStreak,
        30.0,
    ),
    a(
        "streak_100",
        "Unstoppable",
        "a 100-day streak",
        C::Streak,
        300,
        M::LongestStreak,
        100.0,
    ),
    a(
        "sessions_1",
        "First step",
        "a first session",
        C::Sessions,
        5,
        M::Sessions,
        1.0,
    ),
    a(
        "sessions_10",
        "Getting going",
        "10 sessions",
        C::Sessions,
        10,
        M::Sessions,
        10.0,
    ),
    a(
        "sessions_50",
        "Regular",
        "50 sessions",
        C::Sessions,
        30,
        M::Sessions,
        50.0,
    ),
    a(
        "sessions_100",
        "Centurion",
        "100 sessions",
        C::Sessions,
        60,
        M::Sessions,
        100.0,
    ),
    a(
        "sessions_500",
        "Scholar",
        "500 sessions",
        C::Sessions,
        200,
        M::Sessions,
        500.0,
    ),
    a(
        "excellent_1",
        "Sharp",
        "a session of quality >= 0.9",
        C::Quality,
        10,
        M::ExcellentSessions,
        1.0,
    ),
    a(
        "excellent_10",
        "Consistently sharp",
        "10 sessions of quality >= 0.9",
        C::Quality,
        40,
        M::ExcellentSessions,
        10.0,
    ),
    a(
        "quality_avg_80",
        "High standard",
        "average quality >= 0.8 over at least 10 rated sessions",
        C::Quality,
        50,
        M::AverageQuality,
        0.8,
    ),
    a(
        "topics_3",
        "Curious",
        "3 topics",
        C::Topics,
        10,
        M::DistinctTopics,
        3.0,
    ),
    a(
        "topics_5",
        "Explorer",
        "5 topics",
        C::Topics,
        25,
        M::DistinctTopics,
        5.0,
    ),
    a(
        "topics_10",
        "Polymath",
        "10 topics",
        C::Topics,
        60,
        M::DistinctTopics,
        10.0,
    ),
    a(
        "goals_1",
        "Goal getter",
        "a completed goal",
        C::Goals,
        20,
        M::GoalsCompleted,
        1.0,
    ),
    a(
        "goals_5",
        "Achiever",
        "5 completed goals",
        C::Goals,
        60,
        M::GoalsCompleted,
        5.0,
    ),
    a(
        "exchanges_100",
        "Talkative",
        "100 exchanges",
        C::Milestones,
        15,
        M::Exchanges,
        100.0,
    ),
    a(
        "exchanges_1000",
        "Deep diver",
        "1,000 exchanges",
        C::Milestones,
        60,
        M::Exchanges,
        1000.0,
    ),
    a(
        "exchanges_10000",
        "Dialogue master",
        "10,000 exchanges",
        C::Milestones,
        200,
        M::Exchanges,
        10000.0,
    ),
    a(
        "minutes_600",
        "Ten hours",
        "10 hours of sessions",
        C::Milestones,
        30,
        M::Minutes,
        600.0,
    ),
    a(
        "minutes_3000",
        "Fifty hours",
        "50 hours of sessions",
        C::Milestones,
        100,
        M::Minutes,
        3000.0,
    ),
    a(
        "minutes_6000",
        "A hundred hours",
        "100 hours of sessions",
        C::Milestones,
        200,
        M::Minutes,
        6000.0,
    ),
];

/// One achievement for one learner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Earned {
    #[serde(flatten)]
    pub achievement: Achievement,
    /// The time of the event that earned it; `None` while locked.
    pub unlocked_at: Option<DateTime<Utc>>,
    /// The measure as of the instant asked about.
    pub value: f64,
    /// `value / threshold` in percent, at most 100.
    pub percent: f64,
}

/// Every catalog entry for a learner as of `at`: `activity` in any order (what ends
/// after `at` is ignored) and the times their goals were completed. An achievement
/// unlocks at the last session of the activity after which its measure reached the
/// threshold (the session itself while raw rows are kept).
pub fn evaluate(
    activity: &[Activity],
    goal_completions: &[DateTime<Utc>],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Vec<Earned> {
    let mut ordered: Vec<&Activity> = activity.iter().filter(|a| a.last <= at).collect();
    ordered.sort_by_key(|a| a.first);
    let spans: Vec<crate::streak::Span> = ordered.iter().map(|a| (a.first, a.last)).collect();
    let longest = crate::streak::longest_after_each_span(&spans, zone, config);
    let mut completions: Vec<DateTime<Utc>> = goal_completions
        .iter()
        .copied()
        .filter(|t| *t <= at)
        .collect();
    completions.sort_unstable();

    // The running measures after each activity, in time order.
    let mut unlocked: Vec<Option<DateTime<Utc>>> = vec![None; CATALOG.len()];
    let mut values = [0.0f64; 8];
    let (mut sessions, mut excellent, mut exchanges, mut duration_us) = (0u64, 0u64, 0u128, 0i128);
    let (mut quality_sum, mut rated) = (0.0, 0u64);
    let mut topics: BTreeSet<&str> = BTreeSet::new();
    let index = |m: Measure| m as usize;
    for (i, a) in ordered.iter().enumerate() {
        sessions += a.sessions;
        exchanges += a.exchanges;
        duration_us += a.duration_us;
        quality_sum += a.quality_sum;
        rated += a.rated;
        excellent += a.excellent;
        topics.extend(a.topics.iter().map(|t| t.topic.as_str()));
        values[index(Measure::LongestStreak)] = f64::from(longest[i]);
        values[index(Measure::Sessions)] = sessions as f64;
        values[index(Measure::ExcellentSessions)] = excellent as f64;
        values[index(Measure::AverageQuality)] = if rated >= 10 {
            quality_sum / rated as f64
        } else {
            0.0
        };
        values[index(Measure::DistinctTopics)] = topics.len() as f64;
        values[index(Measure::Exchanges)] = exchanges as f64;
        values[index(Measure::Minutes)] = duration_us as f64 / 60e6;
        record(&values, a.last, &mut unlocked);
    }
    for (n, ts) in completions.iter().enumerate() {
        values[index(Measure::GoalsCompleted)] = (n + 1) as f64;
        record(&values, *ts, &mut unlocked);
    }
    CATALOG
        .iter()
        .zip(unlocked)
        .map(|(achievement, unlocked_at)| {
            let value = values[index(achievement.measure)];
            Earned {
                achievement: *achievement,
                unlocked_at,
                value,
                percent: if unlocked_at.is_some() {
                    100.0
                } else {
                    (value / achievement.threshold * 100.0).clamp(0.0, 100.0)
                },
            }
        })
        .collect()
}

/// Marks the locked achievements whose measure reached their threshold as unlocked at `ts`.
fn record(values: &[f64; 8], ts: DateTime<Utc>, unlocked: &mut [Option<DateTime<Utc>>]) {
    for (slot, achievement) in unlocked.iter_mut().zip(CATALOG) {
        if slot.is_none() && values[achievement.measure as usize] >= achievement.threshold {
            *slot = Some(ts);
        }
    }
}

/// How rare an achievement is among active learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rarity {
    /// Held by ≥ 50 % of active learners.
    Common,
    /// ≥ 20 %.
    Uncommon,
    /// ≥ 5 %.
    Rare,
    /// ≥ 1 %.
    Epic,
    /// < 1 %.
    Legendary,
}

impl Rarity {
    /// The band of a share in [0, 1].
    pub fn of(share: f64) -> Rarity {
        match share {
            s if s >= 0.5 => Rarity::Common,
            s if s >= 0.2 => Rarity::Uncommon,
            s if s >= 0.05 => Rarity::Rare,
            s if s >= 0.01 => Rarity::Epic,
            _ => Rarity::Legendary,
        }
    }
}
