//! A learner's history once retention removed raw sessions: the learner summary keeps
//! every session folded into 15-minute UTC buckets, and a read merges those buckets
//! with the raw sessions still kept. The rule is the same for every adapter.

use chrono::{DateTime, TimeZone, Utc};

use crate::{Activity, LearningSession};

/// Milliseconds in a summary bucket.
pub const QUARTER_MS: i64 = 900_000;

/// The bucket of an instant (epoch ms).
pub fn quarter_of(millis: i64) -> i64 {
    millis.div_euclid(QUARTER_MS)
}

fn quarter(session: &LearningSession) -> i64 {
    quarter_of(session.ts.timestamp_millis())
}

/// The buckets `(key, quarter, activity)` of the summary whose sessions are not all
/// kept as raw sessions (`raw` oldest first): only those are answered from the summary.
pub fn summary_only<K>(
    buckets: Vec<(K, i64, Activity)>,
    raw: &[LearningSession],
) -> Vec<(K, i64, Activity)> {
    let mut r = 0;
    buckets
        .into_iter()
        .filter(|(_, q, bucket)| {
            while r < raw.len() && quarter(&raw[r]) < *q {
                r += 1;
            }
            let start = r;
            while r < raw.len() && quarter(&raw[r]) == *q {
                r += 1;
            }
            ((r - start) as u64) < bucket.sessions
        })
        .collect()
}

/// The summary-only buckets and the raw sessions of the other quarters, oldest first;
/// only what is at or before `until` (epoch ms): a bucket counts once its last session
/// does.
pub fn merge<K>(
    kept: Vec<(K, i64, Activity)>,
    raw: &[LearningSession],
    until: Option<i64>,
) -> Vec<Activity> {
    let until = until.map_or(DateTime::<Utc>::MAX_UTC, |millis| {
        Utc.timestamp_millis_opt(millis)
            .single()
            .unwrap_or_default()
    });
    let mut out = Vec::with_capacity(kept.len() + raw.len());
    let mut r = 0;
    for (_, q, bucket) in kept {
        while r < raw.len() && quarter(&raw[r]) < q {
            out.extend((raw[r].ts <= until).then(|| Activity::from(&raw[r])));
            r += 1;
        }
        // The bucket's raw sessions are incomplete: the bucket answers for them.
        while r < raw.len() && quarter(&raw[r]) == q {
            r += 1;
        }
        if bucket.last <= until {
            out.push(bucket);
        }
    }
    out.extend(
        raw[r..]
            .iter()
            .filter(|s| s.ts <= until)
            .map(Activity::from),
    );
    out
}
