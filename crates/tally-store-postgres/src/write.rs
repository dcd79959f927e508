//! The write path: one transaction per call, for one batch or several. The ledger's
//! primary key decides which events are new; their raw rows are copied in; their fold
//! is merged into the rollup and live-state rows and the learner summary under
//! [`crate::MERGE_LOCK`]; then the rejects are quarantined. A serialization failure or
//! a deadlock, which concurrent writers can meet, retries the whole transaction.

mod learner;
mod merge;
mod raw;

use chrono::Utc;
use postgres::error::SqlState;
use postgres::{Client, Transaction};
use rustc_hash::{FxHashMap, FxHashSet};
use tally_models::{Event, EventBody, EventId};
use tally_store::rollup_fold::{Codes, RollupDelta};

use crate::{
    Batch, Dim, Error, MERGE_LOCK, Position, PostgresStore, Rejection, Result, WriteOutcome,
};

/// How many times a write meeting a serialization failure or deadlock is tried.
const ATTEMPTS: usize = 5;

impl PostgresStore {
    /// Writes one batch, all or nothing.
    ///
    /// # Errors
    /// An event without an id, or any database failure; then nothing was stored.
    pub fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome> {
        let outcomes = self.write_batches(&[batch])?;
        Ok(outcomes.into_iter().next().unwrap_or_default())
    }

