//! The raw rows of a write's new events, one binary `COPY` per table: strings as text,
//! times in epoch ms, durations in µs, money in billionths of a dollar, converted as
//! the SQLite store converts them, so both answer alike.

use postgres::Transaction;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{Json, ToSql, Type};
use tally_models::{Attrs, CostSource, Event, EventBody, MetricValue, Usd};

use crate::Result;

/// The rows of every raw table, gathered before they are copied in.
#[derive(Default)]
pub(super) struct RawRows<'e> {
    execution: Vec<(i64, &'e Event)>,
    run: Vec<(i64, &'e Event)>,
    job: Vec<(i64, &'e Event)>,
    session: Vec<(i64, &'e Event)>,
    skill: Vec<(i64, &'e Event)>,
    outcome: Vec<(i64, &'e Event)>,
    agent_status: Vec<(i64, &'e Event)>,
    request: Vec<(i64, &'e Event)>,
    action: Vec<(i64, &'e Event)>,
    system: Vec<(i64, &'e Event)>,
    error: Vec<(i64, &'e Event)>,
}

impl<'e> RawRows<'e> {
    /// Adds a new event stored with sequence number `seq`.
    pub(super) fn push(&mut self, seq: i64, event: &'e Event) {
        let rows = match &event.body {
            EventBody::Execution(_) => &mut self.execution,
            EventBody::Run(_) => &mut self.run,
            EventBody::Job(_) => &mut self.job,
            EventBody::Session(_) => &mut self.session,
            EventBody::Skill(_) => &mut self.skill,
            EventBody::Outcome(_) => &mut self.outcome,
            EventBody::AgentStatus(_) => &mut self.agent_status,
            EventBody::Request(_) => &mut self.request,
            EventBody::Action(_) => &mut self.action,
            EventBody::System(_) => &mut self.system,
            EventBody::Error(_) => &mut self.error,
        };
        rows.push((seq, event));
    }

    /// The sequence numbers of the new sessions.
    pub(super) fn session_seqs(&self) -> Vec<i64> {
        self.session.iter().map(|(seq, _)| *seq).collect()
    }

    /// Copies every gathered row in.
    pub(super) fn copy(&self, tx: &mut Transaction<'_>) -> Result<()> {
        copy_executions(tx, &self.execution)?;
        copy_runs(tx, &self.run)?;
        copy_jobs(tx, &self.job)?;
        copy_sessions(tx, &self.session)?;
        copy_skills(tx, &self.skill)?;
        copy_outcomes(tx, &self.outcome)?;
        copy_agent_status(tx, &self.agent_status)?;
        copy_requests(tx, &self.request)?;
        copy_actions(tx, &self.action)?;
        copy_systems(tx, &self.system)?;
        copy_errors(tx, &self.error)?;
        Ok(())
    }
}

/// One `COPY ... FROM STDIN BINARY` of `rows` into `table`, each row's values given by
/// `row` in the order of `columns`.
fn copy_into<T>(
    tx: &mut Transaction<'_>,
    table: &str,
    columns: &[(&str, Type)],
    rows: &[T],
    mut row: impl FnMut(&T, &mut dyn FnMut(&[&(dyn ToSql + Sync)]) -> Result<()>) -> Result<()>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let types: Vec<Type> = columns.iter().map(|(_, ty)| ty.clone()).collect();
    let sink = tx.copy_in(&format!(
        "COPY tally.{table} ({}) FROM STDIN BINARY",
        names.join(", ")
    ))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    for item in rows {
        row(item, &mut |values| Ok(writer.write(values)?))?;
    }
    writer.finish()?;
    Ok(())
}

fn micros(ms: f64) -> i64 {
    (ms * 1000.0).round() as i64
}

fn seconds_to_micros(s: f64) -> i64 {
    (s * 1e6).round() as i64
}

fn nanos(cost: Option<Usd>) -> Option<i64> {
    cost.map(Usd::to_nanos)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn opt_i64(n: Option<u64>) -> Option<i64> {
    n.map(to_i64)
}

/// Attributes as a JSON document; none when empty, as SQLite keeps them.
fn attrs(attrs: &Attrs) -> Option<Json<&Attrs>> {
    (!attrs.is_empty()).then_some(Json(attrs))
}

const SEQ: (&str, Type) = ("seq", Type::INT8);
const TS: (&str, Type) = ("ts", Type::INT8);
const PROJECT: (&str, Type) = ("project", Type::TEXT);
const ATTRS: (&str, Type) = ("attrs", Type::JSONB);

fn copy_executions(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("agent_id", Type::TEXT),
        ("task_id", Type::TEXT),
        ("user_id", Type::TEXT),
        ("session_id", Type::TEXT),
        ("tool", Type::TEXT),
        ("model", Type::TEXT),
        ("duration_us", Type::INT8),
        ("success", Type::BOOL),
        ("browser_used", Type::BOOL),
        ("cost_computed", Type::BOOL),
        ("effort", Type::TEXT),
        ("cost_nusd", Type::INT8),
        ("input_tokens", Type::INT8),
        ("output_tokens", Type::INT8),
        ("cache_read_tokens", Type::INT8),
        ("cache_write_tokens", Type::INT8),
        ("reasoning_tokens", Type::INT8),
        ("error", Type::TEXT),
        ATTRS,
    ];
    copy_into(tx, "execution", &columns, rows, |&(seq, event), write| {
        let EventBody::Execution(x) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &x.agent_id.as_deref(),
            &x.task_id.as_deref(),
            &x.user_id.as_deref(),
            &x.session_id.as_deref(),
            &x.tool.as_str(),
            &x.model.as_deref(),
            &micros(x.duration_ms),
            &x.success,
            &x.browser_used,
            &(x.cost_source == CostSource::Computed),
            &x.effort.map(|e| e.as_str()),
            &nanos(x.cost_usd),
            &opt_i64(x.tokens.input_tokens),
            &opt_i64(x.tokens.output_tokens),
            &opt_i64(x.tokens.cache_read_tokens),
            &opt_i64(x.tokens.cache_write_tokens),
            &opt_i64(x.tokens.reasoning_tokens),
            &x.error.as_deref(),
            &attrs(&event.attrs),
        ])
    })
}

fn copy_runs(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("duration_us", Type::INT8),
        ("mode", Type::TEXT),
        ("qa_status", Type::TEXT),
        ("tokens", Type::INT8),
        ("cost_nusd", Type::INT8),
        ATTRS,
    ];
    copy_into(tx, "run", &columns, rows, |&(seq, event), write| {
        let EventBody::Run(r) = &event.body else {
            return Ok(());
        };
        let cost: i64 = r
            .models
            .iter()
            .filter_map(|m| m.cost_usd)
            .map(Usd::to_nanos)
            .sum();
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &seconds_to_micros(r.duration_s),
            &r.mode.as_deref(),
            &r.qa_status.as_str(),
            &to_i64(r.total_tokens()),
            &cost,
            &attrs(&event.attrs),
        ])
    })?;
    let models: Vec<(i64, i32, &tally_models::ModelUsage)> = rows
        .iter()
        .filter_map(|&(seq, event)| match &event.body {
            EventBody::Run(r) => Some((seq, r)),
            _ => None,
        })
        .flat_map(|(seq, r)| {
            r.models
                .iter()
                .enumerate()
                .map(move |(ordinal, m)| (seq, ordinal as i32, m))
        })
        .collect();
    let columns = [
        ("run_seq", Type::INT8),
        ("ordinal", Type::INT4),
        ("model", Type::TEXT),
        ("input_tokens", Type::INT8),
        ("output_tokens", Type::INT8),
        ("cost_nusd", Type::INT8),
    ];
    copy_into(
        tx,
        "run_model",
        &columns,
        &models,
        |&(seq, ordinal, m), write| {
            write(&[
                &seq,
                &ordinal,
                &m.model.as_str(),
                &to_i64(m.input_tokens),
                &to_i64(m.output_tokens),
                &nanos(m.cost_usd),
            ])
        },
    )
}

fn copy_jobs(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("job_id", Type::TEXT),
        ("status", Type::TEXT),
        ("run_id", Type::TEXT),
        ATTRS,
    ];
    copy_into(tx, "job", &columns, rows, |&(seq, event), write| {
        let EventBody::Job(j) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &j.job_id.as_str(),
            &j.status.as_str(),
            &j.run_id.as_deref(),
            &attrs(&event.attrs),
        ])
    })
}

fn copy_sessions(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("user_id", Type::TEXT),
        ("duration_us", Type::INT8),
        ("exchanges", Type::INT8),
        ("quality", Type::FLOAT8),
        ("relevance", Type::FLOAT8),
        ("helpfulness", Type::FLOAT8),
        ("engagement", Type::FLOAT8),
        ("clarity", Type::FLOAT8),
        ("accuracy", Type::FLOAT8),
        ATTRS,
    ];
    copy_into(tx, "session", &columns, rows, |&(seq, event), write| {
        let EventBody::Session(s) = &event.body else {
            return Ok(());
        };
        let [relevance, helpfulness, engagement, clarity, accuracy] = s.quality_breakdown.values();
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &s.user_id.as_str(),
            &seconds_to_micros(s.duration_s),
            &to_i64(s.exchanges),
            &s.quality,
            &relevance,
            &helpfulness,
            &engagement,
            &clarity,
            &accuracy,
            &attrs(&event.attrs),
        ])
    })?;
    // A topic named twice counts once, as SQLite keeps one row per session and topic.
    let mut topics: Vec<(i64, i32, &str)> = Vec::new();
    for &(seq, event) in rows {
        let EventBody::Session(s) = &event.body else {
            continue;
        };
        let first = topics.len();
        for topic in &s.topics {
            if !topics[first..].iter().any(|(_, _, t)| *t == topic.as_str()) {
                let ordinal = (topics.len() - first) as i32;
                topics.push((seq, ordinal, topic.as_str()));
            }
        }
    }
    let columns = [
        ("session_seq", Type::INT8),
        ("ordinal", Type::INT4),
        ("topic", Type::TEXT),
    ];
    copy_into(
        tx,
        "session_topic",
        &columns,
        &topics,
        |(seq, ordinal, topic), write| write(&[seq, ordinal, topic]),
    )
}

