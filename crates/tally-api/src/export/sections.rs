//! The analytics export's sections as typed tables: summary, projects, models, daily
//! series, tools and learners' progress. The XLSX workbook and the XML document are
//! both written from these, so they carry the same figures as the JSON views.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use tally_store::Filter;

use crate::{Analytics, Error, Granularity, Result};

/// The most rows one section may hold: a larger export is refused with the section and
/// the limit named (the workbook is built in memory).
pub const MAX_SECTION_ROWS: usize = 100_000;

/// How a column's values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellType {
    Text,
    /// A whole count.
    Integer,
    /// A measure with decimals (seconds, milliseconds, a score).
    Number,
    /// US dollars.
    Money,
    /// A share in [0, 1], shown in percent.
    Percent,
    /// A calendar day.
    Date,
    /// An instant (UTC).
    Instant,
}

impl CellType {
    /// The XML Schema type of the column's elements.
    pub fn xsd(self) -> &'static str {
        match self {
            CellType::Text => "xs:string",
            CellType::Integer => "xs:integer",
            CellType::Number | CellType::Money | CellType::Percent => "xs:double",
            CellType::Date => "xs:date",
            CellType::Instant => "xs:dateTime",
        }
    }
}

/// A column: its XML element name (the view's field), its spreadsheet header, its type.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub header: &'static str,
    pub kind: CellType,
}

/// A column: its key in the view's JSON, its header and its cell type.
const fn col(key: &'static str, header: &'static str, kind: CellType) -> Column {
    Column { key, header, kind }
}

/// One typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (an optional figure that is absent).
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

/// Which section: each has a fixed name, sheet title and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    Summary,
    Projects,
    Models,
    Daily,
    Tools,
    Learners,
}

impl SectionKind {
    pub const ALL: [SectionKind; 6] = [
        SectionKind::Summary,
        SectionKind::Projects,
        SectionKind::Models,
        SectionKind::Daily,
        SectionKind::Tools,
        SectionKind::Learners,
    ];

