//! Cancelling work nobody waits for any more: a flag the facade's long loops (series
//! reads and analyses, event exports) check between steps. The HTTP time budget sets
//! it when a request runs out of time or is dropped (a shutdown, a client gone), so
//! the blocking work behind a 503 stops at its next check instead of running on.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Error, Result};

/// A cancellation flag shared by a request and the work it started.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// [`Error::Cancelled`] once cancelled.
    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Cancelled);
        }
        Ok(())
    }
}

tokio::task_local! {
    /// The flag of the request the current task serves.
    static REQUEST: Cancel;
}

/// Runs `work` (a request's handling) with `cancel` as its flag.
pub(crate) async fn scope<F: Future>(cancel: Cancel, work: F) -> F::Output {
    REQUEST.scope(cancel, work).await
}

/// The flag of the request the current task serves; one never set outside a request.
pub(crate) fn current() -> Cancel {
    REQUEST.try_with(Cancel::clone).unwrap_or_default()
}

/// Cancels its flag when dropped before [`CancelOnDrop::finished`]: the request's
/// future was dropped (shutdown, a client gone) with work perhaps in flight.
pub(crate) struct CancelOnDrop(Option<Cancel>);

impl CancelOnDrop {
    pub(crate) fn new(cancel: Cancel) -> CancelOnDrop {
        CancelOnDrop(Some(cancel))
    }

    pub(crate) fn finished(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = self.0.take() {
            cancel.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::Cancel;
    use crate::{Analytics, DemoConfig, Error, ExportFormat, Filter, SeriesQuery, SeriesSource};

    /// Cancels its flag once the first line of an export arrived; counts the lines.
    struct CancelAfterFirst {
        cancel: Cancel,
        lines: usize,
    }

    impl Write for CancelAfterFirst {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.lines += buf.iter().filter(|b| **b == b'\n').count();
            if self.lines > 0 {
                self.cancel.cancel();
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn cancelled_work_stops_at_its_next_check() {
        let dir = tempfile::tempdir().unwrap();
        let analytics = Analytics::open(dir.path().join("t.db")).unwrap();
        let demo = DemoConfig {
            events: 2_000,
            ..DemoConfig::default()
        };
        let stored = analytics.demo(&demo, &mut ()).unwrap().accepted;
        assert!(stored > 1_000);

        // An export cancelled after its first event writes no further one.
        let cancel = Cancel::new();
        let mut out = CancelAfterFirst {
            cancel: cancel.clone(),
            lines: 0,
        };
        let exported = analytics.with_cancel(cancel).export(
            ExportFormat::JsonLines,
            &Filter::default(),
            &mut out,
        );
        assert!(matches!(exported, Err(Error::Cancelled)), "{exported:?}");
        assert_eq!(out.lines, 1);

        // Series questions stop too; the same facade without the flag answers.
        let source = SeriesSource::Store(SeriesQuery {
            metric: "executions".into(),
            ..SeriesQuery::default()
        });
        let cancelled = Cancel::new();
        cancelled.cancel();
        let stopped = analytics.with_cancel(cancelled);
        assert!(matches!(stopped.trend(&source), Err(Error::Cancelled)));
        let config = crate::AnomalyConfig::default();
        assert!(matches!(
            stopped.anomalies(&source, &config),
            Err(Error::Cancelled)
        ));
        assert!(analytics.trend(&source).is_ok());
    }
}
