//! Reading raw events back as they were sent: every kind's rows turned into [`Event`]s,
//! in arrival order, one row at a time (memory stays flat whatever the size).
//!
//! What comes out re-ingests to the same store: given ids are kept; derived ids are left
//! out (ingest derives them again from the same content); costs tally computed are left
//! out (ingest computes them again).

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::DateTime;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};
use rustc_hash::FxHashMap;
use tally_models::{
    Action, AgentStatus, AttrValue, Attrs, CostSource, Effort, ErrorEvent, Event, EventBody,
    EventId, Execution, Job, JobStatus, Kind, MetricValue, ModelUsage, Outcome, QaStatus,
    QualityBreakdown, Request, Run, Session, Severity, Skill, SystemMetrics, TokenUsage, Usd,
};

use super::dictionary::Dim;
use super::execution_block::{self, ExecutionRow};
use super::rollup_read::code;
use crate::{Error, Filter, Result};

/// Every dictionary value by dimension and code.
pub(super) struct Names(FxHashMap<(u8, i64), String>);

impl Names {
    pub(super) fn load(conn: &Connection) -> Result<Names> {
        let mut st = conn.prepare("SELECT dim, code, value FROM dict")?;
        let rows = st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
        Ok(Names(rows.collect::<rusqlite::Result<_>>()?))
    }

    fn of<T: for<'s> From<&'s str>>(&self, dim: Dim, code: i64) -> Result<T> {
        self.0
            .get(&(dim as u8, code))
            .map(|value| T::from(value))
            .ok_or_else(|| Error::Corrupt(format!("no dictionary value for {dim:?} code {code}")))
    }

    fn opt<T: for<'s> From<&'s str>>(&self, dim: Dim, code: Option<i64>) -> Result<Option<T>> {
        code.map(|c| self.of(dim, c)).transpose()
    }
}

fn attrs(text: Option<String>) -> Result<Attrs> {
    let Some(text) = text else {
        return Ok(Attrs::new());
    };
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Error::Corrupt(format!("stored attrs are not JSON: {e}")))?;
    map.into_iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::Bool(b) => AttrValue::Bool(b),
                serde_json::Value::String(s) => AttrValue::Str(s),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => AttrValue::Int(i),
                    None => AttrValue::Float(n.as_f64().unwrap_or_default()),
                },
                other => return Err(Error::Corrupt(format!("stored attr {key} is {other}"))),
            };
            Ok((key, value))
        })
        .collect()
}

