//! What a store's writer knows about itself, as plain numbers: how many batches wait
//! for it and how long its commits take. An adapter keeps a [`CommitTimes`] and
//! answers [`crate::Maintenance::writer_stats`]; whoever exports the figures (the HTTP
//! server's `/metrics`) formats them, so no store depends on a metrics library.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The upper bounds, in seconds, of the commit-duration buckets (a last, unbounded
/// bucket follows): from a group of small batches (about a millisecond) to a
/// checkpoint-sized stall.
pub const COMMIT_SECONDS_BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A histogram of commit durations, updated without a lock by the writer.
#[derive(Debug, Default)]
pub struct CommitTimes {
    /// Commits per bucket of [`COMMIT_SECONDS_BOUNDS`], the last one past every bound.
    buckets: [AtomicU64; COMMIT_SECONDS_BOUNDS.len() + 1],
    total_nanos: AtomicU64,
}

impl CommitTimes {
    /// Counts one commit that took `elapsed`.
    pub fn record(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = COMMIT_SECONDS_BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(COMMIT_SECONDS_BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.total_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The commits counted so far.
    pub fn snapshot(&self) -> CommitHistogram {
        CommitHistogram {
            counts: std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            total_seconds: Duration::from_nanos(self.total_nanos.load(Ordering::Relaxed))
                .as_secs_f64(),
        }
    }
}

/// Commit durations counted since the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CommitHistogram {
    /// Commits per bucket (not cumulative): `counts[i]` took at most
    /// `COMMIT_SECONDS_BOUNDS[i]` and more than the bound before; the last entry took
    /// longer than every bound.
    pub counts: [u64; COMMIT_SECONDS_BOUNDS.len() + 1],
    /// The commits' durations added up, in seconds.
    pub total_seconds: f64,
}

impl CommitHistogram {
    /// Commits counted.
    pub fn commits(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The writer's figures at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WriterStats {
    /// Batches waiting for the writer (the group-commit queue) right now.
    pub queue_depth: u64,
    /// Every commit since the store opened, by duration.
    pub commit_times: CommitHistogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_commit_lands_in_the_first_bucket_whose_bound_it_does_not_exceed() {
        let times = CommitTimes::default();
        times.record(Duration::from_micros(300));
        times.record(Duration::from_millis(1));
        times.record(Duration::from_millis(30));
        times.record(Duration::from_secs(10));
        let histogram = times.snapshot();
        let mut expected = [0; COMMIT_SECONDS_BOUNDS.len() + 1];
        expected[0] = 1; // 0.3 ms <= 0.5 ms
        expected[1] = 1; // 1 ms <= 1 ms
        expected[6] = 1; // 30 ms <= 50 ms
        expected[COMMIT_SECONDS_BOUNDS.len()] = 1; // 10 s: past every bound
        assert_eq!(histogram.counts, expected);
        assert_eq!(histogram.commits(), 4);
        assert!((histogram.total_seconds - 10.0313).abs() < 1e-9);
    }
}
