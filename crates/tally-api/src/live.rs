//! Live updates: every committed batch is announced on a broadcast channel, which the
//! server's event streams (`http/live.rs`) listen to. The announcement is made after the
//! commit, on the writer's thread, and never waits: a listener that falls behind the
//! channel's capacity skips the oldest announcements (counted), so a slow client never
//! slows ingest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tally_store::{Batch, EventStore, WriteOutcome};
use tokio::sync::broadcast;

/// Announcements a listener may fall behind by before it skips the oldest.
pub const LIVE_CHANNEL_CAPACITY: usize = 1024;

/// One committed batch: its records per project (duplicates included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commit {
    pub projects: BTreeMap<String, u64>,
}

impl Commit {
    fn of(batch: &Batch<'_>) -> Commit {
        let mut projects = BTreeMap::new();
        for event in batch.events {
            *projects.entry(event.project.to_string()).or_insert(0) += 1;
        }
        Commit { projects }
    }
}

/// Where commits are announced; clones share the channel.
#[derive(Debug, Clone)]
pub struct LiveFeed {
    sender: broadcast::Sender<Arc<Commit>>,
    skipped: Arc<AtomicU64>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        LiveFeed {
            sender: broadcast::channel(LIVE_CHANNEL_CAPACITY).0,
            skipped: Arc::default(),
        }
    }
}

impl LiveFeed {
    /// A listener of the commits from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Commit>> {
        self.sender.subscribe()
    }

    /// Announces a commit to whoever listens (nobody: nothing happens).
    pub fn announce(&self, commit: Commit) {
        let _ = self.sender.send(Arc::new(commit));
    }

    /// Counts announcements a lagging listener skipped.
    pub fn note_skipped(&self, n: u64) {
        self.skipped.fetch_add(n, Ordering::Relaxed);
    }

    /// Announcements skipped by lagging listeners since start.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// A store's write port that announces each batch once it is committed with new
/// records in it.
pub(crate) struct Announcing<'a> {
    pub(crate) store: &'a dyn EventStore,
    pub(crate) feed: &'a LiveFeed,
}

impl Announcing<'_> {
    fn announce(&self, batch: &Batch<'_>, outcome: &WriteOutcome) {
        if outcome.accepted > 0 {
            self.feed.announce(Commit::of(batch));
        }
    }
}

impl EventStore for Announcing<'_> {
    fn write_batch(&self, batch: Batch<'_>) -> tally_store::Result<WriteOutcome> {
        let outcome = self.store.write_batch(batch)?;
        self.announce(&batch, &outcome);
        Ok(outcome)
    }

    fn write_batches(&self, batches: &[Batch<'_>]) -> tally_store::Result<Vec<WriteOutcome>> {
        let outcomes = self.store.write_batches(batches)?;
        for (batch, outcome) in batches.iter().zip(&outcomes) {
            self.announce(batch, outcome);
        }
        Ok(outcomes)
    }
}
