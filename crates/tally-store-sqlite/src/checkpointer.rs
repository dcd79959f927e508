//! A background checkpointer: copies committed WAL frames into the database file on its
//! own thread and connection, so the writer's commits never pay for checkpoints.
//!
//! The writer signals after each commit; the checkpointer runs a `PASSIVE` checkpoint,
//! which never blocks the writer or readers. The writer keeps a high automatic
//! checkpoint threshold as a backstop should this thread fall behind.

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{SqliteOptions, configure};
use crate::Result;

/// The least time between two checkpoints: each one syncs the database file, so under
/// steady ingest they are batched rather than run after every commit.
const PAUSE: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path, options: &SqliteOptions) -> Result<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn, options)?;
        let (wake, woken) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("tally-checkpoint".to_owned())
            .spawn(move || {
                // After a commit, wait out the pause (gathering further commits), then
                // checkpoint; a closed channel (the store dropped) ends the wait at once.
                let mut due: Option<Instant> = None;
                loop {
                    let message = match due {
                        None => woken.recv().map_err(|_| RecvTimeoutError::Disconnected),
                        Some(at) => {
                            woken.recv_timeout(at.saturating_duration_since(Instant::now()))
                        }
                    };
                    match message {
                        Ok(()) => due = due.or_else(|| Some(Instant::now() + PAUSE)),
                        Err(RecvTimeoutError::Timeout) => {
                            checkpoint(&conn);
                            due = None;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                checkpoint(&conn);
            })
            .map_err(|e| {
                crate::Error::Corrupt(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// No checkpoints: for a database opened read-only.
    pub(super) fn idle() -> Checkpointer {
        Checkpointer {
            wake: None,
            thread: None,
        }
    }

    /// A commit happened; wakes the thread unless it is already due to run.
    pub(super) fn nudge(&self) {
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }
}

/// Copies what it can of the WAL into the database file without waiting for anyone.
fn checkpoint(conn: &Connection) {
    if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "background checkpoint failed; the writer's automatic checkpoint takes over");
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
