//! The raw sums the overall summary is verified against, as the SQLite adapter computes
//! them: executions and runs summed over their raw rows in the filter's range, jobs
//! counted once each by their latest change. Also the read path's shared pieces: a
//! `WHERE` clause built from a [`Filter`] with numbered parameters, and exact numeric
//! sums read as text.

use std::str::FromStr;

use postgres::types::ToSql;
use tally_models::{JobStatus, QaStatus};

use crate::{Error, ExecutionTotals, Filter, JobTotals, PostgresStore, Result, RunTotals, Totals};

/// `AND`-ed conditions with their parameters, numbered `$1, $2, ...` in order.
#[derive(Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync>>,
}

impl Conditions {
    /// The filter's project and time range over the raw column `ts` of `alias`.
    pub(crate) fn raw(alias: &str, filter: &Filter) -> Conditions {
        let mut conditions = Conditions::default();
        if let Some(project) = &filter.project {
            conditions.push(&format!("{alias}.project ="), project.clone());
        }
        conditions.range(&format!("{alias}.ts"), filter);
        conditions
    }

    /// `column >= from` and `column < to`, in epoch ms, where the filter bounds them.
    pub(crate) fn range(&mut self, column: &str, filter: &Filter) {
        if let Some(from) = filter.from {
            self.push(&format!("{column} >="), crate::ms(from));
        }
        if let Some(to) = filter.to {
            self.push(&format!("{column} <"), crate::ms(to));
        }
    }

    /// Adds `{lhs} $n` with `value` as parameter `$n` (`lhs` is SQL of this crate,
    /// never a value).
    pub(crate) fn push(&mut self, lhs: &str, value: impl ToSql + Sync + 'static) {
        self.push_with(value, |param| format!("{lhs} {param}"));
    }

    /// Adds the clause `clause` makes of the `$n` that binds `value`.
    pub(crate) fn push_with(
        &mut self,
        value: impl ToSql + Sync + 'static,
        clause: impl FnOnce(&str) -> String,
    ) {
        let param = self.bind(value);
        self.clauses.push(clause(&param));
    }

    /// Adds a parameter no clause names yet; returns its `$n`.
    pub(crate) fn bind(&mut self, value: impl ToSql + Sync + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    /// The clause (`true` when empty).
    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "true".to_owned()
        } else {
            self.clauses.join(" AND ")
        }
    }

    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| &**p as _).collect()
    }
}

/// A `numeric` sum read as text (`col::text`), parsed exactly.
pub(crate) fn numeric<T: FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::Corrupt(format!("{what}: {text:?} is not a whole number in range")))
}

/// A stored count or size as unsigned, negatives as 0 (as the SQLite adapter reads them).
pub(crate) fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The words of a storage enum in code order, to order or map stored words by code
/// in SQL (`array_position(words, word) - 1` is the code).
pub(crate) fn words<T: Copy>(all: &[T], word: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| word(*v)).collect()
}

impl PostgresStore {
    pub fn totals(&self, filter: &Filter) -> Result<Totals> {
        let mut client = self.conn()?;
        let mut tx = client.build_transaction().read_only(true).start()?;
        let executions = execution_totals(&mut tx, filter)?;
        let runs = run_totals(&mut tx, filter)?;
        let jobs = job_totals(&mut tx, filter)?;
        tx.commit()?;
        Ok(Totals {
            executions,
            runs,
            jobs,
        })
    }
}

fn execution_totals(
    tx: &mut postgres::Transaction<'_>,
    filter: &Filter,
) -> Result<ExecutionTotals> {
    let conditions = Conditions::raw("t", filter);
    // Tokens as the SQLite adapter sums them: absent as 0, input plus output.
    let row = tx.query_one(
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE t.success),
                    coalesce(sum(greatest(coalesce(t.input_tokens, 0), 0)::numeric
                                 + greatest(coalesce(t.output_tokens, 0), 0)), 0)::text,
                    coalesce(sum(coalesce(t.cost_nusd, 0)::numeric), 0)::text,
                    coalesce(sum(t.duration_us::numeric), 0)::text
             FROM tally.execution t WHERE {}",
            conditions.sql()
        ),
        &conditions.params(),
    )?;
    Ok(ExecutionTotals {
        count: unsigned(row.get(0)),
        successes: unsigned(row.get(1)),
        tokens: numeric(row.get(2), "execution tokens")?,
        cost_nanos: numeric(row.get(3), "execution cost")?,
        duration_us: numeric(row.get(4), "execution duration")?,
    })
}

fn run_totals(tx: &mut postgres::Transaction<'_>, filter: &Filter) -> Result<RunTotals> {
    let conditions = Conditions::raw("t", filter);
    let rows = tx.query(
        &format!(
            "SELECT t.qa_status, count(*),
                    sum(greatest(t.tokens, 0)::numeric)::text,
                    sum(t.cost_nusd::numeric)::text,
                    sum(t.duration_us::numeric)::text,
                    count(*) FILTER (WHERE t.mode = '2loop'),
                    count(*) FILTER (WHERE t.mode = '3loop')
             FROM tally.run t WHERE {} GROUP BY t.qa_status",
            conditions.sql()
        ),
        &conditions.params(),
    )?;
    let mut runs = RunTotals::default();
    for row in rows {
        let qa: &str = row.get(0);
        let count = unsigned(row.get(1));
        runs.count += count;
        runs.tokens += numeric::<u128>(row.get(2), "run tokens")?;
        runs.cost_nanos += numeric::<i128>(row.get(3), "run cost")?;
        runs.duration_us += numeric::<i128>(row.get(4), "run duration")?;
        runs.mode_2loop += unsigned(row.get(5));
        runs.mode_3loop += unsigned(row.get(6));
        if let Some(status) = QaStatus::from_word(qa) {
            runs.qa[usize::from(status.code())] += count;
        }
    }
    Ok(runs)
}

/// A job counts by its latest change (ties at one instant go to the later status, by
/// code), when that change falls in the range.
fn job_totals(tx: &mut postgres::Transaction<'_>, filter: &Filter) -> Result<JobTotals> {
    let mut inner = Conditions::default();
    if let Some(project) = &filter.project {
        inner.push("j.project =", project.clone());
    }
    let statuses = inner.bind(words(JobStatus::ALL, JobStatus::as_str));
    let inner_sql = inner.sql();
    // The range applies to the latest change, numbered after the inner parameters.
    let mut conditions = inner;
    let mut range = Vec::new();
    if let Some(from) = filter.from {
        range.push(format!("latest.ts >= {}", conditions.bind(crate::ms(from))));
    }
    if let Some(to) = filter.to {
        range.push(format!("latest.ts < {}", conditions.bind(crate::ms(to))));
    }
    let range = if range.is_empty() {
        "true".to_owned()
    } else {
        range.join(" AND ")
    };
    let rows = tx.query(
        &format!(
            "SELECT latest.status, count(*) FROM (
                 SELECT DISTINCT ON (j.project, j.job_id) j.status, j.ts
                 FROM tally.job j WHERE {inner_sql}
                 ORDER BY j.project, j.job_id, j.ts DESC,
                          array_position({statuses}::text[], j.status) DESC NULLS LAST
             ) latest WHERE {range} GROUP BY latest.status"
        ),
        &conditions.params(),
    )?;
    let mut jobs = JobTotals::default();
    for row in rows {
        let status: &str = row.get(0);
        let count = unsigned(row.get(1));
        if let Some(status) = JobStatus::from_word(status) {
            jobs.by_status[usize::from(status.code())] += count;
            jobs.distinct += count;
        }
    }
    Ok(jobs)
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
