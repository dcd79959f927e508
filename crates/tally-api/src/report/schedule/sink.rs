//! Where a scheduled report goes once written: a [`ReportSink`] takes the rendered
//! report. [`DirectorySink`] writes it into a directory; a sink sending it through an
//! alert channel (webhook, email) implements the same trait.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

use super::state::write_atomically;
use crate::Result;
use crate::report::{ReportFormat, ReportKind};

/// A report written for one run of a schedule.
#[derive(Debug, Clone)]
pub struct RenderedReport {
    pub kind: ReportKind,
    pub project: Option<String>,
    pub format: ReportFormat,
    /// The run time the report is for.
    pub due: DateTime<Utc>,
    /// `due`'s day in the schedule's time zone.
    pub local_date: NaiveDate,
    pub body: String,
}

impl RenderedReport {
    /// `<kind>-<project|all>-<YYYY-MM-DD>.<ext>`; a project's characters other than
    /// letters, digits, `-`, `_` and `.` become `_`.
    pub fn file_name(&self) -> String {
        let project: String = self
            .project
            .as_deref()
            .unwrap_or("all")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{}-{project}-{}.{}",
            self.kind.name(),
            self.local_date.format("%Y-%m-%d"),
            self.format.name()
        )
    }
}

/// Takes a rendered report somewhere.
pub trait ReportSink: std::fmt::Debug + Send + Sync {
    /// Delivers the report; answers where it went, for the log.
    ///
    /// # Errors
    /// The report could not be delivered (it is tried again at the next wake-up).
    fn deliver(&self, report: &RenderedReport) -> Result<String>;
}

/// Writes each report as a file into a directory (created when missing), replacing a
/// file of the same name atomically.
#[derive(Debug, Clone)]
pub struct DirectorySink {
    pub directory: PathBuf,
}

impl ReportSink for DirectorySink {
    fn deliver(&self, report: &RenderedReport) -> Result<String> {
        std::fs::create_dir_all(&self.directory).map_err(|e| {
            crate::Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", self.directory.display()),
            ))
        })?;
        let path = self.directory.join(report.file_name());
        write_atomically(&path, report.body.as_bytes())?;
        Ok(path.display().to_string())
    }
}
