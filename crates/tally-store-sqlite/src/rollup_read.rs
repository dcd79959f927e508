//! The rollup tier's read side in SQLite: the rows of each segment the range planner
//! (`tally_store::rollup_plan`) picks, and the reads of the live state tables and the
//! minute tier.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use rustc_hash::FxHashMap;
use tally_models::{JobStatus, Kind, LatencySketch};

use super::dictionary::Dim;
use super::schema::RAW_TABLES;
use crate::rollup::{ALL_PROJECTS, Family, ProjectScope, Resolution, RollupQuery, RollupRow};
use crate::rollup_plan::{self, NEG_INF, POS_INF, floor_to, widened_range};
use crate::{
    AgentLoadRow, AgentLoadSums, AgentState, Error, Filter, JobState, MinuteRow, Result,
    RetentionOutcome,
};

/// The code of a dictionary value, if it was ever stored.
pub(super) fn code(conn: &Connection, dim: Dim, value: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT code FROM dict WHERE dim = ?1 AND value = ?2")?
        .query_row(params![dim as u8, value], |r| r.get(0))
        .optional()?)
}

fn dictionary(conn: &Connection, dim: Dim) -> Result<FxHashMap<i64, String>> {
    let mut st = conn.prepare_cached("SELECT code, value FROM dict WHERE dim = ?1")?;
    let rows = st.query_map([dim as u8], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn error_classes(conn: &Connection) -> Result<Vec<(i64, String)>> {
    Ok(dictionary(conn, Dim::ErrorClass)?.into_iter().collect())
}

fn key_dim(family: Family) -> Option<Dim> {
    match family {
        Family::ExecutionsByModel | Family::RunsByModel => Some(Dim::Model),
        Family::ExecutionsByTool => Some(Dim::Tool),
        Family::ExecutionsByAgent => Some(Dim::Agent),
        Family::Requests => Some(Dim::Endpoint),
        Family::Executions | Family::Runs | Family::Jobs | Family::Events | Family::Errors => None,
    }
}

fn u(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Corrupt(what.to_string())
}

pub(super) fn rollups(conn: &Connection, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>> {
    // Rows of one project (or of all together) are `project = ?`; each project apart is
    // every row but the overall ones.
    let (project_sql, project) = match query.projects {
        ProjectScope::All => ("project = ?3", ALL_PROJECTS),
        ProjectScope::One(name) => match code(conn, Dim::Project, name)? {
            Some(code) => ("project = ?3", code),
            None => return Ok(Vec::new()),
        },
        ProjectScope::Each => ("project > ?3", ALL_PROJECTS),
    };
    let names = key_dim(query.family)
        .map(|dim| dictionary(conn, dim))
        .transpose()?;
    let projects = match query.projects {
        ProjectScope::Each => Some(dictionary(conn, Dim::Project)?),
        _ => None,
    };
    let mut st = conn.prepare_cached(&format!(
        "SELECT bucket, project, data FROM rollup
         WHERE family = ?1 AND resolution = ?2 AND {project_sql} AND bucket >= ?4 AND bucket < ?5"
    ))?;
    let mut out = Vec::new();
    for segment in rollup_plan::segments(query) {
        let mut rows = st.query(params![
            query.family.code(),
            segment.resolution as u8,
            project,
            segment.from,
            segment.to
        ])?;
        while let Some(row) = rows.next()? {
            let bucket: i64 = row.get(0)?;
            let project: i64 = row.get(1)?;
            let project = projects.as_ref().and_then(|p| p.get(&project).cloned());
            let data = row.get_ref(2)?.as_blob().map_err(corrupt)?;
            super::rollup_codec::decode(data, |key, measures| {
                out.push(RollupRow {
                    project: project.clone(),
                    resolution: segment.resolution,
                    bucket,
                    key,
                    name: names.as_ref().and_then(|n| n.get(&key).cloned()),
                    measures,
                });
            })
            .map_err(|e| corrupt(format!("rollup row at {bucket}: {e}")))?;
        }
    }
    Ok(out)
}

/// `project = ?` and a time range over `column`, as SQL and parameters; `None` when
/// the project has no data.
fn scope(
    conn: &Connection,
    project: Option<&str>,
    column: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Option<(String, Vec<Value>)>> {
    let mut clauses = vec!["1".to_owned()];
    let mut values = Vec::new();
    if let Some(name) = project {
        let Some(code) = code(conn, Dim::Project, name)? else {
            return Ok(None);
        };
        values.push(Value::Integer(code));
        clauses.push(format!("s.project = ?{}", values.len()));
    }
    if let Some(from) = from {
        values.push(Value::Integer(from));
        clauses.push(format!("{column} >= ?{}", values.len()));
    }
    if let Some(to) = to {
        values.push(Value::Integer(to));
        clauses.push(format!("{column} < ?{}", values.len()));
    }
    Ok(Some((clauses.join(" AND "), values)))
}

pub(super) fn job_states(conn: &Connection, filter: &Filter) -> Result<Vec<JobState>> {
    let Some((clause, values)) = scope(
        conn,
        filter.project.as_deref(),
        "s.status_ts",
        filter.from.map(|t| t.timestamp_millis()),
        filter.to.map(|t| t.timestamp_millis()),
    )?
    else {
        return Ok(Vec::new());
    };
    let mut st = conn.prepare(&format!(
        "SELECT p.value, s.job_id, s.status, s.status_ts, s.queued_ts, s.running_ts, s.finished_ts
         FROM job_state s JOIN dict p ON p.dim = {} AND p.code = s.project
         WHERE {clause}",
        Dim::Project as u8
    ))?;
    let rows = st.query_map(params_from_iter(values), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u8>(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })?;
    rows.map(|row| {
        let (project, job_id, status, status_ts, queued_ts, running_ts, finished_ts) = row?;
        Ok(JobState {
            project,
            job_id,
            status: JobStatus::from_code(status)
                .ok_or_else(|| corrupt(format!("job status code {status}")))?,
            status_ts,
            queued_ts,
            running_ts,
            finished_ts,
        })
    })
    .collect()
}

pub(super) fn agent_states(conn: &Connection, project: Option<&str>) -> Result<Vec<AgentState>> {
    let Some((clause, values)) = scope(conn, project, "s.ts", None, None)? else {
        return Ok(Vec::new());
    };
    let mut st = conn.prepare(&format!(
        "SELECT p.value, a.value, s.ts, s.active_tasks, s.queued_tasks, s.capacity, s.cpu_pct, s.mem_pct
         FROM agent_state s
         JOIN dict p ON p.dim = {} AND p.code = s.project
         JOIN dict a ON a.dim = {} AND a.code = s.agent
         WHERE {clause} ORDER BY a.value, p.value",
        Dim::Project as u8,
        Dim::Agent as u8
    ))?;
    let rows = st.query_map(params_from_iter(values), |r| {
        Ok(AgentState {
            project: r.get(0)?,
            agent_id: r.get(1)?,
            ts: DateTime::from_timestamp_millis(r.get(2)?).unwrap_or_default(),
            active_tasks: u(r.get(3)?),
            queued_tasks: u(r.get(4)?),
            capacity: u(r.get(5)?),
            cpu_pct: r.get(6)?,
            mem_pct: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn agent_load(conn: &Connection, filter: &Filter) -> Result<Vec<AgentLoadRow>> {
    let (from, to) = widened_range(filter.from, filter.to, Resolution::Hour);
    let Some((clause, values)) = scope(
        conn,
        filter.project.as_deref(),
        "s.hour",
        (from != NEG_INF).then_some(from),
        (to != POS_INF).then_some(to),
    )?
    else {
        return Ok(Vec::new());
    };
    let mut st = conn.prepare(&format!(
        "SELECT a.value, s.hour, sum(s.snapshots), sum(s.active_sum), sum(s.queued_sum),
                sum(s.capacity_sum), max(s.peak_active)
         FROM agent_load s JOIN dict a ON a.dim = {} AND a.code = s.agent
         WHERE {clause} GROUP BY a.value, s.hour ORDER BY a.value, s.hour",
        Dim::Agent as u8
    ))?;
    let rows = st.query_map(params_from_iter(values), |r| {
        Ok(AgentLoadRow {
            agent_id: r.get(0)?,
            hour: r.get(1)?,
            sums: AgentLoadSums {
                snapshots: u(r.get(2)?),
                active_sum: u(r.get(3)?),
                queued_sum: u(r.get(4)?),
                capacity_sum: u(r.get(5)?),
                peak_active: u(r.get(6)?),
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn minutes(
    conn: &Connection,
    project: Option<&str>,
    since: DateTime<Utc>,
) -> Result<Vec<MinuteRow>> {
    let Some((clause, values)) = scope(conn, project, "s.minute", Some(since.timestamp()), None)?
    else {
        return Ok(Vec::new());
    };
    let mut st = conn.prepare(&format!(
        "SELECT s.minute, s.kind, s.n, s.errors, s.latency FROM rollup_minute s WHERE {clause}"
    ))?;
    let mut rows = st.query(params_from_iter(values))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let kind: u8 = row.get(1)?;
        let mut latency = LatencySketch::default();
        if let Some(bytes) = row.get_ref(4)?.as_blob_or_null().map_err(corrupt)? {
            latency.merge_encoded(bytes).map_err(corrupt)?;
        }
        out.push(MinuteRow {
            minute: row.get(0)?,
            kind: Kind::from_code(kind).ok_or_else(|| corrupt(format!("kind code {kind}")))?,
            n: u(row.get(2)?),
            errors: u(row.get(3)?),
            latency,
        });
    }
    Ok(out)
}

pub(super) fn active_users(
    conn: &Connection,
    project: Option<&str>,
    since: DateTime<Utc>,
) -> Result<u64> {
    let Some((clause, values)) = scope(conn, project, "s.minute", Some(since.timestamp()), None)?
    else {
        return Ok(0);
    };
    let n: i64 = conn.query_row(
        &format!("SELECT count(DISTINCT s.user) FROM recent_user s WHERE {clause}"),
        params_from_iter(values),
        |r| r.get(0),
    )?;
    Ok(u(n))
}

/// Child tables of raw tables, deleted with their parent rows.
const RAW_CHILDREN: [(&str, &str, &str); 3] = [
    ("run_model", "run_seq", "run"),
    ("session_topic", "session_seq", "session"),
    ("outcome_metric", "outcome_seq", "outcome"),
];

pub(super) fn delete_expired(
    conn: &mut Connection,
    raw_before: DateTime<Utc>,
    rollups_before: DateTime<Utc>,
    minutes_before: DateTime<Utc>,
) -> Result<RetentionOutcome> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut outcome = RetentionOutcome::default();
    let raw_cutoff = raw_before.timestamp_millis();
    for (child, parent_seq, parent) in RAW_CHILDREN {
        tx.execute(
            &format!(
                "DELETE FROM {child} WHERE {parent_seq} IN (SELECT seq FROM {parent} WHERE ts < ?1)"
            ),
            [raw_cutoff],
        )?;
    }
    outcome.raw_rows_deleted += super::execution_block::delete_before(&tx, raw_cutoff)?;
    for table in RAW_TABLES {
        let deleted = tx.execute(&format!("DELETE FROM {table} WHERE ts < ?1"), [raw_cutoff])?;
        outcome.raw_rows_deleted += deleted as u64;
    }
    let cutoff = rollups_before.timestamp();
    // A month row goes only when its whole month lies before the cutoff.
    let month_cutoff = floor_to(Resolution::Month, cutoff);
    outcome.rollup_rows_deleted += tx.execute(
        "DELETE FROM rollup WHERE (resolution IN (?1, ?2) AND bucket < ?3) OR (resolution = ?4 AND bucket < ?5)",
        params![
            Resolution::Hour as u8,
            Resolution::Day as u8,
            floor_to(Resolution::Day, cutoff),
            Resolution::Month as u8,
            month_cutoff
        ],
    )? as u64;
    tx.execute("DELETE FROM agent_load WHERE hour < ?1", [cutoff])?;
    let minute_cutoff = minutes_before.timestamp();
    outcome.minute_rows_deleted += tx.execute(
        "DELETE FROM rollup_minute WHERE minute < ?1",
        [minute_cutoff],
    )? as u64;
    tx.execute("DELETE FROM recent_user WHERE minute < ?1", [minute_cutoff])?;
    tx.commit()?;
    Ok(outcome)
}
