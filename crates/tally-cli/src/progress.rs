//! Progress on the terminal: a progress bar for ingests when stderr is a terminal, an
//! optional JSON line per committed batch, and a spinner for exports.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tally_api::{BatchCommitted, Progress};

/// Shows progress of an ingest.
pub struct TerminalProgress {
    bar: Option<ProgressBar>,
    log_batches: bool,
}

impl TerminalProgress {
    pub fn new(log_batches: bool) -> Self {
        TerminalProgress {
            bar: None,
            log_batches,
        }
    }
}

impl Progress for TerminalProgress {
    fn started(&mut self, source: &str, total_bytes: Option<u64>) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = match total_bytes {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {pos} records")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(source.to_owned());
        self.bar = Some(bar);
    }

    fn committed(&mut self, batch: &BatchCommitted<'_>) {
        if let Some(bar) = &self.bar {
            match batch.total_bytes {
                Some(_) => bar.set_position(batch.bytes_read),
                None => bar.set_position(
                    batch.report.accepted + batch.report.duplicates + batch.report.rejected,
                ),
            }
        }
        if self.log_batches {
            let line = serde_json::json!({
                "source": batch.source,
                "committed": batch.outcome,
                "last_position": batch.last_position,
            });
            eprintln!("{line}");
        }
    }

    fn finished(&mut self, _source: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// A spinner on stderr while an export runs, when stderr is a terminal: bytes written
/// so far, their rate and the time taken (the number of events is known at the end).
#[derive(Debug)]
pub struct ExportProgress {
    bar: ProgressBar,
}

impl ExportProgress {
    /// `counts_bytes`: the bytes go through a [`ProgressWriter`] (else only the time
    /// taken is shown).
    pub fn start(target: &std::path::Path, counts_bytes: bool) -> Self {
        if !std::io::stderr().is_terminal() {
            return ExportProgress {
                bar: ProgressBar::hidden(),
            };
        }
        let template = if counts_bytes {
            "{spinner} exporting to {msg}: {bytes} ({bytes_per_sec}, {elapsed})"
        } else {
            "{spinner} exporting to {msg} ({elapsed})"
        };
        let bar = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(target.display().to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        ExportProgress { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A writer that counts the bytes through it on an [`ExportProgress`].
#[derive(Debug)]
pub struct ProgressWriter<'p, W> {
    inner: W,
    progress: &'p ExportProgress,
}

impl<'p, W> ProgressWriter<'p, W> {
    pub fn new(inner: W, progress: &'p ExportProgress) -> Self {
        ProgressWriter { inner, progress }
    }
}

impl<W: std::io::Write> std::io::Write for ProgressWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.progress.bar.inc(written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
