//! Many writers on one database: two stores (two pools, as two tally servers would
//! hold) and several threads each write overlapping batches at once, the same ids
//! resent through both stores. Every event is stored once, the outcomes add up exactly,
//! and the rollup, live-state, learner-summary and engagement rows equal those one
//! writer stores from the same events; the rollup sums equal the raw rows' own.

use std::thread;

use chrono::{DateTime, Duration, DurationRound, Utc};
use tally_models::{
    Action, Effort, Event, EventBody, EventId, JobStatus, QaStatus, Severity, SystemMetrics,
};
use tally_store::rollup::{ALL_PROJECTS, Family, Resolution};
use tally_store::{Batch, WriteOutcome};
use tally_store_contract::events::{
    Exec, agent_status, error, execution, job, outcome, request, run, session, skill,
};
use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};

const PROJECTS: [&str; 3] = ["alpha", "beta", "gamma"];
const EVENTS: usize = 3_000;
const THREADS: usize = 4;
const BATCH: usize = 150;

/// Events of every kind: some within the last day (the minute tier), agent snapshots
/// at distinct instants and qualities in eighths, so that no tie or float rounding
/// makes the arrival order matter.
/// The minute tier keeps the last 24 hours by the wall clock of each write, so an event
/// near that edge would count there or not depending on when its writer ran: the
/// concurrent writers and the reference run at different times. Events are kept
/// 15 minutes or more from the edge.
fn clear_of_the_minute_tier_edge(ts: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let edge = now - Duration::hours(24);
    if (ts - edge).num_minutes().abs() < 15 {
        ts - Duration::minutes(30)
    } else {
        ts
    }
}

fn events(now: DateTime<Utc>) -> Vec<Event> {
    (0..EVENTS)
        .map(|i| {
            let project = PROJECTS[i % 3];
            let ts = if i % 4 == 0 {
                now - Duration::seconds(i as i64 * 7)
            } else {
                now - Duration::days(20) + Duration::seconds(i as i64 * 613)
            };
            let ts = clear_of_the_minute_tier_edge(ts, now);
            let id = format!("e{i}");
            let mut event = match i % 11 {
                0..=2 => execution(
                    &id,
                    project,
                    ts,
                    &Exec {
                        tool: format!("tool{}", i % 5),
                        model: (i % 7 != 0).then(|| format!("model{}", i % 3)),
                        agent: (i % 2 == 0).then(|| format!("agent{}", i % 4)),
                        user: (i % 3 == 0).then(|| format!("user{}", i % 6)),
                        duration_ms: (i % 97) as f64 * 1.25,
                        success: i % 5 != 0,
                        input: (i * 13) as u64,
                        output: (i * 7) as u64,
                        cost_nanos: (i % 4 != 0).then_some(i as i64 * 1_000),
                        effort: [None, Some(Effort::Low), Some(Effort::High)][i % 3],
                        browser_used: i % 6 == 0,
                        error: (i % 5 == 0).then(|| format!("class{}", i % 2)),
                    },
                ),
                3 => run(
                    &id,
                    project,
                    ts,
                    (i % 50) as f64 * 0.5,
                    [None, Some("auto"), Some("manual")][i % 3],
                    [QaStatus::Passed, QaStatus::Failed, QaStatus::NotRun][i % 3],
                    &[("model1", 100, 20, Some(5_000)), ("model2", 3, 4, None)],
                ),
                4 => job(
                    &id,
                    project,
                    ts,
                    &format!("job{}", i % 40),
                    [
                        JobStatus::Queued,
                        JobStatus::Running,
                        JobStatus::Completed,
                        JobStatus::Failed,
                    ][i % 4],
                ),
                5 => session(
                    &id,
                    project,
                    ts,
                    &format!("user{}", i % 6),
                    (i % 30) as f64 * 60.0,
                    (i % 9) as u64,
                    (i % 3 != 0).then_some((i % 8) as f64 / 8.0),
                    &["rust", "sql", "rust"][..1 + i % 3],
                ),
                6 => skill(
                    &id,
                    project,
                    ts,
                    &format!("user{}", i % 6),
                    "borrowck",
                    i % 2 == 0,
                    None,
                ),
                7 => outcome(
                    &id,
                    project,
                    ts,
                    "exp",
                    &format!("user{}", i % 6),
                    ["a", "b"][i % 2],
                    &[("converted", (i % 2) as f64, true), ("spend", 2.5, false)],
                ),
                8 => agent_status(
                    &id,
                    project,
                    ts,
                    &format!("agent{}", i % 4),
                    (i % 5) as u64,
                    (i % 3) as u64,
                    8,
                ),
                9 => request(
                    &id,
                    project,
                    ts,
                    ["/a", "/b"][i % 2],
                    [200, 404, 503][i % 3],
                    (i % 40) as f64 * 0.5,
                    (i % 2 == 0).then(|| format!("user{}", i % 6)).as_deref(),
                ),
                _ => match i % 3 {
                    0 => error(
                        &id,
                        project,
                        ts,
                        [Severity::Info, Severity::Critical][i % 2],
                    ),
                    1 => {
                        let mut e = error(&id, project, ts, Severity::Warning);
                        e.body = EventBody::Action(Action {
                            user_id: format!("user{}", i % 6),
                            action: "click".to_owned(),
                            session_id: None,
                        });
                        e
                    }
                    _ => {
                        let mut e = error(&id, project, ts, Severity::Warning);
                        e.body = EventBody::System(SystemMetrics {
                            host: "db1".to_owned(),
                            cpu_pct: Some(12.5),
                            mem_pct: None,
                            disk_pct: Some(40.0),
                            load1: None,
                        });
                        e
                    }
                },
            };
            if i % 10 == 9 {
                event.id = Some(EventId::Derived(i as u128 * 0x9e37_79b9_7f4a_7c15));
            }
            event
        })
        .collect()
}

