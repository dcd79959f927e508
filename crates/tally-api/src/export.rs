//! Full exports of the stored events, in the wire format so that they ingest again:
//! JSON Lines or one JSON array, streamed row by row (memory stays flat).

use std::io::Write;

use tally_storage::Filter;

use crate::{Analytics, Error, Result};

/// How an export is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One event per line.
    JsonLines,
    /// One JSON array of events.
    Json,
}

impl ExportFormat {
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        match name {
            "jsonl" | "ndjson" => Some(ExportFormat::JsonLines),
            "json" => Some(ExportFormat::Json),
            _ => None,
        }
    }
}

fn io(error: std::io::Error) -> Error {
    Error::Io(error)
}

impl Analytics {
    /// Writes every stored event the filter selects to `out`, in the wire format of
    /// `docs/events.md`: given ids kept, derived ids and computed costs left out, so
    /// ingesting the export into another database stores the same events and ingesting
    /// it into this one stores nothing new. Returns how many events were written.
    ///
    /// # Errors
    /// The store fails or `out` cannot be written.
    pub fn export(
        &self,
        format: ExportFormat,
        filter: &Filter,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let mut first = true;
        let mut failure = None;
        if format == ExportFormat::Json {
            out.write_all(b"[").map_err(io)?;
        }
        let written = self.store.export_events(filter, &mut |event| {
            let result = (|| -> std::io::Result<()> {
                match format {
                    ExportFormat::JsonLines => {
                        serde_json::to_writer(&mut *out, &event)?;
                        out.write_all(b"\n")
                    }
                    ExportFormat::Json => {
                        out.write_all(if first { b"\n" } else { b",\n" })?;
                        serde_json::to_writer(&mut *out, &event).map_err(std::io::Error::from)
                    }
                }
            })();
            first = false;
            result.map_err(|e| {
                let message = e.to_string();
                failure = Some(e);
                tally_storage::Error::Sink(message)
            })
        });
        if let Some(error) = failure {
            return Err(io(error));
        }
        let written = written?;
        if format == ExportFormat::Json {
            out.write_all(b"\n]\n").map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(written)
    }
}
