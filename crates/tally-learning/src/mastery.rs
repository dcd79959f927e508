//! Topic mastery: a score in [0, 1] per topic from the quality and recency of the
//! sessions on it, a level, and the distribution of topics. The formula is in
//! `docs/learning.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_store::Activity;

use crate::LearningConfig;

/// A named band of the mastery score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// score < 0.2
    Novice,
    /// 0.2 ≤ score < 0.4
    Beginner,
    /// 0.4 ≤ score < 0.6
    Intermediate,
    /// 0.6 ≤ score < 0.85
    Advanced,
    /// score ≥ 0.85
    Expert,
}

impl Level {
    /// The band holding `score`.
    pub fn of(score: f64) -> Level {
        match score {
            s if s >= 0.85 => Level::Expert,
            s if s >= 0.6 => Level::Advanced,
            s if s >= 0.4 => Level::Intermediate,
            s if s >= 0.2 => Level::Beginner,
            _ => Level::Novice,
        }
    }
}

/// One topic's mastery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicMastery {
    pub topic: String,
    pub score: f64,
    pub level: Level,
    pub mastered: bool,
    /// Sessions on the topic.
    pub interactions: u64,
    /// Share of the learner's topic mentions that name this topic.
    pub share: f64,
    /// Quality of its sessions weighted by recency (`None`: no session reported one).
    pub weighted_quality: Option<f64>,
    pub last_seen: DateTime<Utc>,
}

/// Mastery of every topic in `activity` as of `at` (later activity ignored), best first.
/// A bucket of several sessions weighs by the age of its last one.
pub fn mastery(
    activity: &[Activity],
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Vec<TopicMastery> {
    struct Acc {
        weighted: f64,
        weights: f64,
        rated: u64,
        interactions: u64,
        last_seen: DateTime<Utc>,
    }
    let mut topics: BTreeMap<&str, Acc> = BTreeMap::new();
    let mut mentions = 0u64;
    for a in activity.iter().filter(|a| a.last <= at) {
        let age_days = (at - a.last).num_seconds() as f64 / 86_400.0;
        let weight = 0.5f64.powf(age_days / config.half_life_days);
        for topic in &a.topics {
            mentions += topic.sessions;
            let acc = topics.entry(&topic.topic).or_insert(Acc {
                weighted: 0.0,
                weights: 0.0,
                rated: 0,
                interactions: 0,
                last_seen: a.last,
            });
            acc.interactions += topic.sessions;
            acc.last_seen = acc.last_seen.max(a.last);
            if topic.rated > 0 {
                let mean = (topic.quality_sum / topic.rated as f64).clamp(0.0, 1.0);
                acc.weighted += weight * mean * topic.rated as f64;
                acc.weights += weight * topic.rated as f64;
                acc.rated += topic.rated;
            }
        }
    }
    let mut out: Vec<TopicMastery> = topics
        .into_iter()
        .map(|(topic, acc)| {
            let weighted_quality = (acc.weights > 0.0).then(|| acc.weighted / acc.weights);
            let evidence = acc.rated as f64 / (acc.rated as f64 + 1.0);
            let idle_days = (at - acc.last_seen).num_seconds() as f64 / 86_400.0;
            let recency = 0.5f64.powf(idle_days / config.half_life_days);
            let score = (weighted_quality.unwrap_or(0.0) * evidence * recency).clamp(0.0, 1.0);
            TopicMastery {
                topic: topic.to_owned(),
                score,
                level: Level::of(score),
                mastered: score >= config.mastered_at,
                interactions: acc.interactions,
                share: acc.interactions as f64 / mentions.max(1) as f64,
                weighted_quality,
                last_seen: acc.last_seen,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.topic.cmp(&b.topic)));
    out
}
