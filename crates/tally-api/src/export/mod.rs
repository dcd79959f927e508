//! Full exports of the stored events, in the wire format so that they ingest again:
//! JSON Lines, one JSON array, or a zip of one CSV file per kind; and one Parquet file
//! per kind for BI tools; XML (`xml.rs`). All streamed row by row (memory stays flat).
//! The analytics sections (`sections.rs`) are written as an XLSX workbook (`xlsx.rs`)
//! or an XML document.

use std::io::Write;

use serde_json::Value;
use tally_models::{Event, Execution, Kind};
use tally_store::Filter;

use crate::http::inert;
use crate::{Analytics, Error, Result};

mod parquet;
pub mod sections;
mod xlsx;
pub mod xml;

/// How an export is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One event per line.
    JsonLines,
    /// One JSON array of events.
    Json,
    /// A zip archive with one CSV file per kind (`execution.csv`, ...).
    CsvZip,
    /// One `<events>` document of `schema/tally-export.xsd`.
    Xml,
}

/// How the analytics sections are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionsFormat {
    /// An Excel workbook, one sheet per section.
    Xlsx,
    /// One `<analytics>` document of `schema/tally-export.xsd`.
    Xml,
}

impl SectionsFormat {
    pub const ALL: [SectionsFormat; 2] = [SectionsFormat::Xlsx, SectionsFormat::Xml];

    pub fn name(self) -> &'static str {
        match self {
            SectionsFormat::Xlsx => "xlsx",
            SectionsFormat::Xml => "xml",
        }
    }

    pub fn from_name(name: &str) -> Option<SectionsFormat> {
        SectionsFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            SectionsFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            SectionsFormat::Xml => "application/xml",
        }
    }
}

/// The CSV columns of each kind after `id, ts, project`: the wire fields, then `attrs`.
/// List fields are joined with `;` (`topics`); nested ones (`models`, `metrics`,
/// `quality_breakdown`, `attrs`) are JSON text.
pub fn csv_columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Execution => &Execution::FIELDS,
        Kind::Run => &["duration_s", "mode", "qa_status", "models"],
        Kind::Job => &["job_id", "status", "run_id"],
        Kind::Session => &[
            "user_id",
            "duration_s",
            "exchanges",
            "quality",
            "topics",
            "quality_breakdown",
        ],
        Kind::Skill => &[
            "user_id",
            "skill",
            "completed",
            "session_id",
            "phase",
            "duration_ms",
            "rating",
            "query",
        ],
        Kind::Outcome => &["experiment", "user_id", "variant", "metrics"],
        Kind::AgentStatus => &[
            "agent_id",
            "active_tasks",
            "queued_tasks",
            "capacity",
            "cpu_pct",
            "mem_pct",
        ],
        Kind::Request => &[
            "endpoint",
            "method",
            "status",
            "latency_ms",
            "user_id",
            "session_id",
        ],
        Kind::Action => &["user_id", "action", "session_id"],
        Kind::System => &["host", "cpu_pct", "mem_pct", "disk_pct", "load1"],
        Kind::Error => &["source", "message", "severity"],
    }
}

fn cell(column: &str, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if column == "topics" => items
            .iter()
            .map(|t| t.as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(";"),
        Some(Value::Object(map)) if map.is_empty() => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Writes the zip, starting a new CSV entry whenever the kind changes (the rows come
/// kind by kind).
struct CsvZip<'w> {
    zip: zip::ZipWriter<zip::write::StreamWriter<&'w mut dyn Write>>,
    kind: Option<Kind>,
    row: Vec<String>,
}

impl CsvZip<'_> {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        let kind = event.kind();
        if self.kind != Some(kind) {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            self.zip
                .start_file(format!("{}.csv", kind.as_str()), options)
                .map_err(std::io::Error::other)?;
            let mut header = csv::Writer::from_writer(&mut self.zip);
            header.write_record(
                ["id", "ts", "project"]
                    .iter()
                    .chain(csv_columns(kind))
                    .chain(&["attrs"]),
            )?;
            header.flush()?;
            self.kind = Some(kind);
        }
        let value = serde_json::to_value(event)?;
        self.row.clear();
        for column in ["id", "ts", "project"]
            .iter()
            .chain(csv_columns(kind))
            .chain(&["attrs"])
        {
            self.row
                .push(inert(&cell(column, value.get(*column))).into_owned());
        }
        let mut writer = csv::Writer::from_writer(&mut self.zip);
        writer.write_record(&self.row)?;
        writer.flush()
    }
}

