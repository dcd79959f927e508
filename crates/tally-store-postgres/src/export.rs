//! Reading raw events back as they were sent, as the SQLite adapter rebuilds them:
//! executions first, then kind by kind, each kind in arrival (`seq`) order. Rows are
//! fetched through a portal in chunks inside one read-only snapshot, so memory stays
//! flat whatever the number of events, and every kind is read at the same instant.
//!
//! What comes out re-ingests to the same store: given ids are kept; derived ids are left
//! out (ingest derives them again from the same content); costs tally computed are left
//! out (ingest computes them again); durations are the microseconds stored; a session's
//! topics come once each, in the topic dictionary's order.

use std::collections::BTreeMap;

use postgres::{IsolationLevel, Row, Transaction};
use rustc_hash::FxHashMap;
use tally_models::{
    Action, AgentStatus, AttrValue, Attrs, CostSource, Effort, ErrorEvent, Event, EventBody,
    EventId, Execution, Job, JobStatus, Kind, MetricValue, ModelUsage, Outcome, QaStatus,
    QualityBreakdown, Request, Run, Session, Severity, Skill, SystemMetrics, TokenUsage, Usd,
};

use crate::read::{Conditions, unsigned};
use crate::{Dim, Error, Filter, PostgresStore, Result};

/// Rows fetched from the portal at a time.
pub(crate) const CHUNK: i32 = 1024;

type Sink<'a> = &'a mut dyn FnMut(Event) -> tally_store::Result<()>;

impl PostgresStore {
    pub fn export_events(&self, filter: &Filter, sink: Sink<'_>) -> Result<u64> {
        self.export(filter, Kind::ALL, sink)
    }

    pub fn export_executions(&self, filter: &Filter, sink: Sink<'_>) -> Result<u64> {
        self.export(filter, &[Kind::Execution], sink)
    }

    fn export(&self, filter: &Filter, kinds: &[Kind], sink: Sink<'_>) -> Result<u64> {
        let mut client = self.conn()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let mut total = 0;
        for &kind in kinds {
            total += export_kind(&mut tx, filter, kind, sink)?;
        }
        tx.commit()?;
        Ok(total)
    }
}

/// The order the SQLite adapter gives a session's topics in: their dictionary codes,
/// that is the order topics were first stored in. Topics with a code in `tally.dict`
/// come in code order; the others by the first session naming them (its `seq`, then
/// the topic's place in it), which is the order they were first stored in. Read once
/// per export: one row per distinct topic, a low-cardinality dimension.
pub(crate) struct TopicOrder(FxHashMap<String, (i64, i64, i32)>);

impl TopicOrder {
    pub(crate) fn load(tx: &mut Transaction<'_>) -> Result<TopicOrder> {
        let rows = tx.query(
            "SELECT DISTINCT ON (st.topic) st.topic, coalesce(d.code, $1), st.session_seq,
                    st.ordinal
             FROM tally.session_topic st
             LEFT JOIN tally.dict d ON d.dim = $2 AND d.value = st.topic
             ORDER BY st.topic, st.session_seq, st.ordinal",
            &[&i64::MAX, &i16::from(Dim::Topic as u8)],
        )?;
        Ok(TopicOrder(
            rows.iter()
                .map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3))))
                .collect(),
        ))
    }

    /// `topics` once each, in this order.
    fn sorted(&self, mut topics: Vec<String>) -> Vec<String> {
        topics.sort_by_key(|topic| {
            self.0
                .get(topic)
                .copied()
                .unwrap_or((i64::MAX, i64::MAX, 0))
        });
        topics.dedup();
        topics
    }
}

