//! Group commit: small batches that arrive while another write holds the writer wait
//! for it, and whoever gets the writer next commits every waiting batch in one atomic
//! step, handing each its own outcome. Under concurrent single-record writes (one HTTP
//! request each) this turns many small transactions into few. Any adapter whose writer
//! is exclusive can put this in front of it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tally_models::Event;

use crate::{Batch, Error, Rejection, WriteOutcome};

/// Batches of at most this many records wait to be written together with the others
/// that arrive meanwhile; larger ones are written on their own.
pub const GROUP_COMMIT_MAX_RECORDS: usize = 64;

/// The queue of small batches waiting for the writer.
#[derive(Debug, Default)]
pub struct GroupCommit {
    waiting: Mutex<Vec<Arc<Pending>>>,
}

/// A small batch waiting for whoever holds the writer next.
#[derive(Debug)]
struct Pending {
    events: Vec<Event>,
    rejects: Vec<Rejection>,
    resolved: Vec<i64>,
    /// Set, while the writer is held, by the writer that committed (or failed) it.
    result: Mutex<Option<Result<WriteOutcome, String>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GroupCommit {
    /// Batches waiting for the writer right now.
    pub fn queue_depth(&self) -> usize {
        lock(&self.waiting).len()
    }

    /// Writes `batch` with the others waiting: it joins the queue, then `take_writer`
    /// waits for the exclusive writer. If a writer meanwhile committed the batch, its
    /// outcome is returned; else `write` commits the whole queue (this batch among it,
    /// one outcome per batch in order, all or nothing) through the writer.
    ///
    /// # Errors
    /// `write`'s error when this call committed the group; [`Error::GroupCommit`] with
    /// its message when another call did and failed.
    pub fn write<W, E>(
        &self,
        batch: Batch<'_>,
        take_writer: impl FnOnce() -> W,
        write: impl FnOnce(&mut W, &[Batch<'_>]) -> Result<Vec<WriteOutcome>, E>,
    ) -> Result<WriteOutcome, E>
    where
        E: std::fmt::Display + From<Error>,
    {
        let mine = Arc::new(Pending {
            events: batch.events.to_vec(),
            rejects: batch.rejects.to_vec(),
            resolved: batch.resolved_quarantine.to_vec(),
            result: Mutex::new(None),
        });
        lock(&self.waiting).push(Arc::clone(&mine));
        let mut writer = take_writer();
        if let Some(result) = lock(&mine.result).take() {
            return result.map_err(|message| Error::GroupCommit(message).into());
        }
        let group = std::mem::take(&mut *lock(&self.waiting));
        let batches: Vec<Batch<'_>> = group
            .iter()
            .map(|p| Batch {
                events: &p.events,
                rejects: &p.rejects,
                resolved_quarantine: &p.resolved,
                prepared: None,
            })
            .collect();
        let written = write(&mut writer, &batches);
        let mut own = None;
        match written {
            Ok(outcomes) => {
                for (pending, outcome) in group.iter().zip(outcomes) {
                    if Arc::ptr_eq(pending, &mine) {
                        own = Some(Ok(outcome));
                    } else {
                        *lock(&pending.result) = Some(Ok(outcome));
                    }
                }
            }
            Err(error) => {
                let message = error.to_string();
                for pending in group.iter().filter(|p| !Arc::ptr_eq(p, &mine)) {
                    *lock(&pending.result) = Some(Err(message.clone()));
                }
                own = Some(Err(error));
            }
        }
        drop(writer);
        own.unwrap_or_else(|| {
            Err(Error::GroupCommit("the batch was not in its group".to_owned()).into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of `n` rejects, whose outcome names `n`.
    fn rejects(n: usize) -> Vec<Rejection> {
        let reject = Rejection {
            source: "t".to_owned(),
            position: crate::Position::Line(1),
            format: crate::RecordFormat::Json,
            header: None,
            record_id: None,
            field: "f".to_owned(),
            rule: "r".to_owned(),
            message: "m".to_owned(),
            raw: Vec::new(),
        };
        vec![reject; n]
    }

    fn batch(rejects: &[Rejection]) -> Batch<'_> {
        Batch {
            rejects,
            ..Batch::default()
        }
    }

    /// Commits a group: one outcome per batch, `quarantined` its size.
    fn commit(batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>, Error> {
        Ok(batches
            .iter()
            .map(|b| WriteOutcome {
                quarantined: b.rejects.len() as u64,
                ..WriteOutcome::default()
            })
            .collect())
    }

    #[test]
    fn the_writer_commits_every_waiting_batch_and_each_gets_its_own_outcome() {
        let group = GroupCommit::default();
        let (one, two) = (rejects(1), rejects(2));
        let mut groups = Vec::new();
        // While the first batch waits for the writer, a second call takes it and commits
        // both; the first then finds its outcome without writing.
        let first = group.write(
            batch(&one),
            || {
                let second = group.write(
                    batch(&two),
                    || (),
                    |_, batches| {
                        groups.push(batches.len());
                        commit(batches)
                    },
                );
                assert_eq!(second.unwrap().quarantined, 2);
            },
            |_, _| -> Result<Vec<WriteOutcome>, Error> { panic!("committed already") },
        );
        assert_eq!(first.unwrap().quarantined, 1);
        assert_eq!(groups, [2]);
        // Alone, a batch is its own group.
        let alone = group.write(batch(&two), || (), |_, batches| commit(batches));
        assert_eq!(alone.unwrap().quarantined, 2);
    }

    #[test]
    fn the_queue_depth_counts_the_batches_waiting_for_the_writer() {
        let group = GroupCommit::default();
        let (one, two) = (rejects(1), rejects(2));
        assert_eq!(group.queue_depth(), 0);
        let first = group.write(
            batch(&one),
            || {
                // The first batch waits for the writer; a second joins it.
                assert_eq!(group.queue_depth(), 1);
                let second = group.write(
                    batch(&two),
                    || assert_eq!(group.queue_depth(), 2),
                    |_, batches| commit(batches),
                );
                assert_eq!(second.unwrap().quarantined, 2);
                assert_eq!(group.queue_depth(), 0);
            },
            |_, _| -> Result<Vec<WriteOutcome>, Error> { panic!("committed already") },
        );
        assert_eq!(first.unwrap().quarantined, 1);
        assert_eq!(group.queue_depth(), 0);
    }

    #[test]
    fn a_failed_group_fails_every_batch_in_it() {
        let group = GroupCommit::default();
        let (one, two) = (rejects(1), rejects(2));
        let first = group.write(
            batch(&one),
            || {
                let second = group.write(
                    batch(&two),
                    || (),
                    |_, _| -> Result<Vec<WriteOutcome>, Error> {
                        Err(Error::Corrupt("disk".to_owned()))
                    },
                );
                assert_eq!(
                    second.unwrap_err().to_string(),
                    "stored data is inconsistent: disk"
                );
            },
            |_, _| -> Result<Vec<WriteOutcome>, Error> { panic!("failed already") },
        );
        assert_eq!(
            first.unwrap_err().to_string(),
            "the transaction this batch was committed in failed: stored data is inconsistent: disk"
        );
    }
}