impl ExportFormat {
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        match name {
            "jsonl" | "ndjson" => Some(ExportFormat::JsonLines),
            "json" => Some(ExportFormat::Json),
            "csv" => Some(ExportFormat::CsvZip),
            "xml" => Some(ExportFormat::Xml),
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
        self.check_project(filter)?;
        match format {
            ExportFormat::JsonLines => self.export_json(false, filter, out),
            ExportFormat::Json => self.export_json(true, filter, out),
            ExportFormat::CsvZip => self.export_csv_zip(filter, out),
            ExportFormat::Xml => self.export_xml(filter, out),
        }
    }

    /// The analytics sections over `filter` (see [`Analytics::export_sections`]) as an
    /// XLSX workbook or an XML document.
    ///
    /// # Errors
    /// See [`Analytics::export_sections`].
    pub fn export_analytics(&self, format: SectionsFormat, filter: &Filter) -> Result<Vec<u8>> {
        let sections = self.export_sections(filter)?;
        match format {
            SectionsFormat::Xlsx => xlsx::workbook(&sections),
            SectionsFormat::Xml => {
                let mut out = Vec::new();
                xml::sections(&sections, &mut out).map_err(io)?;
                Ok(out)
            }
        }
    }

    /// Streams the filtered events into `each`, stopping at a cancel or at `each`'s
    /// first failure, which is returned itself rather than as the store's text of it.
    fn stream_events(
        &self,
        filter: &Filter,
        mut each: impl FnMut(Event) -> std::io::Result<()>,
    ) -> Result<u64> {
        let mut failure = None;
        let written = self.store.export_events(filter, &mut |event| {
            if self.cancel.is_cancelled() {
                return Err(tally_store::Error::Sink("cancelled".into()));
            }
            each(event).map_err(|e| {
                let message = e.to_string();
                failure = Some(e);
                tally_store::Error::Sink(message)
            })
        });
        if let Some(error) = failure {
            return Err(io(error));
        }
        self.cancel.check()?;
        Ok(written?)
    }

    /// The events as one `<events>` document, one event at a time.
    fn export_xml(&self, filter: &Filter, out: &mut dyn Write) -> Result<u64> {
        let mut document = xml::EventsXml::start(out).map_err(io)?;
        let written = self.stream_events(filter, |event| document.event(&event))?;
        document.finish().map_err(io)?;
        Ok(written)
    }

    /// JSON Lines, or one JSON array (`array`).
    fn export_json(&self, array: bool, filter: &Filter, out: &mut dyn Write) -> Result<u64> {
        let mut first = true;
        if array {
            out.write_all(b"[").map_err(io)?;
        }
        let written = self.stream_events(filter, |event| {
            let separator: &[u8] = if first { b"\n" } else { b",\n" };
            first = false;
            if array {
                out.write_all(separator)?;
                serde_json::to_writer(&mut *out, &event).map_err(std::io::Error::from)
            } else {
                serde_json::to_writer(&mut *out, &event)?;
                out.write_all(b"\n")
            }
        })?;
        if array {
            out.write_all(b"\n]\n").map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(written)
    }

    fn export_csv_zip(&self, filter: &Filter, out: &mut dyn Write) -> Result<u64> {
        let mut archive = CsvZip {
            zip: zip::ZipWriter::new_stream(out),
            kind: None,
            row: Vec::new(),
        };
        let written = self.stream_events(filter, |event| archive.event(&event))?;
        let mut out = archive
            .zip
            .finish()
            .map_err(|e| io(std::io::Error::other(e)))?;
        out.flush().map_err(io)?;
        Ok(written)
    }

    /// Writes one Parquet file per kind (`execution.parquet`, ...) into `dir`, with the
    /// columns of the CSV export, typed (see `docs/exports.md`). Returns how many events.
    ///
    /// # Errors
    /// The store fails or the files cannot be written.
    pub fn export_parquet(&self, filter: &Filter, dir: &std::path::Path) -> Result<u64> {
        self.check_project(filter)?;
        let mut files = parquet::ParquetDir::new(dir)?;
        let mut failure = None;
        let written = self.store.export_events(filter, &mut |event| {
            files.push(&event).map_err(|e| {
                let message = e.to_string();
                failure = Some(e);
                tally_store::Error::Sink(message)
            })
        });
        if let Some(error) = failure {
            return Err(error);
        }
        let written = written?;
        files.finish()?;
        Ok(written)
    }
}
