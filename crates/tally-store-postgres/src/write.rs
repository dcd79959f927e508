//! The write path: one transaction per call, for one batch or several. The ledger's
//! primary key decides which events are new; their raw rows are copied in; their fold
//! is merged into the rollup and live-state rows and the learner summary under
//! [`crate::MERGE_LOCK`]; then the rejects are quarantined. A serialization failure or
//! a deadlock, which concurrent writers can meet, retries the whole transaction.

mod learner;
mod merge;
mod raw;
#[cfg(test)]
mod retry_tests;

use chrono::Utc;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, Transaction};
use rustc_hash::{FxHashMap, FxHashSet};
use tally_models::{Event, EventBody, EventId};
use tally_store::rollup_fold::{Codes, RollupDelta};

use crate::{
    Batch, Dim, Error, MERGE_LOCK, Position, PostgresStore, Rejection, Result, WriteOutcome, ms,
};

/// How many times a write meeting a serialization failure or deadlock is tried (with a
/// pause between tries, [`backoff`]).
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
                    let pause = backoff(attempt);
                    tracing::debug!(attempt, ?pause, %error, "write retried");
                    std::thread::sleep(pause);
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
        let mut wanted: Vec<(Dim, &str)> = wanted.into_iter().collect();
        // In one order on every server, so that two assigning the same new codes at once
        // never wait on each other in a cycle.
        wanted.sort_unstable_by_key(|&(dim, value)| (dim as u8, value));
        let codes = self.dict.codes(client, &wanted)?;
        let mut by_dim = vec![FxHashMap::default(); tally_store::DIMS];
        for ((dim, value), code) in wanted.into_iter().zip(codes) {
            by_dim[dim as usize].insert(value.to_owned(), code);
        }
        Ok(BatchCodes(by_dim))
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

/// The codes of one write, per dimension, assigned before its transaction.
struct BatchCodes(Vec<FxHashMap<String, i64>>);

impl BatchCodes {
    fn get(&self, dim: Dim, value: &str) -> tally_store::Result<i64> {
        self.0[dim as usize].get(value).copied().ok_or_else(|| {
            tally_store::Error::Corrupt(format!("no dictionary code for {dim:?} {value:?}"))
        })
    }
}

impl Codes for &BatchCodes {
    fn code(&mut self, dim: Dim, value: &str) -> tally_store::Result<i64> {
        self.get(dim, value)
    }
}