/// The events thread `t` sends: an overlapping window of them, with some resent.
fn window(events: &[Event], t: usize) -> Vec<Event> {
    let share = EVENTS / THREADS;
    let from = (t * share).saturating_sub(share / 2);
    let to = ((t + 1) * share + share / 2).min(EVENTS);
    let mut sent: Vec<Event> = events[from..to].to_vec();
    // Every thread also resends the first events, which all threads send.
    sent.extend_from_slice(&events[..40]);
    sent
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect to the test database")
}

/// Each row of `sql`'s one text column, sorted.
fn rows(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    let mut rows: Vec<String> = client
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.get(0))
        .collect();
    rows.sort();
    rows
}

/// What the database holds, table by table, the write-order numbers (which depend on
/// the interleaving) left out: raw rows by their ledger id.
fn contents(url: &str) -> Vec<(String, Vec<String>)> {
    let mut client = client(url);
    let mut tables = Vec::new();
    for table in [
        "execution",
        "run",
        "job",
        "session",
        "skill",
        "outcome",
        "agent_status",
        "request",
        "action",
        "system",
        "error",
    ] {
        let sql = format!(
            "SELECT l.project || '/' || l.id || '/' || l.derived || ' ' || (to_jsonb(t) - 'seq')::text
             FROM tally.{table} t JOIN tally.ledger l ON l.seq = t.seq"
        );
        tables.push((table.to_owned(), rows(&mut client, &sql)));
    }
    for (child, parent_seq) in [
        ("run_model", "run_seq"),
        ("session_topic", "session_seq"),
        ("outcome_metric", "outcome_seq"),
    ] {
        let sql = format!(
            "SELECT l.project || '/' || l.id || ' ' || (to_jsonb(c) - '{parent_seq}')::text
             FROM tally.{child} c JOIN tally.ledger l ON l.seq = c.{parent_seq}"
        );
        tables.push((child.to_owned(), rows(&mut client, &sql)));
    }
    for table in [
        "rollup",
        "job_state",
        "agent_state",
        "agent_load",
        "rollup_minute",
        "recent_user",
        "learner_activity",
        "learner_topic_activity",
        "learner",
        "engagement_user",
        "engagement_day",
        "engagement_session",
    ] {
        let sql = format!("SELECT (to_jsonb(t) - 'seq' - 'revision')::text FROM tally.{table} t");
        tables.push((table.to_owned(), rows(&mut client, &sql)));
    }
    tables
}