fn copy_skills(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("user_id", Type::TEXT),
        ("skill", Type::TEXT),
        ("completed", Type::BOOL),
        ("session_id", Type::TEXT),
        ("phase", Type::TEXT),
        ("duration_us", Type::INT8),
        ("rating", Type::INT2),
        ("query", Type::TEXT),
        ATTRS,
    ];
    copy_into(tx, "skill", &columns, rows, |&(seq, event), write| {
        let EventBody::Skill(s) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &s.user_id.as_str(),
            &s.skill.as_str(),
            &s.completed,
            &s.session_id.as_deref(),
            &s.phase.as_deref(),
            &s.duration_ms.map(micros),
            &s.rating.map(i16::from),
            &s.query.as_deref(),
            &attrs(&event.attrs),
        ])
    })
}

fn copy_outcomes(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("experiment", Type::TEXT),
        ("user_id", Type::TEXT),
        ("variant", Type::TEXT),
        ATTRS,
    ];
    copy_into(tx, "outcome", &columns, rows, |&(seq, event), write| {
        let EventBody::Outcome(o) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &o.experiment.as_str(),
            &o.user_id.as_str(),
            &o.variant.as_str(),
            &attrs(&event.attrs),
        ])
    })?;
    let metrics: Vec<(i64, &str, MetricValue)> = rows
        .iter()
        .filter_map(|&(seq, event)| match &event.body {
            EventBody::Outcome(o) => Some((seq, o)),
            _ => None,
        })
        .flat_map(|(seq, o)| {
            o.metrics
                .iter()
                .map(move |(metric, value)| (seq, metric.as_str(), *value))
        })
        .collect();
    let columns = [
        ("outcome_seq", Type::INT8),
        ("metric", Type::TEXT),
        ("value", Type::FLOAT8),
        ("is_bool", Type::BOOL),
    ];
    copy_into(
        tx,
        "outcome_metric",
        &columns,
        &metrics,
        |&(seq, metric, value), write| {
            write(&[
                &seq,
                &metric,
                &value.as_f64(),
                &matches!(value, MetricValue::Bool(_)),
            ])
        },
    )
}