/// The columns of `kind`'s table (alias `t`) after the envelope, in the order
/// [`decode`] reads them from [`K`] on.
pub(crate) fn columns(kind: Kind) -> &'static str {
    match kind {
        Kind::Execution => {
            "t.agent_id, t.task_id, t.user_id, t.session_id, t.tool, t.model, t.duration_us,
             t.success, t.browser_used, t.cost_computed, t.effort, t.cost_nusd,
             t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens,
             t.reasoning_tokens, t.error"
        }
        Kind::Run => {
            "t.duration_us, t.mode, t.qa_status,
             ARRAY(SELECT m.model FROM tally.run_model m WHERE m.run_seq = t.seq ORDER BY m.ordinal),
             ARRAY(SELECT m.input_tokens FROM tally.run_model m WHERE m.run_seq = t.seq ORDER BY m.ordinal),
             ARRAY(SELECT m.output_tokens FROM tally.run_model m WHERE m.run_seq = t.seq ORDER BY m.ordinal),
             ARRAY(SELECT m.cost_nusd FROM tally.run_model m WHERE m.run_seq = t.seq ORDER BY m.ordinal)"
        }
        Kind::Job => "t.job_id, t.status, t.run_id",
        Kind::Session => {
            "t.user_id, t.duration_us, t.exchanges, t.quality, t.relevance, t.helpfulness,
             t.engagement, t.clarity, t.accuracy,
             ARRAY(SELECT st.topic FROM tally.session_topic st WHERE st.session_seq = t.seq
                   ORDER BY st.ordinal)"
        }
        Kind::Skill => {
            "t.user_id, t.skill, t.completed, t.session_id, t.phase, t.duration_us, t.rating,
             t.query"
        }
        Kind::Outcome => {
            "t.experiment, t.user_id, t.variant,
             ARRAY(SELECT m.metric FROM tally.outcome_metric m WHERE m.outcome_seq = t.seq ORDER BY m.metric),
             ARRAY(SELECT m.value FROM tally.outcome_metric m WHERE m.outcome_seq = t.seq ORDER BY m.metric),
             ARRAY(SELECT m.is_bool FROM tally.outcome_metric m WHERE m.outcome_seq = t.seq ORDER BY m.metric)"
        }
        Kind::AgentStatus => {
            "t.agent_id, t.active_tasks, t.queued_tasks, t.capacity, t.cpu_pct, t.mem_pct"
        }
        Kind::Request => {
            "t.endpoint, t.method, t.status, t.latency_us, t.user_id, t.session_id"
        }
        Kind::Action => "t.user_id, t.action, t.session_id",
        Kind::System => "t.host, t.cpu_pct, t.mem_pct, t.disk_pct, t.load1",
        Kind::Error => "t.source, t.message, t.severity",
    }
}

/// The envelope every query starts with: seq, ts, project, the given id (derived ids
/// are left out), attrs. Kind columns follow from index [`K`].
pub(crate) const ENVELOPE: &str =
    "t.seq, t.ts, t.project, CASE WHEN NOT l.derived THEN l.id END, t.attrs::text";
const K: usize = 5;

fn export_kind(
    tx: &mut Transaction<'_>,
    filter: &Filter,
    kind: Kind,
    sink: Sink<'_>,
) -> Result<u64> {
    let conditions = Conditions::raw("t", filter);
    let topics = match kind {
        Kind::Session => Some(TopicOrder::load(tx)?),
        _ => None,
    };
    let sql = format!(
        "SELECT {ENVELOPE}, {} FROM tally.{} t LEFT JOIN tally.ledger l ON l.seq = t.seq
         WHERE {} ORDER BY t.seq",
        columns(kind),
        kind.as_str(),
        conditions.sql()
    );
    let portal = tx.bind(sql.as_str(), &conditions.params())?;
    let mut total = 0;
    loop {
        let rows = tx.query_portal(&portal, CHUNK)?;
        if rows.is_empty() {
            return Ok(total);
        }
        for row in &rows {
            sink(decode(kind, row, topics.as_ref(), false)?)?;
            total += 1;
        }
    }
}

/// What is wrong with a stored row, naming it and the field.
fn corrupt(kind: Kind, seq: i64, field: &str, what: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{kind} row seq {seq}: {field}: {what}"))
}

