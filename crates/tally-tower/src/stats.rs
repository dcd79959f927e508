//! What became of the recorded requests: counters the layer and the sender thread
//! update, read as a [`Stats`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_closed: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) dropped_send_failed: AtomicU64,
    pub(crate) failed_attempts: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            queued: read(&self.queued),
            dropped_queue_full: read(&self.dropped_queue_full),
            dropped_closed: read(&self.dropped_closed),
            sent: read(&self.sent),
            rejected: read(&self.rejected),
            dropped_send_failed: read(&self.dropped_send_failed),
            failed_attempts: read(&self.failed_attempts),
        }
    }
}

/// Requests recorded and what became of their events. Once the recorder has shut down,
/// `queued = sent + dropped_send_failed` and every request answered is in `queued`,
/// `dropped_queue_full` or `dropped_closed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events put in the queue.
    pub queued: u64,
    /// Events dropped because the queue was full (tally slow or down).
    pub dropped_queue_full: u64,
    /// Events of requests answered after the recorder shut down.
    pub dropped_closed: u64,
    /// Events in batches the destination took (stored, duplicates, or rejected).
    pub sent: u64,
    /// Of `sent`, the events the destination refused as invalid (kept in its quarantine).
    pub rejected: u64,
    /// Events dropped after their batch failed every attempt.
    pub dropped_send_failed: u64,
    /// Delivery attempts that failed (retried or given up).
    pub failed_attempts: u64,
}