/// The pause before trying a write again after its `attempt`-th try failed: doubling
/// from 10 ms, each drawn between half and one and a half times that, so that writers
/// that failed together do not meet again at once.
fn backoff(attempt: usize) -> std::time::Duration {
    let base_ms = 10.0 * f64::from(1_u32 << attempt.min(6).saturating_sub(1));
    std::time::Duration::from_secs_f64(base_ms * rand::random_range(0.5..1.5) / 1000.0)
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
    let mut at = 0;
    for batch in batches {
        let batch_seqs = &seqs[at..at + batch.events.len()];
        at += batch.events.len();
        for (event, seq) in batch.events.iter().zip(batch_seqs) {
            if let Some(seq) = seq {
                rows.push(*seq, event);
            }
        }
        // A fold prepared by the producer fits when every event of the batch is new and
        // numbered in one run (another writer drawing numbers meanwhile breaks the run:
        // the fold's latest agent snapshots are ordered by their numbers).
        let prepared = batch
            .prepared
            .filter(|prepared| prepared.len() == batch.events.len());
        match (prepared, consecutive(batch_seqs)) {
            (Some(prepared), Some(first_seq)) => {
                prepared.add_to(&mut delta, &mut codes, first_seq)?
            }
            _ => {
                for (event, seq) in batch.events.iter().zip(batch_seqs) {
                    if let Some(seq) = seq {
                        let project = codes.get(Dim::Project, &event.project)?;
                        delta.fold(&mut codes, *seq, project, event)?;
                    }
                }
            }
        }
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

/// The first number of `seqs` when every event has one and they follow each other.
fn consecutive(seqs: &[Option<i64>]) -> Option<i64> {
    let first = (*seqs.first()?)?;
    seqs.iter()
        .zip(first..)
        .all(|(seq, expected)| *seq == Some(expected))
        .then_some(first)
}

/// Stores the ledger entries of `$1` (projects), `$2` (ids), `$3` (derived or given)
/// not stored yet, skipping the others (a key another writer is storing waits for its
/// transaction to end), each numbered from the sequence: numbers are drawn in arrival
/// order (the function scan's); the rows go in in key order, the same on every server,
/// so that two writers of the same keys never wait on each other in a cycle. Answers
/// `(position in the arrays, seq)` per entry stored.
const INSERT_NEW_SKIPPING_STORED: &str = "WITH v AS MATERIALIZED (
         SELECT p, id, d, i, nextval('tally.event_seq') AS seq
         FROM unnest($1::text[], $2::text[], $3::boolean[]) WITH ORDINALITY AS v(p, id, d, i)
     ), stored AS (
         INSERT INTO tally.ledger (project, id, derived, seq)
         SELECT p, id, d, seq FROM v
         ORDER BY p COLLATE \"C\", id COLLATE \"C\", d
         ON CONFLICT DO NOTHING RETURNING seq
     )
     SELECT v.i, v.seq FROM v JOIN stored USING (seq)";

/// `$1` numbers from the sequence, drawn in order.
const DRAW_SEQS: &str =
    "SELECT array(SELECT nextval('tally.event_seq') FROM generate_series(1, $1::bigint))";

/// Stores every key as new, numbered from the sequence in the order given, under a
/// savepoint: `None`, with nothing of it left, when one was stored already. This costs
/// about half of [`INSERT_NEW_SKIPPING_STORED`]: no speculative insertion, and one
/// binary `COPY` whose rows the heap takes a page at a time. The rows go in in key
/// order: bytes compare as the `"C"` collation orders them, the order every server
/// takes keys in.
fn insert_all_new(
    tx: &mut Transaction<'_>,
    keys: &[(LedgerKey<'_>, usize)],
) -> Result<Option<Vec<i64>>> {
    let count = i64::try_from(keys.len()).unwrap_or(i64::MAX);
    let seqs: Vec<i64> = tx.query_one(DRAW_SEQS, &[&count])?.get(0);
    if seqs.len() != keys.len() {
        return Err(Error::Corrupt(format!(
            "drew {} sequence numbers for {} ledger keys",
            seqs.len(),
            keys.len()
        )));
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (((pa, ia, da), _), ((pb, ib, db), _)) = (&keys[a], &keys[b]);
        (pa.as_bytes(), ia.as_bytes(), da).cmp(&(pb.as_bytes(), ib.as_bytes(), db))
    });
    let mut attempt = tx.savepoint("ledger_all_new")?;
    let copied = (|| -> std::result::Result<(), postgres::Error> {
        let sink =
            attempt.copy_in("COPY tally.ledger (project, id, derived, seq) FROM STDIN BINARY")?;
        let mut writer =
            BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::BOOL, Type::INT8]);
        for &k in &order {
            let ((project, id, derived), _) = &keys[k];
            writer.write(&[project, id, derived, &seqs[k]])?;
        }
        writer.finish()?;
        Ok(())
    })();
    match copied {
        Ok(()) => {
            attempt.commit()?;
            Ok(Some(seqs))
        }
        Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            attempt.rollback()?;
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// Records every event of `batches` in the ledger: first as all new, then, when a key
/// was stored already, skipping the stored ones. Returns the sequence number of each
/// new event, `None` for a duplicate (of a stored event, or of an earlier event of the same call: the
/// first wins), counted in `outcomes`. A duplicate of a stored event draws a number it
/// does not keep: `seq` has gaps, and only its order means anything.
fn record_in_ledger(
    tx: &mut Transaction<'_>,
    batches: &[Batch<'_>],
    outcomes: &mut [WriteOutcome],
) -> Result<Vec<Option<i64>>> {
    let events: Vec<&Event> = batches.iter().flat_map(|batch| batch.events).collect();
    // The first event of each key, in arrival order.
    let mut seen: FxHashSet<LedgerKey<'_>> = FxHashSet::default();
    let mut keys: Vec<(LedgerKey<'_>, usize)> = Vec::with_capacity(events.len());
    for (at, event) in events.iter().enumerate() {
        let key = ledger_key(event)?;
        if seen.insert(key.clone()) {
            keys.push((key, at));
        }
    }
    let mut seqs: Vec<Option<i64>> = vec![None; events.len()];
    let drawn = if keys.is_empty() {
        Some(Vec::new())
    } else {
        insert_all_new(tx, &keys)?
    };
    if let Some(drawn) = drawn {
        for ((_, at), seq) in keys.iter().zip(drawn) {
            seqs[*at] = Some(seq);
        }
    } else {
        let projects: Vec<&str> = keys.iter().map(|((p, _, _), _)| *p).collect();
        let ids: Vec<&str> = keys.iter().map(|((_, id, _), _)| id.as_str()).collect();
        let derived: Vec<bool> = keys.iter().map(|((_, _, d), _)| *d).collect();
        for row in tx.query(INSERT_NEW_SKIPPING_STORED, &[&projects, &ids, &derived])? {
            let index: i64 = row.get(0);
            let at = usize::try_from(index - 1)
                .ok()
                .and_then(|k| keys.get(k))
                .map(|(_, at)| *at)
                .ok_or_else(|| Error::Corrupt(format!("ledger insert returned row {index}")))?;
            seqs[at] = Some(row.get(1));
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
    let now = ms(Utc::now());
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

#[cfg(test)]
mod tests {
    use tally_models::{EventId, JobStatus};
    use tally_store::{RecordFormat, Rejection};
    use tally_store_contract::events::{Exec, at, execution, job, run, session};
    use tally_store_contract::postgres_test::TestDatabase;

    use super::*;
    use crate::PostgresOptions;

    fn store() -> (PostgresStore, TestDatabase) {
        let database = TestDatabase::create();
        let store = PostgresStore::open(database.url(), PostgresOptions::default())
            .expect("open the test database");
        (store, database)
    }

    fn write(store: &PostgresStore, events: &[Event]) -> WriteOutcome {
        store
            .write_batch(Batch {
                events,
                ..Batch::default()
            })
            .expect("written")
    }

    fn count(store: &PostgresStore, table: &str) -> i64 {
        store
            .conn()
            .expect("a connection")
            .query_one(&format!("SELECT count(*) FROM tally.{table}"), &[])
            .expect("counted")
            .get(0)
    }

    #[test]
    fn the_first_of_an_id_in_a_call_is_stored_and_resends_take_no_number() {
        let (store, _db) = store();
        let first = Exec {
            tool: "first".to_owned(),
            ..Exec::default()
        };
        let second = Exec {
            tool: "second".to_owned(),
            ..Exec::default()
        };
        let mut derived = execution("x", "alpha", at(60), &first);
        derived.id = Some(EventId::Derived(u128::MAX - 1));
        let outcome = write(
            &store,
            &[
                execution("a", "alpha", at(0), &first),
                execution("a", "alpha", at(0), &second),
                // The same id in another project is another event.
                execution("a", "beta", at(0), &second),
                derived.clone(),
            ],
        );
        assert_eq!((outcome.accepted, outcome.duplicates), (3, 1));
        let mark = store.next_seq().expect("mark");
        let outcome = write(&store, &[execution("a", "alpha", at(0), &second), derived]);
        assert_eq!((outcome.accepted, outcome.duplicates), (0, 2));
        assert_eq!(store.next_seq().expect("mark"), mark);
        let mut client = store.conn().expect("a connection");
        let tool: String = client
            .query_one(
                "SELECT e.tool FROM tally.execution e JOIN tally.ledger l ON l.seq = e.seq
                 WHERE l.project = 'alpha' AND l.id = 'a'",
                &[],
            )
            .expect("the stored row")
            .get(0);
        assert_eq!(tool, "first");
        let hex: String = client
            .query_one("SELECT id FROM tally.ledger WHERE derived", &[])
            .expect("the derived entry")
            .get(0);
        assert_eq!(hex, format!("{:032x}", u128::MAX - 1));
    }

    /// The ledger's `seq` of each id of project `alpha`, in `ids`' order.
    fn seqs_of(store: &PostgresStore, ids: &[&str]) -> Vec<i64> {
        let mut client = store.conn().expect("a connection");
        ids.iter()
            .map(|id| {
                client
                    .query_one(
                        "SELECT seq FROM tally.ledger WHERE project = 'alpha' AND id = $1",
                        &[id],
                    )
                    .expect("the entry")
                    .get(0)
            })
            .collect()
    }

    #[test]
    fn new_events_are_numbered_in_arrival_order_whether_or_not_a_key_was_stored() {
        let (store, _db) = store();
        let exec = |id| execution(id, "alpha", at(0), &Exec::default());
        // All new, arriving out of key order: one COPY in key order, numbers as arrived.
        let outcome = write(&store, &[exec("z"), exec("a"), exec("m")]);
        assert_eq!((outcome.accepted, outcome.duplicates), (3, 0));
        let first = seqs_of(&store, &["z", "a", "m"]);
        assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
        // One stored key among new ones: the new ones still go in, in arrival order.
        let outcome = write(&store, &[exec("y"), exec("a"), exec("b")]);
        assert_eq!((outcome.accepted, outcome.duplicates), (2, 1));
        let second = seqs_of(&store, &["y", "b"]);
        assert!(first[2] < second[0] && second[0] < second[1], "{second:?}");
        assert_eq!(seqs_of(&store, &["a"]), [first[1]]);
        assert_eq!(count(&store, "execution"), 5);
    }

    #[test]
    fn an_event_without_id_stores_nothing_of_its_call() {
        let (store, _db) = store();
        let mut anonymous = execution("b", "alpha", at(0), &Exec::default());
        anonymous.id = None;
        let good = [execution("a", "alpha", at(0), &Exec::default())];
        let error = store
            .write_batches(&[
                Batch {
                    events: &good,
                    ..Batch::default()
                },
                Batch {
                    events: std::slice::from_ref(&anonymous),
                    ..Batch::default()
                },
            ])
            .expect_err("refused");
        assert!(matches!(error, Error::MissingId), "{error}");
        assert_eq!(count(&store, "ledger"), 0);
        assert_eq!(count(&store, "execution"), 0);
        assert_eq!(count(&store, "rollup"), 0);
    }

    #[test]
    fn raw_rows_are_converted_as_the_sqlite_store_converts_them() {
        let (store, _db) = store();
        let mut x = execution(
            "a",
            "alpha",
            at(0),
            &Exec {
                duration_ms: 1.2345,
                cost_nanos: Some(1_500),
                effort: Some(tally_models::Effort::High),
                ..Exec::default()
            },
        );
        x.attrs.insert(
            "region".to_owned(),
            tally_models::AttrValue::Str("eu".to_owned()),
        );
        write(
            &store,
            &[
                x,
                run(
                    "r",
                    "alpha",
                    at(1),
                    2.0000004,
                    Some("auto"),
                    tally_models::QaStatus::NotRun,
                    &[("m1", 10, 2, Some(7)), ("m2", 1, 1, None)],
                ),
                session("s", "alpha", at(2), "ann", 1.5, 3, None, &["b", "a", "b"]),
            ],
        );
        let mut client = store.conn().expect("a connection");
        let row = client
            .query_one(
                "SELECT duration_us, cost_nusd, effort, attrs->>'region', input_tokens
                 FROM tally.execution",
                &[],
            )
            .expect("the execution");
        let found: (
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<i64>,
        ) = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        assert_eq!(
            found,
            (
                1235,
                Some(1_500),
                Some("high".into()),
                Some("eu".into()),
                Some(10)
            )
        );
        let row = client
            .query_one(
                "SELECT duration_us, qa_status, tokens, cost_nusd FROM tally.run",
                &[],
            )
            .expect("the run");
        let found: (i64, String, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
        assert_eq!(found, (2_000_000, "not_run".to_owned(), 14, 7));
        let models: Vec<(i32, String, Option<i64>)> = client
            .query(
                "SELECT ordinal, model, cost_nusd FROM tally.run_model ORDER BY ordinal",
                &[],
            )
            .expect("the run's models")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(
            models,
            vec![(0, "m1".to_owned(), Some(7)), (1, "m2".to_owned(), None)]
        );
        let topics: Vec<(i32, String)> = client
            .query(
                "SELECT ordinal, topic FROM tally.session_topic ORDER BY ordinal",
                &[],
            )
            .expect("the session's topics")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(topics, vec![(0, "b".to_owned()), (1, "a".to_owned())]);
    }

    #[test]
    fn job_states_and_learners_merge_across_writes() {
        let (store, _db) = store();
        write(
            &store,
            &[job("1", "alpha", at(100), "j", JobStatus::Completed)],
        );
        write(
            &store,
            &[
                job("2", "alpha", at(10), "j", JobStatus::Queued),
                job("3", "alpha", at(50), "j", JobStatus::Running),
                session("s1", "alpha", at(0), "ann", 60.0, 2, Some(0.95), &["rust"]),
            ],
        );
        write(
            &store,
            &[session(
                "s2",
                "alpha",
                at(60),
                "ann",
                30.0,
                1,
                Some(0.5),
                &["rust", "sql"],
            )],
        );
        let mut client = store.conn().expect("a connection");
        let row = client
            .query_one(
                "SELECT status, status_ts, queued_ts, running_ts, finished_ts FROM tally.job_state",
                &[],
            )
            .expect("the job");
        let ms = |s: i64| at(s).timestamp_millis();
        let found: (i16, i64, Option<i64>, Option<i64>, Option<i64>) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        assert_eq!(
            found,
            (
                i16::from(JobStatus::Completed.code()),
                ms(100),
                Some(ms(10)),
                Some(ms(50)),
                Some(ms(100))
            )
        );
        let row = client
            .query_one(
                "SELECT sessions, exchanges::text, duration_us::text, quality_sum, rated, excellent,
                        first_ts, last_ts
                 FROM tally.learner_activity",
                &[],
            )
            .expect("one quarter hour of ann");
        let found: (i64, String, String, f64, i64, i64, i64, i64) = (
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
            row.get(6),
            row.get(7),
        );
        assert_eq!(
            found,
            (2, "3".into(), "90000000".into(), 1.45, 2, 1, ms(0), ms(60))
        );
        let topics: Vec<(String, i64)> = client
            .query(
                "SELECT topic, sessions FROM tally.learner_topic_activity ORDER BY topic",
                &[],
            )
            .expect("topics")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(topics, vec![("rust".to_owned(), 2), ("sql".to_owned(), 1)]);
        let row = client
            .query_one("SELECT sessions, revision FROM tally.learner", &[])
            .expect("ann");
        let (sessions, revision): (i64, i64) = (row.get(0), row.get(1));
        assert_eq!((sessions, revision), (2, 2), "one revision per write");
    }

    #[test]
    fn a_repeated_reject_counts_on_its_entry_and_a_retry_resolves_it() {
        let (store, _db) = store();
        let reject = Rejection {
            source: "events.jsonl".to_owned(),
            position: Position::Line(3),
            format: RecordFormat::Json,
            header: None,
            record_id: Some("r1".to_owned()),
            field: "ts".to_owned(),
            rule: "required".to_owned(),
            message: "ts is missing".to_owned(),
            raw: b"{\"kind\":\"execution\"}".to_vec(),
        };
        let elsewhere = Rejection {
            position: Position::Index(3),
            ..reject.clone()
        };
        let again = Rejection {
            message: "ts is still missing".to_owned(),
            ..reject.clone()
        };
        for rejects in [vec![reject], vec![again, elsewhere]] {
            let outcome = store
                .write_batch(Batch {
                    rejects: &rejects,
                    ..Batch::default()
                })
                .expect("quarantined");
            assert_eq!(outcome.quarantined, rejects.len() as u64);
        }
        assert_eq!(store.quarantine_len().expect("len"), 2);
        let held = store.quarantined(0, 10).expect("read");
        assert_eq!(held[0].rejections, 2);
        assert_eq!(held[0].rejection.message, "ts is still missing");
        assert!(held[0].last_received_at >= held[0].received_at);
        assert_eq!(held[1].rejection.position, Position::Index(3));
        assert_eq!(held[1].rejections, 1);
        assert_eq!(
            store
                .quarantined(held[0].quarantine_id, 10)
                .expect("read")
                .len(),
            1
        );
        store
            .write_batch(Batch {
                events: &[execution("a", "alpha", at(0), &Exec::default())],
                resolved_quarantine: &[held[0].quarantine_id],
                ..Batch::default()
            })
            .expect("retried");
        let left = store.quarantined(0, 10).expect("read");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].quarantine_id, held[1].quarantine_id);
    }
}