fn attrs(kind: Kind, seq: i64, text: Option<&str>) -> Result<Attrs> {
    let Some(text) = text else {
        return Ok(Attrs::new());
    };
    let map: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| corrupt(kind, seq, "attrs", e))?;
    map.into_iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::Bool(b) => AttrValue::Bool(b),
                serde_json::Value::String(s) => AttrValue::Str(s),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => AttrValue::Int(i),
                    None => AttrValue::Float(n.as_f64().unwrap_or_default()),
                },
                other => return Err(corrupt(kind, seq, &format!("attrs.{key}"), other)),
            };
            Ok((key, value))
        })
        .collect()
}

/// A stored enum word as its value.
fn word<T>(
    kind: Kind,
    seq: i64,
    field: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T> {
    parse(text).ok_or_else(|| corrupt(kind, seq, field, format!("{text:?} is not a known value")))
}

fn micros_to_ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

fn micros_to_s(us: i64) -> f64 {
    us as f64 / 1e6
}

/// The event of a row of `kind`'s table, selected as [`ENVELOPE`] and [`columns`]; a
/// cost tally computed is kept (marked computed) when `keep_computed_cost`, else left
/// out.
pub(crate) fn decode(
    kind: Kind,
    row: &Row,
    topics: Option<&TopicOrder>,
    keep_computed_cost: bool,
) -> Result<Event> {
    let seq: i64 = row.get(0);
    let ts: i64 = row.get(1);
    let body = match kind {
        Kind::Execution => execution(seq, row, keep_computed_cost)?,
        Kind::Run => {
            let models: Vec<String> = row.get(K + 3);
            let inputs: Vec<i64> = row.get(K + 4);
            let outputs: Vec<i64> = row.get(K + 5);
            let costs: Vec<Option<i64>> = row.get(K + 6);
            let models = models
                .into_iter()
                .zip(inputs)
                .zip(outputs)
                .zip(costs)
                .map(|(((model, input), output), cost)| ModelUsage {
                    model,
                    input_tokens: unsigned(input),
                    output_tokens: unsigned(output),
                    cost_usd: cost.map(Usd::from_nanos),
                })
                .collect();
            EventBody::Run(Run {
                duration_s: micros_to_s(row.get(K)),
                mode: row.get(K + 1),
                qa_status: word(kind, seq, "qa_status", row.get(K + 2), QaStatus::from_word)?,
                models,
            })
        }
        Kind::Job => EventBody::Job(Job {
            job_id: row.get(K),
            status: word(kind, seq, "status", row.get(K + 1), JobStatus::from_word)?,
            run_id: row.get(K + 2),
        }),
        Kind::Session => EventBody::Session(Session {
            user_id: row.get(K),
            duration_s: micros_to_s(row.get(K + 1)),
            exchanges: unsigned(row.get(K + 2)),
            quality: row.get(K + 3),
            quality_breakdown: QualityBreakdown {
                relevance: row.get(K + 4),
                helpfulness: row.get(K + 5),
                engagement: row.get(K + 6),
                clarity: row.get(K + 7),
                accuracy: row.get(K + 8),
            },
            topics: topics
                .ok_or_else(|| corrupt(kind, seq, "topics", "read without their order"))?
                .sorted(row.get(K + 9)),
        }),
        Kind::Skill => {
            let rating: Option<i16> = row.get(K + 6);
            EventBody::Skill(Skill {
                user_id: row.get(K),
                skill: row.get(K + 1),
                completed: row.get(K + 2),
                session_id: row.get(K + 3),
                phase: row.get(K + 4),
                duration_ms: row.get::<_, Option<i64>>(K + 5).map(micros_to_ms),
                rating: rating
                    .map(|r| u8::try_from(r).map_err(|_| corrupt(kind, seq, "rating", r)))
                    .transpose()?,
                query: row.get(K + 7),
            })
        }
        Kind::Outcome => {
            let metrics: Vec<String> = row.get(K + 3);
            let values: Vec<f64> = row.get(K + 4);
            let bools: Vec<bool> = row.get(K + 5);
            let metrics = metrics
                .into_iter()
                .zip(values)
                .zip(bools)
                .map(|((metric, value), is_bool)| {
                    let value = if is_bool {
                        MetricValue::Bool(value != 0.0)
                    } else {
                        MetricValue::Number(value)
                    };
                    (metric, value)
                })
                .collect();
            EventBody::Outcome(Outcome {
                experiment: row.get(K),
                user_id: row.get(K + 1),
                variant: row.get(K + 2),
                metrics,
            })
        }
        Kind::AgentStatus => EventBody::AgentStatus(AgentStatus {
            agent_id: row.get(K),
            active_tasks: unsigned(row.get(K + 1)),
            queued_tasks: unsigned(row.get(K + 2)),
            capacity: unsigned(row.get(K + 3)),
            cpu_pct: row.get(K + 4),
            mem_pct: row.get(K + 5),
        }),
        Kind::Request => {
            let status: i32 = row.get(K + 2);
            EventBody::Request(Request {
                endpoint: row.get(K),
                method: row.get(K + 1),
                status: u16::try_from(status).map_err(|_| corrupt(kind, seq, "status", status))?,
                latency_ms: micros_to_ms(row.get(K + 3)),
                user_id: row.get(K + 4),
                session_id: row.get(K + 5),
            })
        }
        Kind::Action => EventBody::Action(Action {
            user_id: row.get(K),
            action: row.get(K + 1),
            session_id: row.get(K + 2),
        }),
        Kind::System => EventBody::System(SystemMetrics {
            host: row.get(K),
            cpu_pct: row.get(K + 1),
            mem_pct: row.get(K + 2),
            disk_pct: row.get(K + 3),
            load1: row.get(K + 4),
        }),
        Kind::Error => EventBody::Error(ErrorEvent {
            source: row.get(K),
            message: row.get(K + 1),
            severity: word(kind, seq, "severity", row.get(K + 2), Severity::from_word)?,
        }),
    };
    Ok(Event {
        id: row
            .get::<_, Option<&str>>(3)
            .map(|id| EventId::Given(id.into())),
        ts: crate::from_ms(ts).map_err(|_| corrupt(kind, seq, "ts", ts))?,
        project: row.get::<_, &str>(2).into(),
        attrs: attrs(kind, seq, row.get(4))?,
        body,
    })
}

/// An execution as it was sent.
fn execution(seq: i64, row: &Row, keep_computed_cost: bool) -> Result<EventBody> {
    let kind = Kind::Execution;
    let effort = row
        .get::<_, Option<&str>>(K + 10)
        .map(|text| word(kind, seq, "effort", text, Effort::from_word))
        .transpose()?;
    let computed: bool = row.get(K + 9);
    let cost: Option<i64> = row.get(K + 11);
    let token = |at: usize| row.get::<_, Option<i64>>(at).map(unsigned);
    Ok(EventBody::Execution(Execution {
        agent_id: row.get::<_, Option<&str>>(K).map(Into::into),
        task_id: row.get::<_, Option<&str>>(K + 1).map(Into::into),
        user_id: row.get::<_, Option<&str>>(K + 2).map(Into::into),
        session_id: row.get::<_, Option<&str>>(K + 3).map(Into::into),
        tool: row.get::<_, &str>(K + 4).into(),
        model: row.get::<_, Option<&str>>(K + 5).map(Into::into),
        duration_ms: micros_to_ms(row.get(K + 6)),
        success: row.get(K + 7),
        browser_used: row.get(K + 8),
        effort,
        // A computed cost is left out of exports: ingest computes it again.
        cost_usd: if computed && !keep_computed_cost {
            None
        } else {
            cost.map(Usd::from_nanos)
        },
        cost_source: if computed && keep_computed_cost && cost.is_some() {
            CostSource::Computed
        } else {
            CostSource::Reported
        },
        tokens: TokenUsage {
            input_tokens: token(K + 12),
            output_tokens: token(K + 13),
            cache_read_tokens: token(K + 14),
            cache_write_tokens: token(K + 15),
            reasoning_tokens: token(K + 16),
        },
        error: row.get::<_, Option<&str>>(K + 17).map(Into::into),
    }))
}