    /// The XML element of the section.
    pub fn key(self) -> &'static str {
        match self {
            SectionKind::Summary => "summary",
            SectionKind::Projects => "projects",
            SectionKind::Models => "models",
            SectionKind::Daily => "daily",
            SectionKind::Tools => "tools",
            SectionKind::Learners => "learners",
        }
    }

    /// The XML element of one row (the summary has none: it is one record).
    pub fn row(self) -> &'static str {
        match self {
            SectionKind::Summary => "summary",
            SectionKind::Projects => "project",
            SectionKind::Models => "model",
            SectionKind::Daily => "day",
            SectionKind::Tools => "tool",
            SectionKind::Learners => "learner",
        }
    }

    /// The sheet's name.
    pub fn title(self) -> &'static str {
        match self {
            SectionKind::Summary => "Summary",
            SectionKind::Projects => "Projects",
            SectionKind::Models => "Models",
            SectionKind::Daily => "Daily series",
            SectionKind::Tools => "Tools",
            SectionKind::Learners => "Learners progress",
        }
    }

    pub fn columns(self) -> &'static [Column] {
        use CellType::{Date, Instant, Integer, Money, Number, Percent, Text};
        match self {
            SectionKind::Summary => {
                const COLUMNS: &[Column] = &[
                    col("total_runs", "Total Runs", Integer),
                    col("total_jobs", "Total Jobs", Integer),
                    col("total_tokens", "Total Tokens", Integer),
                    col("total_cost", "Total Cost (USD)", Money),
                    col("avg_cost_per_run", "Avg Cost Per Run (USD)", Money),
                    col("avg_duration_seconds", "Avg Duration (s)", Number),
                    col("jobs_completed", "Jobs Completed", Integer),
                    col("jobs_failed", "Jobs Failed", Integer),
                    col("jobs_cancelled", "Jobs Cancelled", Integer),
                    col("jobs_running", "Jobs Running", Integer),
                    col("jobs_queued", "Jobs Queued", Integer),
                    col("runs_2loop", "Runs 2loop", Integer),
                    col("runs_3loop", "Runs 3loop", Integer),
                    col("qa_runs", "QA Runs", Integer),
                    col("qa_passed", "QA Passed", Integer),
                    col("qa_failed", "QA Failed", Integer),
                    col("qa_pass_rate", "QA Pass Rate", Percent),
                    col("monthly_budget", "Monthly Budget (USD)", Money),
                    col("current_month_cost", "Current Month Cost (USD)", Money),
                    col("budget_remaining", "Budget Remaining (USD)", Money),
                    col("total_executions", "Total Executions", Integer),
                    col("success_rate", "Success Rate", Percent),
                    col("generated_at", "Generated At", Instant),
                ];
                COLUMNS
            }
            SectionKind::Projects => {
                const COLUMNS: &[Column] = &[
                    col("project_name", "Project", Text),
                    col("runs_count", "Runs", Integer),
                    col("last_run_time", "Last Run", Instant),
                    col("total_tokens", "Total Tokens", Integer),
                    col("total_cost", "Total Cost (USD)", Money),
                    col("avg_duration_seconds", "Avg Duration (s)", Number),
                    col("qa_passed", "QA Passed", Integer),
                    col("qa_warning", "QA Warning", Integer),
                    col("qa_failed", "QA Failed", Integer),
                    col("qa_not_run", "QA Not Run", Integer),
                    col("qa_pass_rate", "QA Pass Rate", Percent),
                    col("total_executions", "Executions", Integer),
                    col("success_rate", "Success Rate", Percent),
                ];
                COLUMNS
            }
            SectionKind::Models => {
                const COLUMNS: &[Column] = &[
                    col("model_name", "Model", Text),
                    col("total_tokens", "Total Tokens", Integer),
                    col("input_tokens", "Input Tokens", Integer),
                    col("output_tokens", "Output Tokens", Integer),
                    col("total_cost", "Total Cost (USD)", Money),
                    col("computed_cost", "Computed Cost (USD)", Money),
                    col("usage_count", "Usage Count", Integer),
                    col("runs", "Runs", Integer),
                    col("executions", "Executions", Integer),
                    col("cost_share", "Cost Share", Percent),
                ];
                COLUMNS
            }
            SectionKind::Daily => {
                const COLUMNS: &[Column] = &[
                    col("date", "Day", Date),
                    col("runs", "Runs", Integer),
                    col("tokens", "Tokens", Integer),
                    col("cost", "Cost (USD)", Money),
                    col("qa_passed", "QA Passed", Integer),
                    col("qa_warning", "QA Warning", Integer),
                    col("qa_failed", "QA Failed", Integer),
                    col("executions", "Executions", Integer),
                    col("failed_executions", "Failed Executions", Integer),
                    col("success_rate", "Success Rate", Percent),
                ];
                COLUMNS
            }
            SectionKind::Tools => {
                const COLUMNS: &[Column] = &[
                    col("tool_name", "Tool", Text),
                    col("total_executions", "Executions", Integer),
                    col("successful_executions", "Successful", Integer),
                    col("failed_executions", "Failed", Integer),
                    col("success_rate", "Success Rate", Percent),
                    col("success_rate_lower_95", "Success Rate Low (95 %)", Percent),
                    col("success_rate_upper_95", "Success Rate High (95 %)", Percent),
                    col("confidence_level", "Confidence", Text),
                    col("avg_duration_seconds", "Avg Duration (s)", Number),
                    col("p50_duration_ms", "p50 (ms)", Number),
                    col("p95_duration_ms", "p95 (ms)", Number),
                    col("p99_duration_ms", "p99 (ms)", Number),
                    col("avg_cost", "Avg Cost (USD)", Money),
                    col("total_cost", "Total Cost (USD)", Money),
                    col("last_used", "Last Used", Instant),
                ];
                COLUMNS
            }
            SectionKind::Learners => {
                const COLUMNS: &[Column] = &[
                    col("user_id", "Learner", Text),
                    col("sessions", "Sessions", Integer),
                    col("exchanges", "Exchanges", Integer),
                    col("minutes", "Minutes", Number),
                    col("average_quality", "Average Quality", Number),
                    col("topics", "Topics", Integer),
                    col("first_session", "First Session", Instant),
                    col("last_session", "Last Session", Instant),
                ];
                COLUMNS
            }
        }
    }
}

/// One section's rows, typed by its columns.
#[derive(Debug, Clone)]
pub struct Section {
    pub kind: SectionKind,
    pub rows: Vec<Vec<Cell>>,
}

/// Every section over one filter.
#[derive(Debug, Clone)]
pub struct Sections {
    pub project: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub generated: DateTime<Utc>,
    pub sections: Vec<Section>,
}

/// One learner's totals over the range, for the learners' progress section.
#[derive(Debug, Serialize)]
struct LearnerLine {
    user_id: String,
    sessions: u64,
    exchanges: u128,
    minutes: f64,
    average_quality: Option<f64>,
    topics: u64,
    first_session: Option<DateTime<Utc>>,
    last_session: Option<DateTime<Utc>>,
}

/// A JSON value as a cell of `kind`; `record` and `column` name it in errors.
fn cell(value: Option<&Value>, kind: CellType, record: &str, column: &str) -> Result<Cell> {
    let bad = |what: &str| {
        Error::Filter(format!(
            "{record}: {column}: expected {what}, got {}",
            value.map_or("nothing".to_owned(), Value::to_string)
        ))
    };
    Ok(match (value, kind) {
        (None | Some(Value::Null), _) => Cell::Empty,
        (Some(Value::String(s)), CellType::Text) => Cell::Text(s.clone()),
        (Some(other), CellType::Text) => Cell::Text(other.to_string()),
        (Some(Value::String(s)), CellType::Date) => Cell::Date(
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad("a day YYYY-MM-DD"))?,
        ),
        (Some(Value::String(s)), CellType::Instant) => Cell::Instant(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| bad("an RFC 3339 instant"))?
                .with_timezone(&Utc),
        ),
        (Some(Value::Number(n)), _) => Cell::Number(n.as_f64().ok_or_else(|| bad("a number"))?),
        _ => return Err(bad("a value of its type")),
    })
}

