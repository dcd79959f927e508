//! Where a scheduled report goes once written: a [`ReportSink`] takes the rendered
//! report. [`DirectorySink`] writes it into a directory; [`ChannelSink`] sends it
//! through an alert channel (webhook: the Markdown; email: the HTML).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::state::write_atomically;
use crate::alerts::{Dispatcher, Report};
use crate::report::{ReportFormat, ReportKind};
use crate::{Analytics, Filter, Result};

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
    /// The project and period the report covers.
    pub filter: Filter,
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

/// Sends each report through one alert channel: its webhook gets the Markdown, its
/// addresses the HTML (the other format is rendered for the same period and clock).
/// Delivery is queued, with the channel's retries; the dispatcher logs every attempt.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    pub analytics: Analytics,
    pub dispatcher: Arc<Dispatcher>,
    pub channel: String,
}

impl ReportSink for ChannelSink {
    fn deliver(&self, report: &RenderedReport) -> Result<String> {
        let analytics = self.analytics.as_of(report.due);
        let render = |format: ReportFormat| {
            if report.format == format {
                Ok(report.body.clone())
            } else {
                analytics.report_text(report.kind, &report.filter, format)
            }
        };
        let subject = format!(
            "{} report, {}, {}",
            report.kind.name(),
            report.project.as_deref().unwrap_or("all projects"),
            report.local_date.format("%Y-%m-%d")
        );
        self.dispatcher.send_report(
            &self.channel,
            Report {
                subject,
                html: render(ReportFormat::Html)?,
                markdown: render(ReportFormat::Markdown)?,
            },
        )?;
        Ok(format!("channel {}", self.channel))
    }
}