fn copy_agent_status(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("agent_id", Type::TEXT),
        ("active_tasks", Type::INT8),
        ("queued_tasks", Type::INT8),
        ("capacity", Type::INT8),
        ("cpu_pct", Type::FLOAT8),
        ("mem_pct", Type::FLOAT8),
        ATTRS,
    ];
    copy_into(
        tx,
        "agent_status",
        &columns,
        rows,
        |&(seq, event), write| {
            let EventBody::AgentStatus(a) = &event.body else {
                return Ok(());
            };
            write(&[
                &seq,
                &event.ts.timestamp_millis(),
                &event.project.as_str(),
                &a.agent_id.as_str(),
                &to_i64(a.active_tasks),
                &to_i64(a.queued_tasks),
                &to_i64(a.capacity),
                &a.cpu_pct,
                &a.mem_pct,
                &attrs(&event.attrs),
            ])
        },
    )
}

fn copy_requests(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("endpoint", Type::TEXT),
        ("method", Type::TEXT),
        ("status", Type::INT4),
        ("latency_us", Type::INT8),
        ("user_id", Type::TEXT),
        ("session_id", Type::TEXT),
        ATTRS,
    ];
    copy_into(tx, "request", &columns, rows, |&(seq, event), write| {
        let EventBody::Request(r) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &r.endpoint.as_str(),
            &r.method.as_str(),
            &i32::from(r.status),
            &micros(r.latency_ms),
            &r.user_id.as_deref(),
            &r.session_id.as_deref(),
            &attrs(&event.attrs),
        ])
    })
}