/// A section from a list of records (or one record, for the summary).
fn section(kind: SectionKind, records: &impl Serialize) -> Result<Section> {
    let value = serde_json::to_value(records).map_err(|e| Error::Io(std::io::Error::other(e)))?;
    let items = match value {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => {
            return Err(Error::Filter(format!("{}: expected records", kind.key())));
        }
    };
    if items.len() > MAX_SECTION_ROWS {
        return Err(Error::Filter(format!(
            "the {} section holds {} rows, more than the export's limit of {MAX_SECTION_ROWS}: \
             narrow it with project, from or to",
            kind.key(),
            items.len()
        )));
    }
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let record = format!("{} row {}", kind.key(), i + 1);
            kind.columns()
                .iter()
                .map(|c| cell(item.get(c.key), c.kind, &record, c.key))
                .collect()
        })
        .collect::<Result<_>>()?;
    Ok(Section { kind, rows })
}

impl Analytics {
    /// The analytics export's sections over `filter`: the overall summary, projects,
    /// models, the daily series, tools and every learner's progress in the range.
    ///
    /// # Errors
    /// The filter names a project without data, the daily series is longer than
    /// [`crate::MAX_POINTS`] days, a section has more than [`MAX_SECTION_ROWS`] rows, or
    /// the store fails.
    pub fn export_sections(&self, filter: &Filter) -> Result<Sections> {
        self.check_project(filter)?;
        let summary = self.summary(filter)?;
        let mut summary_value =
            serde_json::to_value(&summary).map_err(|e| Error::Io(std::io::Error::other(e)))?;
        // The QA figures sit in a nested record; the section lists them flat.
        let qa = &summary.qa_summary;
        if let Value::Object(map) = &mut summary_value {
            map.insert("qa_runs".into(), qa.total_qa_runs.into());
            map.insert("qa_passed".into(), qa.qa_passed.into());
            map.insert("qa_failed".into(), qa.qa_failed.into());
            map.insert("qa_pass_rate".into(), qa.pass_rate.into());
        }
        let daily = self.timeseries(filter, Granularity::Day)?;
        Ok(Sections {
            project: filter.project.clone(),
            from: filter.from,
            to: filter.to,
            generated: self.view_options().now,
            sections: vec![
                section(SectionKind::Summary, &summary_value)?,
                section(SectionKind::Projects, &self.projects(filter)?)?,
                section(SectionKind::Models, &self.models(filter)?)?,
                section(SectionKind::Daily, &daily.points())?,
                section(SectionKind::Tools, &self.tools(filter)?)?,
                section(SectionKind::Learners, &self.learner_lines(filter)?)?,
            ],
        })
    }

    /// Every learner with sessions in the filter's range and project, with their totals.
    fn learner_lines(&self, filter: &Filter) -> Result<Vec<LearnerLine>> {
        let everyone = self
            .store
            .all_learner_activity(filter.project.as_deref(), filter.to)?;
        let mut lines = Vec::new();
        for (user, activity) in everyone {
            let within: Vec<_> = activity
                .into_iter()
                .filter(|a| {
                    filter.from.is_none_or(|from| a.first >= from)
                        && filter.to.is_none_or(|to| a.last < to)
                })
                .collect();
            if within.is_empty() {
                continue;
            }
            let totals = tally_learning::progress::totals(&within);
            lines.push(LearnerLine {
                first_session: within.iter().map(|a| a.first).min(),
                last_session: within.iter().map(|a| a.last).max(),
                user_id: user,
                sessions: totals.sessions,
                exchanges: totals.exchanges,
                minutes: totals.minutes,
                average_quality: totals.average_quality,
                topics: totals.topics,
            });
        }
        lines.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_take_their_column_type() {
        let text = cell(Some(&Value::from("=1+1")), CellType::Text, "r", "c").unwrap();
        assert_eq!(text, Cell::Text("=1+1".into()));
        let day = cell(Some(&Value::from("2026-10-01")), CellType::Date, "r", "c").unwrap();
        assert_eq!(
            day,
            Cell::Date(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap())
        );
        let money = cell(Some(&Value::from(1.25)), CellType::Money, "r", "c").unwrap();
        assert_eq!(money, Cell::Number(1.25));
        assert_eq!(cell(None, CellType::Money, "r", "c").unwrap(), Cell::Empty);
        let error = cell(
            Some(&Value::from("soon")),
            CellType::Instant,
            "tools row 2",
            "last_used",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("tools row 2: last_used"), "{error}");
    }

    #[test]
    fn a_section_over_the_limit_is_refused_with_the_limit() {
        let rows: Vec<Value> = (0..=MAX_SECTION_ROWS)
            .map(|i| serde_json::json!({"tool_name": format!("t{i}")}))
            .collect();
        let error = section(SectionKind::Tools, &rows).unwrap_err().to_string();
        assert!(error.contains(&MAX_SECTION_ROWS.to_string()), "{error}");
    }
}
