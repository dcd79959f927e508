//! The CSV export: titled sections (the seed's OVERALL SUMMARY / PER-PROJECT SUMMARY /
//! PER-MODEL SUMMARY), each a header row and rows, separated by a blank line. Cells a
//! spreadsheet would run as a formula are made inert.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use tally_models::FORMULA_TRIGGERS;
use tally_store::Filter;

use crate::AnalyticsSummary;

/// A cell a spreadsheet reads as text: one that starts with `=`, `+`, `-`, `@`, a tab or
/// a carriage return gets a leading `'`, unless it is a plain number (`-3.5`). So does
/// one that starts with `'`, so that CSV ingest, which drops exactly one `'` before
/// those characters ([`tally_models::without_inert_prefix`]), reads every cell back as
/// it was.
pub fn inert(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(FORMULA_TRIGGERS) || cell.starts_with('\'');
    if risky && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `-12`, `-0.5`: digits with an optional minus and one optional decimal point.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Builds a sectioned CSV document.
#[derive(Debug, Default)]
pub struct CsvExport {
    out: Vec<u8>,
    sections: usize,
}

/// How a JSON value shows in a cell.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl CsvExport {
    pub fn new() -> Self {
        CsvExport {
            out: Vec::new(),
            sections: 0,
        }
    }

    /// A section: its title, a header row, then the rows.
    ///
    /// # Errors
    /// Writing failed (it writes to memory, so it does not).
    pub fn section(
        &mut self,
        title: &str,
        header: &[&str],
        rows: impl IntoIterator<Item = Vec<String>>,
    ) -> csv::Result<()> {
        if self.sections > 0 {
            self.out.push(b'\n');
        }
        self.sections += 1;
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut self.out);
        let mut row = |cells: &mut dyn Iterator<Item = &str>| {
            let cells: Vec<Cow<'_, str>> = cells.map(inert).collect();
            writer.write_record(cells.iter().map(|c| c.as_bytes()))
        };
        row(&mut std::iter::once(title))?;
        row(&mut header.iter().copied())?;
        for cells in rows {
            row(&mut cells.iter().map(String::as_str))?;
        }
        writer.flush()?;
        Ok(())
    }

    /// A section from a list of records: `columns` pairs each header with the record's
    /// field. Adding a view to the export is one call of this.
    ///
    /// # Errors
    /// `records` does not serialize to a list of objects.
    pub fn table(
        &mut self,
        title: &str,
        columns: &[(&str, &str)],
        records: &impl Serialize,
    ) -> Result<(), String> {
        let value = serde_json::to_value(records).map_err(|e| e.to_string())?;
        let Value::Array(items) = value else {
            return Err(format!("{title}: expected a list of records"));
        };
        let header: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
        let rows = items.iter().map(|item| {
            columns
                .iter()
                .map(|(_, field)| item.get(*field).map(cell).unwrap_or_default())
                .collect()
        });
        self.section(title, &header, rows)
            .map_err(|e| e.to_string())
    }

    /// The overall summary as `Metric,Value` rows.
    ///
    /// # Errors
    /// See [`CsvExport::section`].
    pub fn summary(&mut self, s: &AnalyticsSummary, filter: &Filter) -> csv::Result<()> {
        let qa = &s.qa_summary;
        let optional = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        let instant = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        let rows: Vec<(&str, String)> = vec![
            (
                "Project",
                filter.project.clone().unwrap_or_else(|| "all".into()),
            ),
            ("From", instant(filter.from)),
            ("To (exclusive)", instant(filter.to)),
            ("Total Runs", s.total_runs.to_string()),
            ("Total Jobs", s.total_jobs.to_string()),
            ("Total Tokens", s.total_tokens.to_string()),
            ("Total Cost (USD)", s.total_cost.to_string()),
            ("Avg Cost Per Run (USD)", s.avg_cost_per_run.to_string()),
            ("Avg Duration (s)", s.avg_duration_seconds.to_string()),
            ("Jobs Completed", s.jobs_completed.to_string()),
            ("Jobs Failed", s.jobs_failed.to_string()),
            ("Jobs Cancelled", s.jobs_cancelled.to_string()),
            ("Jobs Running", s.jobs_running.to_string()),
            ("Jobs Queued", s.jobs_queued.to_string()),
            ("Runs 2loop", s.runs_2loop.to_string()),
            ("Runs 3loop", s.runs_3loop.to_string()),
            ("QA Runs", qa.total_qa_runs.to_string()),
            ("QA Passed", qa.qa_passed.to_string()),
            ("QA Warning", qa.qa_warning.to_string()),
            ("QA Failed", qa.qa_failed.to_string()),
            ("QA Error", qa.qa_error.to_string()),
            ("QA Not Run", qa.qa_not_run.to_string()),
            ("QA Pass Rate", qa.pass_rate.to_string()),
            ("Monthly Budget (USD)", optional(s.monthly_budget)),
            ("Current Month Cost (USD)", s.current_month_cost.to_string()),
            ("Budget Remaining (USD)", optional(s.budget_remaining)),
            ("Total Executions", s.total_executions.to_string()),
            ("Success Rate", s.success_rate.to_string()),
            ("Generated At", s.generated_at.clone()),
        ];
        self.section(
            "OVERALL SUMMARY",
            &["Metric", "Value"],
            rows.into_iter().map(|(k, v)| vec![k.to_owned(), v]),
        )
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cell: &str, expected: &str) {
        assert_eq!(inert(cell), expected, "{cell:?}");
    }

    #[test]
    fn formulas_are_made_inert_and_numbers_kept() {
        check("=1+1", "'=1+1");
        check("+SUM(A1)", "'+SUM(A1)");
        check("-2+3", "'-2+3");
        check("@cmd", "'@cmd");
        check("\tx", "'\tx");
        check("\rx", "'\rx");
        check("-", "'-");
        check("-.5", "'-.5");
        check("-3.25", "-3.25");
        check("-12", "-12");
        check("support-bot", "support-bot");
        check("", "");
        check("'quoted", "''quoted");
        check("'=1", "''=1");
        check("it's", "it's");
    }

    #[test]
    fn every_cell_reads_back_as_it_was() {
        for cell in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "-3.25",
            "@cmd",
            "\tx",
            "\rx",
            "'",
            "'quoted",
            "''",
            "'=1",
            "plain",
            "",
            "it's",
        ] {
            assert_eq!(
                tally_models::without_inert_prefix(&inert(cell)),
                cell,
                "{cell:?}"
            );
        }
    }

    #[test]
    fn sections_are_titled_and_separated() {
        let mut csv = CsvExport::new();
        csv.section("A", &["Metric", "Value"], [vec!["x".into(), "=1".into()]])
            .unwrap();
        csv.table(
            "B",
            &[("Name", "name"), ("N", "n")],
            &serde_json::json!([{"name": "@p", "n": 2}, {"name": "q"}]),
        )
        .unwrap();
        let text = String::from_utf8(csv.finish()).unwrap();
        assert_eq!(text, "A\nMetric,Value\nx,'=1\n\nB\nName,N\n'@p,2\nq,\n");
    }
}