#[test]
fn two_servers_writing_the_same_events_at_once_store_what_one_writer_stores() {
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    let events = events(now);
    let database = TestDatabase::create();
    let options = PostgresOptions {
        connections: 4,
        ..PostgresOptions::default()
    };
    let servers = [
        PostgresStore::open(database.url(), options.clone()).expect("open the first store"),
        PostgresStore::open(database.url(), options.clone()).expect("open the second store"),
    ];
    let windows: Vec<Vec<Event>> = (0..THREADS).map(|t| window(&events, t)).collect();
    let outcomes: Vec<WriteOutcome> = thread::scope(|scope| {
        let writers: Vec<_> = windows
            .iter()
            .enumerate()
            .map(|(t, sent)| {
                let store = &servers[t % 2];
                scope.spawn(move || {
                    let mut total = WriteOutcome::default();
                    for (n, chunk) in sent.chunks(BATCH).enumerate() {
                        if n % 3 == 0 {
                            // Two batches in one call, the second resending part of the first.
                            let resent = &chunk[..chunk.len().min(10)];
                            let written = store
                                .write_batches(&[
                                    Batch {
                                        events: chunk,
                                        ..Batch::default()
                                    },
                                    Batch {
                                        events: resent,
                                        ..Batch::default()
                                    },
                                ])
                                .expect("the batches are written");
                            assert_eq!(written[1].accepted, 0, "resent within one call");
                            written.into_iter().for_each(|o| total += o);
                        } else {
                            total += store
                                .write_batch(Batch {
                                    events: chunk,
                                    ..Batch::default()
                                })
                                .expect("the batch is written");
                        }
                    }
                    total
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|w| w.join().expect("a writer thread"))
            .collect()
    });
    let mut total = WriteOutcome::default();
    outcomes.into_iter().for_each(|o| total += o);
    let sent: u64 = windows.iter().map(|w| w.len() as u64).sum::<u64>()
        + windows
            .iter()
            .map(|w| {
                w.chunks(BATCH)
                    .step_by(3)
                    .map(|c| c.len().min(10) as u64)
                    .sum::<u64>()
            })
            .sum::<u64>();
    assert_eq!(total.accepted, EVENTS as u64, "every event stored once");
    assert_eq!(
        total.duplicates,
        sent - EVENTS as u64,
        "the rest are duplicates"
    );
    assert_eq!(servers[0].integrity_check().expect("checked"), "ok");

    // One writer, the same events, in one batch, on a database given the same
    // dictionary codes (the facets keep codes).
    let reference = TestDatabase::create();
    let single = PostgresStore::open(reference.url(), options).expect("open the reference");
    let dict = rows(
        &mut client(database.url()),
        "SELECT dim || E'\\t' || code || E'\\t' || value FROM tally.dict",
    );
    let mut seed = client(reference.url());
    for entry in &dict {
        let mut parts = entry.splitn(3, '\t');
        let (dim, code, value) = (
            parts
                .next()
                .unwrap_or_default()
                .parse::<i16>()
                .expect("dim"),
            parts
                .next()
                .unwrap_or_default()
                .parse::<i64>()
                .expect("code"),
            parts.next().unwrap_or_default(),
        );
        seed.execute(
            "INSERT INTO tally.dict (dim, code, value) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)",
            &[&dim, &code, &value],
        )
        .expect("seed the dictionary");
    }
    let written = single
        .write_batch(Batch {
            events: &events,
            ..Batch::default()
        })
        .expect("the reference is written");
    assert_eq!(written.accepted, EVENTS as u64);
    for ((table, concurrent), (_, one_writer)) in contents(database.url())
        .into_iter()
        .zip(contents(reference.url()))
    {
        assert!(!one_writer.is_empty(), "{table} holds rows");
        assert_eq!(concurrent.len(), one_writer.len(), "rows of {table}");
        assert_eq!(concurrent, one_writer, "{table}");
    }

    // The rollups against the raw rows: per kind, and the executions' sums.
    let mut db = client(database.url());
    let per_kind = db
        .query(
            "SELECT key, sum(n)::bigint FROM tally.rollup
             WHERE family = $1 AND resolution = $2 AND project = $3 GROUP BY key ORDER BY key",
            &[
                &i16::from(Family::Events.code()),
                &(Resolution::Month as i16),
                &ALL_PROJECTS,
            ],
        )
        .expect("events per kind");
    for row in per_kind {
        let kind: i64 = row.get(0);
        let table = tally_models::Kind::from_code(kind as u8)
            .expect("a kind")
            .as_str();
        let counted: i64 = row.get(1);
        let stored: i64 = db
            .query_one(&format!("SELECT count(*) FROM tally.{table}"), &[])
            .expect("raw count")
            .get(0);
        assert_eq!(counted, stored, "{table} events");
    }
    let mut sums = |sql: &str| -> String { db.query_one(sql, &[]).expect(sql).get(0) };
    let rolled = sums(&format!(
        "SELECT sum(n) || ' ' || sum(ok) || ' ' || sum(input_tokens) || ' ' || sum(output_tokens)
                || ' ' || sum(cost_nusd) || ' ' || sum(duration_us)
         FROM tally.rollup WHERE family = {} AND resolution = {} AND project = 0",
        Family::Executions.code(),
        Resolution::Month as u8
    ));
    let raw = sums(
        "SELECT count(*) || ' ' || count(*) FILTER (WHERE success) || ' ' || sum(input_tokens)
                || ' ' || sum(output_tokens) || ' ' || coalesce(sum(cost_nusd), 0) || ' '
                || sum(duration_us)
         FROM tally.execution",
    );
    assert_eq!(rolled, raw, "executions: rollup against raw rows");
}
