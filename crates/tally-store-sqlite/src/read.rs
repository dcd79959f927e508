//! The read path: aggregate questions answered with parameterized SQL.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use tally_models::JobStatus;

use super::dictionary::Dim;
use super::execution_block;
use super::schema::RAW_TABLES;
use crate::rollup::{ALL_PROJECTS, Family, Resolution};
use crate::{ExecutionTotals, Filter, JobTotals, Result, RunTotals, StoreStats, Totals};

/// A `WHERE` clause for a [`Filter`] and its parameters.
struct Where {
    sql: String,
    params: Vec<Value>,
}

/// The code of a dictionary value, if it was ever stored.
fn code(conn: &Connection, dim: Dim, value: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT code FROM dict WHERE dim = ?1 AND value = ?2")?
        .query_row(params![dim as u8, value], |r| r.get(0))
        .optional()?)
}

/// `None` when the filter names a project that has no data.
fn where_clause(conn: &Connection, filter: &Filter) -> Result<Option<Where>> {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    if let Some(project) = &filter.project {
        let Some(code) = code(conn, Dim::Project, project)? else {
            return Ok(None);
        };
        params.push(Value::Integer(code));
        clauses.push(format!("project = ?{}", params.len()));
    }
    if let Some(from) = filter.from {
        params.push(Value::Integer(from.timestamp_millis()));
        clauses.push(format!("ts >= ?{}", params.len()));
    }
    if let Some(to) = filter.to {
        params.push(Value::Integer(to.timestamp_millis()));
        clauses.push(format!("ts < ?{}", params.len()));
    }
    let sql = if clauses.is_empty() {
        "1".to_owned()
    } else {
        clauses.join(" AND ")
    };
    Ok(Some(Where { sql, params }))
}

fn u(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn totals(conn: &Connection, filter: &Filter) -> Result<Totals> {
    let Some(w) = where_clause(conn, filter)? else {
        return Ok(Totals::default());
    };
    let executions = execution_totals(conn, filter)?;

    let mode_2loop = code(conn, Dim::Mode, "2loop")?.unwrap_or(-1);
    let mode_3loop = code(conn, Dim::Mode, "3loop")?.unwrap_or(-1);
    // Summed here in 128 bits rather than by SQL's 64-bit `sum`, which fails on overflow.
    let mut runs = RunTotals::default();
    let mut statement = conn.prepare(&format!(
        "SELECT tokens, cost_nusd, duration_us, mode, qa_status FROM run WHERE {}",
        w.sql
    ))?;
    let mut rows = statement.query(params_from_iter(&w.params))?;
    while let Some(row) = rows.next()? {
        let tokens: Option<i64> = row.get(0)?;
        let cost: Option<i64> = row.get(1)?;
        let mode: Option<i64> = row.get(3)?;
        let qa: u8 = row.get(4)?;
        runs.count += 1;
        runs.tokens += u128::from(u(tokens.unwrap_or(0)));
        runs.cost_nanos += i128::from(cost.unwrap_or(0));
        runs.duration_us += i128::from(row.get::<_, i64>(2)?);
        runs.mode_2loop += u64::from(mode == Some(mode_2loop));
        runs.mode_3loop += u64::from(mode == Some(mode_3loop));
        if let Some(slot) = runs.qa.get_mut(usize::from(qa)) {
            *slot += 1;
        }
    }

    // A job counts by its latest change (ties at one instant go to the later status),
    // when that change falls in the range.
    let Some(by_project) = where_clause(
        conn,
        &Filter {
            project: filter.project.clone(),
            from: None,
            to: None,
        },
    )?
    else {
        return Ok(Totals::default());
    };
    let mut range = Vec::new();
    let mut params = by_project.params.clone();
    if let Some(from) = filter.from {
        params.push(Value::Integer(from.timestamp_millis()));
        range.push(format!(" AND ts >= ?{}", params.len()));
    }
    if let Some(to) = filter.to {
        params.push(Value::Integer(to.timestamp_millis()));
        range.push(format!(" AND ts < ?{}", params.len()));
    }
    let mut jobs = JobTotals::default();
    let mut statement = conn.prepare(&format!(
        "SELECT status, count(*) FROM (
             SELECT status, ts, row_number() OVER (PARTITION BY project, job_id ORDER BY ts DESC, status DESC) AS latest
             FROM job WHERE {}
         ) WHERE latest = 1{} GROUP BY status",
        by_project.sql,
        range.concat()
    ))?;
    let mut rows = statement.query(params_from_iter(&params))?;
    while let Some(row) = rows.next()? {
        let status: u8 = row.get(0)?;
        let count = u(row.get(1)?);
        if let Some(status) = JobStatus::from_code(status) {
            jobs.by_status[usize::from(status.code())] += count;
            jobs.distinct += count;
        }
    }
    Ok(Totals {
        executions,
        runs,
        jobs,
    })
}

/// The executions `filter` selects, summed from their blocks.
fn execution_totals(conn: &Connection, filter: &Filter) -> Result<ExecutionTotals> {
    let project = match &filter.project {
        Some(name) => match code(conn, Dim::Project, name)? {
            Some(code) => Some(code),
            None => return Ok(ExecutionTotals::default()),
        },
        None => None,
    };
    let mut totals = ExecutionTotals::default();
    let from = filter.from.map(|t| t.timestamp_millis());
    let to = filter.to.map(|t| t.timestamp_millis());
    execution_block::scan(conn, from, to, &mut |row| {
        if project.is_some_and(|code| code != row.project) {
            return Ok(());
        }
        let [input, output, ..] = row.tokens;
        totals.count += 1;
        totals.successes += u64::from(row.success);
        totals.tokens += u128::from(u(input.unwrap_or(0))) + u128::from(u(output.unwrap_or(0)));
        totals.cost_nanos += i128::from(row.cost_nusd.unwrap_or(0));
        totals.duration_us += i128::from(row.duration_us);
        Ok(())
    })?;
    Ok(totals)
}

pub(super) fn stats(conn: &Connection) -> Result<StoreStats> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut events = execution_block::count(conn)?;
    for table in RAW_TABLES {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        events += u(n);
    }
    Ok(StoreStats {
        bytes_used: u((pages - free) * page_size),
        events,
        schema_version,
    })
}

/// The months the stored events of `project` (of every project: `None`) span, as epoch
/// seconds: the start of the first month with an event and the end of the last, from
/// the monthly event counts (two index seeks); `None` when nothing is stored.
pub(super) fn stored_span(conn: &Connection, project: Option<&str>) -> Result<Option<(i64, i64)>> {
    let project = match project {
        None => ALL_PROJECTS,
        Some(name) => match code(conn, Dim::Project, name)? {
            Some(code) => code,
            None => return Ok(None),
        },
    };
    let (first, last): (Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT min(bucket), max(bucket) FROM rollup
             WHERE family = ?1 AND resolution = ?2 AND project = ?3",
        )?
        .query_row(
            params![Family::Events.code(), Resolution::Month as u8, project],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    Ok(first
        .zip(last)
        .map(|(first, last)| (first, Resolution::Month.next(last))))
}