fn u(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn ou(n: Option<i64>) -> Option<u64> {
    n.map(u)
}

fn ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

fn corrupt(what: &str, code: i64) -> Error {
    Error::Corrupt(format!("{what} code {code}"))
}

/// The common columns every raw table starts with: seq, ts, project, and the id from
/// the ledger (given ids only).
pub(super) const ENVELOPE: &str =
    "t.seq, t.ts, t.project, CASE typeof(l.id) WHEN 'text' THEN l.id END";

fn envelope(
    row: &Row<'_>,
    names: &Names,
    attrs_text: Option<String>,
    body: EventBody,
) -> Result<Event> {
    let ts: i64 = row.get(1)?;
    Ok(Event {
        id: row
            .get::<_, Option<String>>(3)?
            .map(|id| EventId::Given(id.into())),
        ts: DateTime::from_timestamp_millis(ts).ok_or_else(|| corrupt("timestamp", ts))?,
        project: names.of(Dim::Project, row.get(2)?)?,
        attrs: attrs(attrs_text)?,
        body,
    })
}

/// Calls `sink` with every stored event the filter selects, kind by kind, each kind in
/// arrival order. Returns how many.
pub(super) fn export(
    conn: &Connection,
    filter: &Filter,
    sink: &mut dyn FnMut(Event) -> tally_store::Result<()>,
) -> Result<u64> {
    let names = Names::load(conn)?;
    // Ids come from the ledger, keyed by (project, id): SQLite joins it by `seq` through
    // a transient index, which goes to a temporary file so memory stays flat.
    conn.pragma_update(None, "temp_store", "FILE")?;
    let result = export_rows(conn, &names, filter, sink);
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    result
}

/// Calls `sink` with every stored execution the filter selects, in arrival order (the
/// first part of [`export`], without the other kinds' tables). Returns how many.
pub(super) fn export_executions(
    conn: &Connection,
    filter: &Filter,
    sink: &mut dyn FnMut(Event) -> tally_store::Result<()>,
) -> Result<u64> {
    let names = Names::load(conn)?;
    let project_code = match &filter.project {
        Some(project) => match code(conn, Dim::Project, project)? {
            Some(code) => Some(code),
            None => return Ok(0),
        },
        None => None,
    };
    let mut total = 0;
    let from = filter.from.map(|t| t.timestamp_millis());
    let to = filter.to.map(|t| t.timestamp_millis());
    execution_block::scan(conn, from, to, &mut |row| {
        if project_code.is_none_or(|code| code == row.project) {
            sink(execution(&names, row, false)?)?;
            total += 1;
        }
        Ok(())
    })?;
    Ok(total)
}

fn export_rows(
    conn: &Connection,
    names: &Names,
    filter: &Filter,
    sink: &mut dyn FnMut(Event) -> tally_store::Result<()>,
) -> Result<u64> {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    let mut project_code = None;
    if let Some(project) = &filter.project {
        let Some(project) = code(conn, Dim::Project, project)? else {
            return Ok(0);
        };
        project_code = Some(project);
        values.push(Value::Integer(project));
        clauses.push(format!("t.project = ?{}", values.len()));
    }
    if let Some(from) = filter.from {
        values.push(Value::Integer(from.timestamp_millis()));
        clauses.push(format!("t.ts >= ?{}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(Value::Integer(to.timestamp_millis()));
        clauses.push(format!("t.ts < ?{}", values.len()));
    }
    let scope = if clauses.is_empty() {
        "1".to_owned()
    } else {
        clauses.join(" AND ")
    };
    let mut total = 0;
    let from = filter.from.map(|t| t.timestamp_millis());
    let to = filter.to.map(|t| t.timestamp_millis());
    execution_block::scan(conn, from, to, &mut |row| {
        if project_code.is_none_or(|code| code == row.project) {
            sink(execution(names, row, false)?)?;
            total += 1;
        }
        Ok(())
    })?;
    for &kind in Kind::ALL {
        let table = kind.as_str();
        if kind == Kind::Execution {
            // Stored in blocks, exported above.
            continue;
        }
        let columns = columns(kind);
        let sql = format!(
            "SELECT {ENVELOPE}, t.attrs, {columns} FROM {table} t
             LEFT JOIN event_ids l ON l.seq = t.seq
             WHERE {scope} ORDER BY t.seq"
        );
        let mut st = conn.prepare(&sql)?;
        let mut rows = st.query(params_from_iter(values.iter()))?;
        while let Some(row) = rows.next()? {
            let event = decode(conn, names, kind, row)?;
            sink(event)?;
            total += 1;
        }
    }
    Ok(total)
}

/// The columns of `kind`'s table (alias `t`) that [`decode`] reads after the envelope
/// and attrs (none for executions, stored in blocks).
pub(super) fn columns(kind: Kind) -> &'static str {
    match kind {
        Kind::Execution => "",
        Kind::Run => "t.duration_us, t.mode, t.qa_status",
        Kind::Job => "t.job_id, t.status, t.run_id",
        Kind::Session => {
            "t.user, t.duration_us, t.exchanges, t.quality, t.relevance, t.helpfulness, t.engagement, t.clarity, t.accuracy"
        }
        Kind::Skill => {
            "t.user, t.skill, t.completed, t.session, t.phase, t.duration_us, t.rating, t.query"
        }
        Kind::Outcome => "t.experiment, t.user, t.variant",
        Kind::AgentStatus => {
            "t.agent, t.active_tasks, t.queued_tasks, t.capacity, t.cpu_pct, t.mem_pct"
        }
        Kind::Request => "t.endpoint, t.method, t.status, t.latency_us, t.user, t.session",
        Kind::Action => "t.user, t.action, t.session",
        Kind::System => "t.host, t.cpu_pct, t.mem_pct, t.disk_pct, t.load1",
        Kind::Error => "t.source, t.message, t.severity",
    }
}

/// An execution as it was sent; a cost tally computed is kept (marked computed) when
/// `keep_computed_cost`, else left out.
pub(super) fn execution(
    names: &Names,
    row: ExecutionRow<'_>,
    keep_computed_cost: bool,
) -> Result<Event> {
    let effort = match (row.flags >> 2) & 0b111 {
        0 => None,
        code => Some(
            Effort::from_code(u8::try_from(code - 1).unwrap_or(u8::MAX))
                .ok_or_else(|| corrupt("effort", code))?,
        ),
    };
    let computed = row.flags & 0b10 != 0;
    let [input, output, cache_read, cache_write, reasoning] = row.tokens.map(ou);
    let body = EventBody::Execution(Execution {
        agent_id: names.opt(Dim::Agent, row.agent)?,
        task_id: row.task.map(Into::into),
        user_id: names.opt(Dim::User, row.user)?,
        session_id: row.session.map(Into::into),
        tool: names.of(Dim::Tool, row.tool)?,
        model: names.opt(Dim::Model, row.model)?,
        duration_ms: ms(row.duration_us),
        success: row.success,
        browser_used: row.flags & 1 != 0,
        effort,
        // A computed cost is left out of exports: ingest computes it again.
        cost_usd: if computed && !keep_computed_cost {
            None
        } else {
            row.cost_nusd.map(Usd::from_nanos)
        },
        cost_source: if computed && keep_computed_cost && row.cost_nusd.is_some() {
            CostSource::Computed
        } else {
            CostSource::Reported
        },
        tokens: TokenUsage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: cache_read,
            cache_write_tokens: cache_write,
            reasoning_tokens: reasoning,
        },
        error: names.opt(Dim::ErrorClass, row.error)?,
    });
    Ok(Event {
        id: row.id.map(|id| EventId::Given(id.into())),
        ts: DateTime::from_timestamp_millis(row.ts).ok_or_else(|| corrupt("timestamp", row.ts))?,
        project: names.of(Dim::Project, row.project)?,
        attrs: attrs(row.attrs.map(Cow::into_owned))?,
        body,
    })
}

/// Column `i` of the kind-specific part (after the envelope and attrs).
const K: usize = 5;

/// The event of a row of `kind`'s table, selected as [`ENVELOPE`], `t.attrs` and
/// [`columns`].
pub(super) fn decode(conn: &Connection, names: &Names, kind: Kind, row: &Row<'_>) -> Result<Event> {
    let seq: i64 = row.get(0)?;
    let attrs_text: Option<String> = row.get(4)?;
    let body = match kind {
        Kind::Execution => unreachable!("executions are exported from their blocks"),
        Kind::Run => {
            let qa: u8 = row.get(K + 2)?;
            let mut st = conn.prepare_cached(
                "SELECT model, input_tokens, output_tokens, cost_nusd FROM run_model WHERE run_seq = ?1 ORDER BY ordinal",
            )?;
            let models = st
                .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .map(|m| {
                    let (model, input, output, cost): (i64, i64, i64, Option<i64>) = m?;
                    Ok(ModelUsage {
                        model: names.of(Dim::Model, model)?,
                        input_tokens: u(input),
                        output_tokens: u(output),
                        cost_usd: cost.map(Usd::from_nanos),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            EventBody::Run(Run {
                duration_s: row.get::<_, i64>(K)? as f64 / 1e6,
                mode: names.opt(Dim::Mode, row.get(K + 1)?)?,
                qa_status: QaStatus::from_code(qa)
                    .ok_or_else(|| corrupt("qa status", i64::from(qa)))?,
                models,
            })
        }
        Kind::Job => {
            let status: u8 = row.get(K + 1)?;
            EventBody::Job(Job {
                job_id: row.get(K)?,
                status: JobStatus::from_code(status)
                    .ok_or_else(|| corrupt("job status", i64::from(status)))?,
                run_id: row.get(K + 2)?,
            })
        }
        Kind::Session => {
            let mut st =
                conn.prepare_cached("SELECT topic FROM session_topic WHERE session_seq = ?1")?;
            let topics = st
                .query_map([seq], |r| r.get::<_, i64>(0))?
                .map(|t| names.of(Dim::Topic, t?))
                .collect::<Result<Vec<_>>>()?;
            EventBody::Session(Session {
                user_id: names.of(Dim::User, row.get(K)?)?,
                duration_s: row.get::<_, i64>(K + 1)? as f64 / 1e6,
                exchanges: u(row.get(K + 2)?),
                quality: row.get(K + 3)?,
                topics,
                quality_breakdown: QualityBreakdown {
                    relevance: row.get(K + 4)?,
                    helpfulness: row.get(K + 5)?,
                    engagement: row.get(K + 6)?,
                    clarity: row.get(K + 7)?,
                    accuracy: row.get(K + 8)?,
                },
            })
        }
        Kind::Skill => EventBody::Skill(Skill {
            user_id: names.of(Dim::User, row.get(K)?)?,
            skill: names.of(Dim::Skill, row.get(K + 1)?)?,
            completed: row.get(K + 2)?,
            session_id: row.get(K + 3)?,
            phase: names.opt(Dim::Phase, row.get(K + 4)?)?,
            duration_ms: row.get::<_, Option<i64>>(K + 5)?.map(ms),
            rating: row.get(K + 6)?,
            query: row.get(K + 7)?,
        }),
        Kind::Outcome => {
            let mut st = conn.prepare_cached(
                "SELECT metric, value, is_bool FROM outcome_metric WHERE outcome_seq = ?1",
            )?;
            let metrics = st
                .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .map(|m| {
                    let (metric, value, is_bool): (i64, f64, bool) = m?;
                    let value = if is_bool {
                        MetricValue::Bool(value != 0.0)
                    } else {
                        MetricValue::Number(value)
                    };
                    Ok((names.of(Dim::Metric, metric)?, value))
                })
                .collect::<Result<BTreeMap<_, _>>>()?;
            EventBody::Outcome(Outcome {
                experiment: names.of(Dim::Experiment, row.get(K)?)?,
                user_id: names.of(Dim::User, row.get(K + 1)?)?,
                variant: names.of(Dim::Variant, row.get(K + 2)?)?,
                metrics,
            })
        }
        Kind::AgentStatus => EventBody::AgentStatus(AgentStatus {
            agent_id: names.of(Dim::Agent, row.get(K)?)?,
            active_tasks: u(row.get(K + 1)?),
            queued_tasks: u(row.get(K + 2)?),
            capacity: u(row.get(K + 3)?),
            cpu_pct: row.get(K + 4)?,
            mem_pct: row.get(K + 5)?,
        }),
        Kind::Request => EventBody::Request(Request {
            endpoint: names.of(Dim::Endpoint, row.get(K)?)?,
            method: names.of(Dim::Method, row.get(K + 1)?)?,
            status: row.get(K + 2)?,
            latency_ms: ms(row.get(K + 3)?),
            user_id: names.opt(Dim::User, row.get(K + 4)?)?,
            session_id: row.get(K + 5)?,
        }),
        Kind::Action => EventBody::Action(Action {
            user_id: names.of(Dim::User, row.get(K)?)?,
            action: names.of(Dim::Action, row.get(K + 1)?)?,
            session_id: row.get(K + 2)?,
        }),
        Kind::System => EventBody::System(SystemMetrics {
            host: names.of(Dim::Host, row.get(K)?)?,
            cpu_pct: row.get(K + 1)?,
            mem_pct: row.get(K + 2)?,
            disk_pct: row.get(K + 3)?,
            load1: row.get(K + 4)?,
        }),
        Kind::Error => {
            let severity: u8 = row.get(K + 2)?;
            EventBody::Error(ErrorEvent {
                source: names.of(Dim::Source, row.get(K)?)?,
                message: row.get(K + 1)?,
                severity: Severity::from_code(severity)
                    .ok_or_else(|| corrupt("severity", i64::from(severity)))?,
            })
        }
    };
    envelope(row, names, attrs_text, body)
}
