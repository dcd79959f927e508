//! The write path: one `BEGIN IMMEDIATE` transaction for one batch, or for several
//! small batches that arrived together (group commit), each with its own outcome.

use rusqlite::{CachedStatement, Connection, Transaction, TransactionBehavior, params};
use tally_models::{Attrs, CostSource, Event, EventBody, EventId, Usd};

use super::dictionary::{Dictionary, DictionaryCodes, Dim};
use super::execution_block::{BlockWriter, ExecutionRow};
use super::ledger::{self, LedgerId};
use super::rollup_write::{self, RollupCache};
use crate::{Batch, Error, Position, Rejection, Result, WriteOutcome};

/// Writes `batches` atomically, together; the dictionary cache follows the
/// transaction's fate. One outcome per batch.
pub(super) fn write_batches(
    conn: &mut Connection,
    dict: &mut Dictionary,
    rollups: &mut RollupCache,
    blocks: &mut BlockWriter,
    batches: &[Batch<'_>],
) -> Result<Vec<WriteOutcome>> {
    let result = write_in_transaction(conn, dict, rollups, blocks, batches);
    match result {
        Ok(outcomes) => {
            dict.commit();
            Ok(outcomes)
        }
        Err(error) => {
            dict.rollback();
            rollups.clear();
            blocks.clear();
            Err(error)
        }
    }
}

fn write_in_transaction(
    conn: &mut Connection,
    dict: &mut Dictionary,
    cache: &mut RollupCache,
    blocks: &mut BlockWriter,
    batches: &[Batch<'_>],
) -> Result<Vec<WriteOutcome>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    cache.begin(&tx)?;
    let mut outcomes = vec![WriteOutcome::default(); batches.len()];
    let mut next_seq: i64 =
        tx.query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
            r.get(0)
        })?;
    let mut st = Statements {
        tx: &tx,
        slots: Default::default(),
    };
    let mut rollups = cache.take_delta(chrono::Utc::now());
    let mut entries = Vec::with_capacity(ledger::GROUP);
    let mut is_new = Vec::with_capacity(ledger::GROUP);
    for (batch, outcome) in batches.iter().zip(&mut outcomes) {
        // A fold prepared by the producer is used when every event turns out to be new;
        // until that is known, the new events are only noted.
        let prepared = batch
            .prepared
            .filter(|prepared| prepared.len() == batch.events.len());
        let first_seq = next_seq;
        let mut fresh = Vec::with_capacity(prepared.map_or(0, |_| batch.events.len()));
        for group in batch.events.chunks(ledger::GROUP) {
            entries.clear();
            for event in group {
                let project = dict.code(&tx, Dim::Project, &event.project)?;
                let id = match &event.id {
                    Some(EventId::Given(id)) => LedgerId::Given(id),
                    Some(EventId::Derived(hash)) => LedgerId::Derived(hash.to_be_bytes()),
                    None => return Err(Error::MissingId),
                };
                entries.push((project, id));
            }
            ledger::record(&mut st, &entries, next_seq, &mut is_new)?;
            for ((event, &(project, _)), &new) in group.iter().zip(&entries).zip(&is_new) {
                if !new {
                    outcome.duplicates += 1;
                    continue;
                }
                insert_raw(&mut st, blocks, dict, next_seq, project, event)?;
                if prepared.is_some() {
                    fresh.push((next_seq, project, event));
                } else {
                    let mut codes = DictionaryCodes { tx: &tx, dict };
                    rollups.fold(&mut codes, next_seq, project, event)?;
                }
                next_seq += 1;
                outcome.accepted += 1;
            }
        }
        if let Some(prepared) = prepared {
            let mut codes = DictionaryCodes { tx: &tx, dict };
            if fresh.len() == batch.events.len() {
                prepared.add_to(&mut rollups, &mut codes, first_seq)?;
            } else {
                for (seq, project, event) in fresh {
                    rollups.fold(&mut codes, seq, project, event)?;
                }
            }
        }
    }
    drop(st);
    blocks.store(&tx)?;
    rollup_write::flush(&rollups, &tx, cache)?;
    cache.put_delta(rollups);
    super::learning_write::fold_new_sessions(&tx)?;
    tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'next_seq'")?
        .execute([next_seq])?;
    for (batch, outcome) in batches.iter().zip(&mut outcomes) {
        for reject in batch.rejects {
            quarantine(&tx, reject)?;
            outcome.quarantined += 1;
        }
        for quarantine_id in batch.resolved_quarantine {
            tx.prepare_cached("DELETE FROM quarantine WHERE quarantine_id = ?1")?
                .execute([quarantine_id])?;
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

/// The insert statements of one transaction, prepared on first use: looking them up in
/// rusqlite's statement cache for every row costs more than the insert itself.
#[derive(Clone, Copy)]
pub(super) enum Slot {
    /// One ledger entry (`ledger.rs`).
    Ledger,
    /// A group of `ledger::GROUP` ledger entries.
    LedgerGroup,
    Run,
    RunModel,
    Job,
    Session,
    SessionTopic,
    Skill,
    Outcome,
    OutcomeMetric,
    AgentStatus,
    Request,
    Action,
    System,
    Error,
}

pub(super) struct Statements<'t, 'c> {
    pub(super) tx: &'t Transaction<'c>,
    slots: [Option<CachedStatement<'t>>; 15],
}

impl<'t> Statements<'t, '_> {
    pub(super) fn get(&mut self, slot: Slot, sql: &str) -> Result<&mut CachedStatement<'t>> {
        let entry = &mut self.slots[slot as usize];
        if entry.is_none() {
            *entry = Some(self.tx.prepare_cached(sql)?);
        }
        Ok(entry.as_mut().expect("prepared just above"))
    }
}

/// Puts a reject in quarantine, or counts it on the entry it repeats: the same bytes
/// at the same place of the same source, rejected for the same reason.
fn quarantine(tx: &Transaction<'_>, reject: &Rejection) -> Result<()> {
    let (position_kind, position) = match reject.position {
        Position::Line(line) => ("line", line),
        Position::Index(index) => ("index", index),
    };
    // Both statements take the same values: the place and reason first, then what a
    // repeat refreshes.
    let values = params![
        chrono::Utc::now().timestamp_millis(),
        reject.source,
        position as i64,
        reject.rule,
        position_kind,
        reject.format.as_str(),
        reject.header,
        reject.field,
        reject.raw,
        reject.message,
        reject.record_id,
    ];
    let repeated = tx
        .prepare_cached(
            "UPDATE quarantine
             SET rejections = rejections + 1, last_received_at = ?1, message = ?10, record_id = ?11
             WHERE source = ?2 AND position = ?3 AND rule = ?4 AND position_kind = ?5
               AND format = ?6 AND header IS ?7 AND field = ?8 AND raw = ?9",
        )?
        .execute(values)?;
    if repeated == 0 {
        tx.prepare_cached(
            "INSERT INTO quarantine (received_at, last_received_at, source, position, rule,
                 position_kind, format, header, field, raw, message, record_id)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(values)?;
    }
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

fn attrs_json(attrs: &Attrs) -> Option<String> {
    // Serializing a map of plain scalars cannot fail.
    (!attrs.is_empty()).then(|| serde_json::to_string(attrs).unwrap_or_default())
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn opt_i64(n: Option<u64>) -> Option<i64> {
    n.map(to_i64)
}

fn insert_raw(
    st: &mut Statements<'_, '_>,
    blocks: &mut BlockWriter,
    dict: &mut Dictionary,
    seq: i64,
    project: i64,
    event: &Event,
) -> Result<()> {
    let tx = st.tx;
    let ts = event.ts.timestamp_millis();
    let attrs = attrs_json(&event.attrs);
    match &event.body {
        EventBody::Execution(x) => {
            let computed = x.cost_source == CostSource::Computed;
            let flags = i64::from(x.browser_used)
                | (i64::from(computed) << 1)
                | (x.effort.map_or(0, |e| i64::from(e.code()) + 1) << 2);
            blocks.push(&ExecutionRow {
                seq,
                ts,
                project,
                id: match &event.id {
                    Some(EventId::Given(id)) => Some(id.as_str().into()),
                    _ => None,
                },
                agent: dict.code_opt(tx, Dim::Agent, x.agent_id.as_deref())?,
                task: x.task_id.as_deref().map(Into::into),
                user: dict.code_opt(tx, Dim::User, x.user_id.as_deref())?,
                session: x.session_id.as_deref().map(Into::into),
                tool: dict.code(tx, Dim::Tool, &x.tool)?,
                model: dict.code_opt(tx, Dim::Model, x.model.as_deref())?,
                duration_us: micros(x.duration_ms),
                success: x.success,
                flags,
                cost_nusd: nanos(x.cost_usd),
                tokens: [
                    opt_i64(x.tokens.input_tokens),
                    opt_i64(x.tokens.output_tokens),
                    opt_i64(x.tokens.cache_read_tokens),
                    opt_i64(x.tokens.cache_write_tokens),
                    opt_i64(x.tokens.reasoning_tokens),
                ],
                error: dict.code_opt(tx, Dim::ErrorClass, x.error.as_deref())?,
                attrs: attrs.map(Into::into),
            });
        }
        EventBody::Run(r) => {
            st.get(Slot::Run,
                "INSERT INTO run (seq, ts, project, duration_us, mode, qa_status, tokens, cost_nusd, attrs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                seconds_to_micros(r.duration_s),
                dict.code_opt(tx, Dim::Mode, r.mode.as_deref())?,
                r.qa_status.code(),
                to_i64(r.total_tokens()),
                r.models.iter().filter_map(|m| m.cost_usd).map(Usd::to_nanos).sum::<i64>(),
                attrs,
            ])?;
            for (ordinal, m) in r.models.iter().enumerate() {
                st.get(Slot::RunModel,
                    "INSERT INTO run_model (run_seq, ordinal, model, input_tokens, output_tokens, cost_nusd)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    seq,
                    ordinal as i64,
                    dict.code(tx, Dim::Model, &m.model)?,
                    to_i64(m.input_tokens),
                    to_i64(m.output_tokens),
                    nanos(m.cost_usd),
                ])?;
            }
        }
        EventBody::Job(j) => {
            st.get(Slot::Job,
                "INSERT INTO job (seq, ts, project, job_id, status, run_id, attrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![seq, ts, project, j.job_id, j.status.code(), j.run_id, attrs])?;
        }
        EventBody::Session(s) => {
            let [relevance, helpfulness, engagement, clarity, accuracy] =
                s.quality_breakdown.values();
            st.get(Slot::Session,
                "INSERT INTO session (seq, ts, project, user, duration_us, exchanges, quality, relevance, helpfulness,
                    engagement, clarity, accuracy, attrs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                dict.code(tx, Dim::User, &s.user_id)?,
                seconds_to_micros(s.duration_s),
                to_i64(s.exchanges),
                s.quality,
                relevance,
                helpfulness,
                engagement,
                clarity,
                accuracy,
                attrs,
            ])?;
            for topic in &s.topics {
                st.get(
                    Slot::SessionTopic,
                    "INSERT OR IGNORE INTO session_topic (session_seq, topic) VALUES (?1, ?2)",
                )?
                .execute(params![seq, dict.code(tx, Dim::Topic, topic)?])?;
            }
        }
        EventBody::Skill(s) => {
            st.get(Slot::Skill,
                "INSERT INTO skill (seq, ts, project, user, skill, completed, session, phase, duration_us, rating, query, attrs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                dict.code(tx, Dim::User, &s.user_id)?,
                dict.code(tx, Dim::Skill, &s.skill)?,
                s.completed,
                s.session_id,
                dict.code_opt(tx, Dim::Phase, s.phase.as_deref())?,
                s.duration_ms.map(micros),
                s.rating,
                s.query,
                attrs,
            ])?;
        }
        EventBody::Outcome(o) => {
            st.get(Slot::Outcome,
                "INSERT INTO outcome (seq, ts, project, experiment, user, variant, attrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                dict.code(tx, Dim::Experiment, &o.experiment)?,
                dict.code(tx, Dim::User, &o.user_id)?,
                dict.code(tx, Dim::Variant, &o.variant)?,
                attrs,
            ])?;
            for (metric, value) in &o.metrics {
                st.get(Slot::OutcomeMetric,
                    "INSERT INTO outcome_metric (outcome_seq, metric, value, is_bool) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    seq,
                    dict.code(tx, Dim::Metric, metric)?,
                    value.as_f64(),
                    matches!(value, tally_models::MetricValue::Bool(_)),
                ])?;
            }
        }
        EventBody::AgentStatus(a) => {
            st.get(Slot::AgentStatus,
                "INSERT INTO agent_status (seq, ts, project, agent, active_tasks, queued_tasks, capacity, cpu_pct, mem_pct, attrs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                dict.code(tx, Dim::Agent, &a.agent_id)?,
                to_i64(a.active_tasks),
                to_i64(a.queued_tasks),
                to_i64(a.capacity),
                a.cpu_pct,
                a.mem_pct,
                attrs,
            ])?;
        }
        EventBody::Request(r) => {
            st.get(Slot::Request,
                "INSERT INTO request (seq, ts, project, endpoint, method, status, latency_us, user, session, attrs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                dict.code(tx, Dim::Endpoint, &r.endpoint)?,
                dict.code(tx, Dim::Method, &r.method)?,
                r.status,
                micros(r.latency_ms),
                dict.code_opt(tx, Dim::User, r.user_id.as_deref())?,
                r.session_id,
                attrs,
            ])?;
        }
        EventBody::Action(a) => {
            st.get(Slot::Action,
                "INSERT INTO action (seq, ts, project, user, action, session, attrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                dict.code(tx, Dim::User, &a.user_id)?,
                dict.code(tx, Dim::Action, &a.action)?,
                a.session_id,
                attrs,
            ])?;
        }
        EventBody::System(s) => {
            st.get(Slot::System,
                "INSERT INTO system (seq, ts, project, host, cpu_pct, mem_pct, disk_pct, load1, attrs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                seq,
                ts,
                project,
                dict.code(tx, Dim::Host, &s.host)?,
                s.cpu_pct,
                s.mem_pct,
                s.disk_pct,
                s.load1,
                attrs,
            ])?;
        }
        EventBody::Error(e) => {
            st.get(Slot::Error,
                "INSERT INTO error (seq, ts, project, source, message, severity, attrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![seq, ts, project, dict.code(tx, Dim::Source, &e.source)?, e.message, e.severity.code(), attrs])?;
        }
    }
    Ok(())
}
