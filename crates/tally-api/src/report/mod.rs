//! Reports: the organisation's executive, technical, learning and experiments reports
//! and one learner's progress report. A report is built once as plain data
//! (`model.rs`, built in `build.rs`) and written four ways: standalone HTML with
//! inline SVG charts (`html.rs`), Markdown (`markdown.rs`), JSON (the data itself) or
//! PDF with drawn charts (`pdf/`).
//! `schedule/` writes them on a timetable.

mod build;
mod html;
mod learner;
mod markdown;
pub mod model;
mod pdf;
pub mod schedule;
mod svg;

use chrono::{DateTime, Duration, Utc};
use tally_store::Filter;

use crate::{Analytics, Error, Result};

pub use learner::{GoalMove, LearnerReport, ReportPeriod, TopicLine};
pub use model::Report;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Spend, volume, quality and budget for the people who pay.
    Executive,
    /// Tools, latency, risks, pipeline and capacity for the people who run the agents.
    Technical,
    /// Every experiment's verdicts, intervals and split check.
    Experiments,
    /// Learning sessions, their quality and skill completion over time.
    Learning,
}

impl ReportKind {
    pub const ALL: [ReportKind; 4] = [
        ReportKind::Executive,
        ReportKind::Technical,
        ReportKind::Learning,
        ReportKind::Experiments,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Executive => "executive",
            ReportKind::Technical => "technical",
            ReportKind::Experiments => "experiments",
            ReportKind::Learning => "learning",
        }
    }

    pub fn from_name(name: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Markdown,
    Json,
    /// A4 pages with the charts drawn; binary, so written by the `*_document` methods.
    Pdf,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 4] = [
        ReportFormat::Html,
        ReportFormat::Markdown,
        ReportFormat::Json,
        ReportFormat::Pdf,
    ];

    /// `html`, `md`, `json` or `pdf`: the name a request or a schedule gives, and the
    /// file extension.
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Markdown => "md",
            ReportFormat::Json => "json",
            ReportFormat::Pdf => "pdf",
        }
    }

    /// Every format's name, for messages: `html, md, json, pdf`.
    pub fn names() -> String {
        ReportFormat::ALL.map(ReportFormat::name).join(", ")
    }

    /// `markdown` is taken for `md`.
    pub fn from_name(name: &str) -> Option<ReportFormat> {
        match name {
            "markdown" => Some(ReportFormat::Markdown),
            _ => ReportFormat::ALL.into_iter().find(|f| f.name() == name),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
            ReportFormat::Json => "application/json",
            ReportFormat::Pdf => "application/pdf",
        }
    }
}

/// The error for a binary format asked of a text renderer.
fn binary_format(format: ReportFormat) -> Error {
    Error::Filter(format!(
        "{} is a binary format: write it as a document, not text",
        format.name()
    ))
}

impl std::str::FromStr for ReportFormat {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        ReportFormat::from_name(text).ok_or_else(|| {
            Error::Filter(format!(
                "format must be one of {}, got {text:?}",
                ReportFormat::names()
            ))
        })
    }
}

/// The days a report covers when its filter has no range.
pub const DEFAULT_REPORT_DAYS: i64 = 30;

/// The report's period and the one before it, of the same length.
fn periods(filter: &Filter, now: DateTime<Utc>) -> (Filter, Filter) {
    let to = filter.to.unwrap_or(now);
    let from = filter
        .from
        .unwrap_or(to - Duration::days(DEFAULT_REPORT_DAYS));
    let current = Filter {
        project: filter.project.clone(),
        from: Some(from),
        to: Some(to),
    };
    let previous = Filter {
        project: filter.project.clone(),
        from: Some(from - (to - from)),
        to: Some(from),
    };
    (current, previous)
}

/// `2026-10-01 00:00 UTC to 2026-10-31 00:00 UTC, project support-bot`.
fn period_line(report: &Report) -> String {
    format!(
        "{} to {}{}",
        report.from.format("%Y-%m-%d %H:%M UTC"),
        report.to.format("%Y-%m-%d %H:%M UTC"),
        report
            .project
            .as_ref()
            .map_or(String::new(), |p| format!(", project {p}"))
    )
}

impl Report {
    /// The report written as `format`.
    ///
    /// # Errors
    /// JSON cannot be written (it always can: the data holds only strings and numbers).
    pub fn render(&self, format: ReportFormat) -> Result<String> {
        Ok(match format {
            ReportFormat::Html => html::render(self),
            ReportFormat::Markdown => markdown::render(self),
            ReportFormat::Json => serde_json::to_string_pretty(self)
                .map_err(|e| Error::Io(std::io::Error::other(e)))?,
            ReportFormat::Pdf => return Err(binary_format(format)),
        })
    }

    /// The report written as `format`, PDF included.
    ///
    /// # Errors
    /// See [`Report::render`].
    pub fn document(&self, format: ReportFormat) -> Result<Vec<u8>> {
        match format {
            ReportFormat::Pdf => Ok(pdf::render(self, &period_line(self))),
            text => Ok(self.render(text)?.into_bytes()),
        }
    }
}

impl Analytics {
    /// A report over the filter's range (the last 30 days by default) as data.
    ///
    /// # Errors
    /// The filter names a project without data, or the store fails.
    pub fn report_data(&self, kind: ReportKind, filter: &Filter) -> Result<Report> {
        self.check_project(filter)?;
        let now = self.view_options().now;
        let (current, previous) = periods(filter, now);
        let body = match kind {
            ReportKind::Executive => self.executive(&current, &previous)?,
            ReportKind::Technical => self.technical(&current, &previous)?,
            // Experiments belong to projects: a project's report lists its own.
            ReportKind::Experiments => match &filter.project {
                Some(project) => self
                    .limited_to_project(Some(project.clone()))
                    .experiments_report(&current)?,
                None => self.experiments_report(&current)?,
            },
            ReportKind::Learning => self.learning_report(&current, &previous)?,
        };
        Ok(Report {
            kind: kind.name(),
            title: format!("tally · {} report", kind.name()),
            from: current.from.unwrap_or(now),
            to: current.to.unwrap_or(now),
            project: current.project,
            generated: now,
            kpis: body.kpis,
            sections: body.sections,
            findings: body.findings,
        })
    }

    /// A report written as `format`.
    ///
    /// # Errors
    /// See [`Analytics::report_data`].
    pub fn report_text(
        &self,
        kind: ReportKind,
        filter: &Filter,
        format: ReportFormat,
    ) -> Result<String> {
        self.report_data(kind, filter)?.render(format)
    }

    /// A report written as `format`, PDF included.
    ///
    /// # Errors
    /// See [`Analytics::report_data`].
    pub fn report_document(
        &self,
        kind: ReportKind,
        filter: &Filter,
        format: ReportFormat,
    ) -> Result<Vec<u8>> {
        self.report_data(kind, filter)?.document(format)
    }

    /// A standalone HTML report over the filter's range (the last 30 days by default).
    ///
    /// # Errors
    /// See [`Analytics::report_data`].
    pub fn report(&self, kind: ReportKind, filter: &Filter) -> Result<String> {
        self.report_text(kind, filter, ReportFormat::Html)
    }
}
