//! `tally events`: the events explorer on the command line, one page at a time.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;
use tally_api::Analytics;
use tally_api::http::inert;

/// How a page is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// Aligned columns; the next page's cursor on stderr.
    Table,
    /// The page as the HTTP API answers it: `{"events": [...], "next_cursor": ...}`.
    Json,
    /// The table's columns as CSV (formula cells made inert); the cursor on stderr.
    Csv,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this kind (execution, run, job, session, skill, outcome, agent_status,
    /// request, action, system, error).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only this project.
    #[arg(long)]
    pub project: Option<String>,
    /// Only executions of this tool.
    #[arg(long)]
    pub tool: Option<String>,
    /// Only executions of this model and runs that used it.
    #[arg(long)]
    pub model: Option<String>,
    /// Only executions and agent statuses of this agent.
    #[arg(long)]
    pub agent: Option<String>,
    /// true or false: only executions that succeeded, or failed.
    #[arg(long)]
    pub success: Option<String>,
    /// Event time from this instant (RFC 3339) or day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// Event time until this instant (exclusive) or day (YYYY-MM-DD, inclusive).
    #[arg(long)]
    pub to: Option<String>,
    /// Only the spans of this trace.
    #[arg(long)]
    pub trace: Option<String>,
    /// Events per page, 1 to 500 (default 50).
    #[arg(long)]
    pub limit: Option<String>,
    /// The cursor a previous page printed: the page below it.
    #[arg(long)]
    pub cursor: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: EventsFormat,
}

impl EventsArgs {
    fn get(&self, name: &str) -> Option<&str> {
        match name {
            "kind" => self.kind.as_deref(),
            "project" => self.project.as_deref(),
            "tool" => self.tool.as_deref(),
            "model" => self.model.as_deref(),
            "agent" => self.agent.as_deref(),
            "success" => self.success.as_deref(),
            "from" => self.from.as_deref(),
            "to" => self.to.as_deref(),
            "trace" => self.trace.as_deref(),
            "limit" => self.limit.as_deref(),
            "cursor" => self.cursor.as_deref(),
            _ => None,
        }
    }
}

/// How a wire event fills a column.
type Cell = fn(&Value) -> String;

/// The table's columns: header and cell.
const COLUMNS: [(&str, Cell); 10] = [
    ("time", |e| text(e, "ts")),
    ("kind", |e| text(e, "kind")),
    ("project", |e| text(e, "project")),
    ("tool", |e| text(e, "tool")),
    ("model", |e| text(e, "model")),
    ("agent", |e| text(e, "agent_id")),
    ("success", |e| text(e, "success")),
    ("cost_usd", |e| text(e, "cost_usd")),
    ("duration_ms", duration_ms),
    ("id", |e| text(e, "id")),
];

fn text(event: &Value, key: &str) -> String {
    match event.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// How long the event took, whatever its kind names it.
fn duration_ms(event: &Value) -> String {
    let number = |key: &str| event.get(key).and_then(Value::as_f64);
    let ms = number("duration_ms")
        .or_else(|| number("latency_ms"))
        .or_else(|| number("duration_s").map(|s| s * 1000.0));
    ms.map(|ms| format!("{ms:.1}")).unwrap_or_default()
}

pub fn events(analytics: &Analytics, args: &EventsArgs) -> anyhow::Result<ExitCode> {
    let query = tally_api::parse_event_query(|name| args.get(name), |name| format!("--{name}"))
        .map_err(|bad| anyhow::anyhow!(bad.message))?;
    let page = analytics.events(&query)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        EventsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &page)?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        EventsFormat::Table => write_table(&mut out, &page.events)?,
        EventsFormat::Csv => write_csv(&mut out, &page.events)?,
    }
    match &page.next_cursor {
        Some(cursor) => eprintln!("next page: --cursor {cursor}"),
        None => eprintln!("(last page)"),
    }
    Ok(ExitCode::SUCCESS)
}

fn rows(events: &[Value]) -> Vec<Vec<String>> {
    events
        .iter()
        .map(|event| COLUMNS.iter().map(|(_, cell)| cell(event)).collect())
        .collect()
}

fn write_table(out: &mut dyn Write, events: &[Value]) -> anyhow::Result<()> {
    if events.is_empty() {
        writeln!(out, "no events match")?;
        return Ok(());
    }
    let rows = rows(events);
    let widths: Vec<usize> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (header, _))| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(header.len())
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(
        out,
        "{}",
        line(COLUMNS.iter().map(|(h, _)| *h).collect()).trim_end()
    )?;
    for row in &rows {
        writeln!(
            out,
            "{}",
            line(row.iter().map(String::as_str).collect()).trim_end()
        )?;
    }
    Ok(())
}

fn write_csv(out: &mut dyn Write, events: &[Value]) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS.iter().map(|(h, _)| *h))?;
    for row in rows(events) {
        writer.write_record(row.iter().map(|cell| inert(cell).into_owned()))?;
    }
    writer.flush().context("writing the CSV")?;
    Ok(())
}
