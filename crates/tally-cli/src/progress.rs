//! Ingest progress on the terminal: a progress bar when stderr is a terminal, and an
//! optional JSON line per committed batch.

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