    /// Writes several batches in one transaction, one outcome per batch.
    ///
    /// # Errors
    /// An event without an id, or any database failure; then nothing was stored.
    pub fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        if batches
            .iter()
            .any(|batch| batch.events.iter().any(|event| event.id.is_none()))
        {
            return Err(Error::MissingId);
        }
        let mut client = self.conn()?;
        // Codes are assigned in their own committed statements, before the transaction.
        let codes = self.codes_of(&mut client, batches)?;
        let mut attempt = 1;
        loop {
            match write_once(&mut client, &codes, batches) {
                Err(error) if attempt < ATTEMPTS && is_transient(&error) => {
                    tracing::debug!(attempt, %error, "write retried");
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// The dictionary codes the fold of `batches` asks for.
    fn codes_of(&self, client: &mut Client, batches: &[Batch<'_>]) -> Result<BatchCodes> {
        let mut wanted: FxHashSet<(Dim, &str)> = FxHashSet::default();
        for event in batches.iter().flat_map(|batch| batch.events) {
            coded_values(event, |dim, value| {
                wanted.insert((dim, value));
            });
        }
        let wanted: Vec<(Dim, &str)> = wanted.into_iter().collect();
        let codes = self.dict.codes(client, &wanted)?;
        Ok(BatchCodes(
            wanted
                .into_iter()
                .zip(codes)
                .map(|((dim, value), code)| ((dim as u8, value.to_owned()), code))
                .collect(),
        ))
    }
}

/// Calls `each` with every dimension value the rollup fold codes for `event`.
fn coded_values<'e>(event: &'e Event, mut each: impl FnMut(Dim, &'e str)) {
    each(Dim::Project, &event.project);
    match &event.body {
        EventBody::Execution(x) => {
            each(Dim::Tool, &x.tool);
            if let Some(model) = &x.model {
                each(Dim::Model, model);
            }
            if let Some(agent) = &x.agent_id {
                each(Dim::Agent, agent);
            }
            if let Some(error) = &x.error {
                each(Dim::ErrorClass, error);
            }
            if let Some(user) = &x.user_id {
                each(Dim::User, user);
            }
        }
        EventBody::Run(r) => {
            for usage in &r.models {
                each(Dim::Model, &usage.model);
            }
        }
        EventBody::Request(r) => {
            each(Dim::Endpoint, &r.endpoint);
            if let Some(user) = &r.user_id {
                each(Dim::User, user);
            }
        }
        EventBody::AgentStatus(a) => each(Dim::Agent, &a.agent_id),
        EventBody::Session(s) => each(Dim::User, &s.user_id),
        EventBody::Skill(s) => each(Dim::User, &s.user_id),
        EventBody::Outcome(o) => each(Dim::User, &o.user_id),
        EventBody::Action(a) => each(Dim::User, &a.user_id),
        EventBody::Job(_) | EventBody::System(_) | EventBody::Error(_) => {}
    }
}

/// The codes of one write, assigned before its transaction.
struct BatchCodes(FxHashMap<(u8, String), i64>);

impl BatchCodes {
    fn get(&self, dim: Dim, value: &str) -> tally_store::Result<i64> {
        // The key is built only on a lookup; a write codes a few values per event.
        self.0
            .get(&(dim as u8, value.to_owned()))
            .copied()
            .ok_or_else(|| {
                tally_store::Error::Corrupt(format!("no dictionary code for {dim:?} {value:?}"))
            })
    }
}

impl Codes for &BatchCodes {
    fn code(&mut self, dim: Dim, value: &str) -> tally_store::Result<i64> {
        self.get(dim, value)
    }
}

/// A serialization failure or deadlock: the transaction may succeed when tried again.
fn is_transient(error: &Error) -> bool {
    let Error::Postgres(error) = error else {
        return false;
    };
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// A ledger key: the project, the id as text (the hex of a derived id's hash), and
/// whether it was derived.
type LedgerKey<'e> = (&'e str, String, bool);

fn ledger_key(event: &Event) -> Result<LedgerKey<'_>> {
    match &event.id {
        Some(EventId::Given(id)) => Ok((event.project.as_str(), id.to_string(), false)),
        Some(EventId::Derived(hash)) => Ok((event.project.as_str(), format!("{hash:032x}"), true)),
        None => Err(Error::MissingId),
    }
}

fn write_once(
    client: &mut Client,
    codes: &BatchCodes,
    batches: &[Batch<'_>],
) -> Result<Vec<WriteOutcome>> {
    let mut tx = client.transaction()?;
    let mut outcomes = vec![WriteOutcome::default(); batches.len()];
    let seqs = record_in_ledger(&mut tx, batches, &mut outcomes)?;
    let mut rows = raw::RawRows::default();
    let mut delta = RollupDelta::new(Utc::now());
    let mut codes = codes;
    for (event, seq) in batches
        .iter()
        .flat_map(|batch| batch.events)
        .zip(&seqs)
        .filter_map(|(event, seq)| seq.map(|seq| (event, seq)))
    {
        rows.push(seq, event);
        let project = codes.get(Dim::Project, &event.project)?;
        delta.fold(&mut codes, seq, project, event)?;
    }
    rows.copy(&mut tx)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MERGE_LOCK])?;
    merge::merge(&mut tx, &delta)?;
    learner::fold_sessions(&mut tx, &rows.session_seqs())?;
    for (batch, outcome) in batches.iter().zip(&mut outcomes) {
        for reject in batch.rejects {
            quarantine(&mut tx, reject)?;
            outcome.quarantined += 1;
        }
        if !batch.resolved_quarantine.is_empty() {
            tx.execute(
                "DELETE FROM tally.quarantine WHERE quarantine_id = ANY($1)",
                &[&batch.resolved_quarantine],
            )?;
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

/// Records every event of `batches` in the ledger, in one statement. Returns the
/// sequence number of each new event, `None` for a duplicate (of a stored event, or of
/// an earlier event of the same call: the first wins), counted in `outcomes`.
fn record_in_ledger(
    tx: &mut Transaction<'_>,
    batches: &[Batch<'_>],
    outcomes: &mut [WriteOutcome],
) -> Result<Vec<Option<i64>>> {
    let events: Vec<&Event> = batches.iter().flat_map(|batch| batch.events).collect();
    // The first event of each key, by position.
    let mut first: FxHashMap<LedgerKey<'_>, usize> = FxHashMap::default();
    for (at, event) in events.iter().enumerate() {
        first.entry(ledger_key(event)?).or_insert(at);
    }
    let mut seqs: Vec<Option<i64>> = vec![None; events.len()];
    if !first.is_empty() {
        let keys: Vec<(&LedgerKey<'_>, usize)> = first.iter().map(|(k, at)| (k, *at)).collect();
        let projects: Vec<&str> = keys.iter().map(|((p, _, _), _)| *p).collect();
        let ids: Vec<&str> = keys.iter().map(|((_, id, _), _)| id.as_str()).collect();
        let derived: Vec<bool> = keys.iter().map(|((_, _, d), _)| *d).collect();
        // Numbers only for the keys not stored yet (a resent event takes none), in
        // arrival order.
        let unseen = tx.query(
            "SELECT v.i, nextval('tally.event_seq')
             FROM unnest($1::text[], $2::text[], $3::boolean[]) WITH ORDINALITY AS v(p, id, d, i)
             WHERE NOT EXISTS (SELECT 1 FROM tally.ledger l
                               WHERE l.project = v.p AND l.id = v.id AND l.derived = v.d)",
            &[&projects, &ids, &derived],
        )?;
        let mut drawn: Vec<i64> = unseen.iter().map(|row| row.get(1)).collect();
        drawn.sort_unstable();
        let mut arrival: Vec<usize> = unseen
            .iter()
            .filter_map(|row| usize::try_from(row.get::<_, i64>(0) - 1).ok())
            .filter_map(|k| keys.get(k).map(|(_, at)| *at))
            .collect();
        arrival.sort_unstable();
        let numbered: FxHashMap<usize, i64> = arrival.into_iter().zip(drawn).collect();
        // The entries go in in key order, so that two writers sending the same ids never
        // wait on each other in a cycle; one stored meanwhile by another writer is a
        // duplicate (its number stays unused).
        let mut entries: Vec<(&LedgerKey<'_>, i64)> = keys
            .iter()
            .filter_map(|(key, at)| numbered.get(at).map(|seq| (*key, *seq)))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let projects: Vec<&str> = entries.iter().map(|((p, _, _), _)| *p).collect();
        let ids: Vec<&str> = entries.iter().map(|((_, id, _), _)| id.as_str()).collect();
        let derived: Vec<bool> = entries.iter().map(|((_, _, d), _)| *d).collect();
        let entry_seqs: Vec<i64> = entries.iter().map(|(_, seq)| *seq).collect();
        let stored = tx.query(
            "INSERT INTO tally.ledger (project, id, derived, seq)
             SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::bigint[])
             ON CONFLICT DO NOTHING
             RETURNING seq",
            &[&projects, &ids, &derived, &entry_seqs],
        )?;
        let new: FxHashSet<i64> = stored.iter().map(|row| row.get(0)).collect();
        for (at, seq) in numbered {
            if new.contains(&seq) {
                seqs[at] = Some(seq);
            }
        }
    }
    let mut at = 0;
    for (batch, outcome) in batches.iter().zip(outcomes) {
        for _ in batch.events {
            if seqs[at].is_some() {
                outcome.accepted += 1;
            } else {
                outcome.duplicates += 1;
            }
            at += 1;
        }
    }
    Ok(seqs)
}

/// Puts a reject in quarantine, or counts it on the entry it repeats: the same bytes
/// at the same place of the same source, rejected for the same reason.
fn quarantine(tx: &mut Transaction<'_>, reject: &Rejection) -> Result<()> {
    let (position_kind, position) = match reject.position {
        Position::Line(line) => ("line", line),
        Position::Index(index) => ("index", index),
    };
    let position = i64::try_from(position).unwrap_or(i64::MAX);
    let now = Utc::now().timestamp_millis();
    let repeated = tx.execute(
        "UPDATE tally.quarantine
         SET rejections = rejections + 1, last_received_at = $1, message = $10, record_id = $11
         WHERE source = $2 AND position = $3 AND rule = $4 AND position_kind = $5
           AND format = $6 AND header IS NOT DISTINCT FROM $7 AND field = $8 AND raw = $9",
        &[
            &now,
            &reject.source,
            &position,
            &reject.rule,
            &position_kind,
            &reject.format.as_str(),
            &reject.header,
            &reject.field,
            &reject.raw,
            &reject.message,
            &reject.record_id,
        ],
    )?;
    if repeated == 0 {
        tx.execute(
            "INSERT INTO tally.quarantine (received_at, last_received_at, rejections, source,
                 position, rule, position_kind, format, header, field, raw, message, record_id)
             VALUES ($1, $1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &now,
                &reject.source,
                &position,
                &reject.rule,
                &position_kind,
                &reject.format.as_str(),
                &reject.header,
                &reject.field,
                &reject.raw,
                &reject.message,
                &reject.record_id,
            ],
        )?;
    }
    Ok(())
}