fn copy_actions(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("user_id", Type::TEXT),
        ("action", Type::TEXT),
        ("session_id", Type::TEXT),
        ATTRS,
    ];
    copy_into(tx, "action", &columns, rows, |&(seq, event), write| {
        let EventBody::Action(a) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &a.user_id.as_str(),
            &a.action.as_str(),
            &a.session_id.as_deref(),
            &attrs(&event.attrs),
        ])
    })
}

fn copy_systems(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("host", Type::TEXT),
        ("cpu_pct", Type::FLOAT8),
        ("mem_pct", Type::FLOAT8),
        ("disk_pct", Type::FLOAT8),
        ("load1", Type::FLOAT8),
        ATTRS,
    ];
    copy_into(tx, "system", &columns, rows, |&(seq, event), write| {
        let EventBody::System(s) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &s.host.as_str(),
            &s.cpu_pct,
            &s.mem_pct,
            &s.disk_pct,
            &s.load1,
            &attrs(&event.attrs),
        ])
    })
}

fn copy_errors(tx: &mut Transaction<'_>, rows: &[(i64, &Event)]) -> Result<()> {
    let columns = [
        SEQ,
        TS,
        PROJECT,
        ("source", Type::TEXT),
        ("message", Type::TEXT),
        ("severity", Type::TEXT),
        ATTRS,
    ];
    copy_into(tx, "error", &columns, rows, |&(seq, event), write| {
        let EventBody::Error(e) = &event.body else {
            return Ok(());
        };
        write(&[
            &seq,
            &event.ts.timestamp_millis(),
            &event.project.as_str(),
            &e.source.as_str(),
            &e.message.as_str(),
            &e.severity.as_str(),
            &attrs(&event.attrs),
        ])
    })
}
