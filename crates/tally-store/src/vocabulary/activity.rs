//! What learners did, as the learning tier reads it: sessions, and activity summed per
//! session or per 15-minute bucket.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One stored `session` event, as the learning tier reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearningSession {
    pub ts: DateTime<Utc>,
    pub duration_us: i64,
    pub exchanges: u64,
    /// Average quality in [0, 1], when the event had one.
    pub quality: Option<f64>,
    /// Topic names, sorted.
    pub topics: Vec<String>,
}

/// A learner's sessions that started in one 15-minute UTC bucket (from the learner
/// summary, once raw retention removed them), or one session (while its raw row is
/// kept): the learning tier's input. Every sum is exact; only the times of the sessions
/// between `first` and `last` are lost in a bucket of more than one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// Start of the earliest session.
    pub first: DateTime<Utc>,
    /// Start of the latest session (`first` for one session).
    pub last: DateTime<Utc>,
    pub sessions: u64,
    /// Sums are 128-bit: bounded per session, they cannot wrap however many are added.
    pub exchanges: u128,
    pub duration_us: i128,
    /// Sum of the reported qualities.
    pub quality_sum: f64,
    /// Sessions that reported a quality.
    pub rated: u64,
    /// Sessions of quality >= 0.9.
    pub excellent: u64,
    /// Per topic, sorted by name.
    pub topics: Vec<TopicActivity>,
}

/// The sessions of an [`Activity`] that named one topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicActivity {
    pub topic: String,
    pub sessions: u64,
    pub rated: u64,
    pub quality_sum: f64,
}

impl Activity {
    /// Mean quality of the rated sessions, `None` when none reported one.
    pub fn average_quality(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.quality_sum / self.rated as f64)
    }

    /// Adds the sessions of `other` (another project's of the same bucket) to these,
    /// topics aside.
    pub fn absorb(&mut self, other: &Activity) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.sessions += other.sessions;
        self.exchanges += other.exchanges;
        self.duration_us += other.duration_us;
        self.quality_sum += other.quality_sum;
        self.rated += other.rated;
        self.excellent += other.excellent;
    }
}

impl From<&LearningSession> for Activity {
    fn from(s: &LearningSession) -> Activity {
        let rated = u64::from(s.quality.is_some());
        let quality_sum = s.quality.unwrap_or(0.0);
        Activity {
            first: s.ts,
            last: s.ts,
            sessions: 1,
            exchanges: u128::from(s.exchanges),
            duration_us: i128::from(s.duration_us),
            quality_sum,
            rated,
            excellent: u64::from(s.quality.is_some_and(|q| q >= 0.9)),
            topics: s
                .topics
                .iter()
                .map(|topic| TopicActivity {
                    topic: topic.clone(),
                    sessions: 1,
                    rated,
                    quality_sum,
                })
                .collect(),
        }
    }
}
