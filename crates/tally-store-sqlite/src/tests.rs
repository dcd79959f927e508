//! The adapter against a real SQLite file: idempotency, atomicity, quarantine.

use chrono::{TimeZone, Utc};
use tally_models::{CostSource, Event, EventBody, EventId, Execution, TokenUsage, Usd};

use super::{SqliteOptions, SqliteStore};
use crate::{Batch, Filter, Position, RecordFormat, Rejection};

fn execution(id: &str, project: &str, cost: f64) -> Event {
    Event {
        id: Some(EventId::Given(id.into())),
        ts: Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap(),
        project: project.into(),
        attrs: Default::default(),
        body: EventBody::Execution(Execution {
            tool: "web_search".into(),
            duration_ms: 1.5,
            success: true,
            agent_id: None,
            task_id: None,
            user_id: None,
            session_id: None,
            model: Some("gpt-4o".into()),
            tokens: TokenUsage {
                input_tokens: Some(10),
                output_tokens: Some(5),
                ..Default::default()
            },
            cost_usd: Some(Usd(cost)),
            cost_source: CostSource::Reported,
            effort: None,
            browser_used: false,
            error: None,
        }),
    }
}

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("t.db"), SqliteOptions::default()).unwrap();
    (dir, store)
}

#[test]
fn ids_are_idempotent_per_project() {
    let (_dir, store) = open();
    let events = [
        execution("a", "p1", 0.5),
        execution("a", "p1", 0.5),
        execution("a", "p2", 0.25),
    ];
    let outcome = store
        .write_batch(Batch {
            events: &events,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (2, 1));
    let again = store
        .write_batch(Batch {
            events: &events,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 3));
    let totals = store.totals(&Filter::default()).unwrap();
    assert_eq!(
        (
            totals.executions.count,
            totals.executions.tokens,
            totals.executions.cost_nanos
        ),
        (2, 30, 750_000_000)
    );
    let p2 = store
        .totals(&Filter {
            project: Some("p2".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(p2.executions.count, 1);
    let none = store
        .totals(&Filter {
            project: Some("nope".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(none.executions.count, 0);
}

#[test]
fn quarantine_keeps_raw_bytes_and_retry_resolves_atomically() {
    let (_dir, store) = open();
    let reject = Rejection {
        source: "in.jsonl".into(),
        position: Position::Line(3),
        format: RecordFormat::Json,
        header: None,
        record_id: Some("x".into()),
        field: "duration_ms".into(),
        rule: "out_of_range".into(),
        message: "must be a number >= 0, got -3".into(),
        raw: vec![0xff, b'{', 0xfe],
    };
    store
        .write_batch(Batch {
            rejects: std::slice::from_ref(&reject),
            ..Default::default()
        })
        .unwrap();
    let listed = store.quarantined(0, 10).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].rejection, reject);
    assert_eq!(listed[0].rejections, 1);
    let fixed = [execution("x", "p", 0.1)];
    store
        .write_batch(Batch {
            events: &fixed,
            resolved_quarantine: &[listed[0].quarantine_id],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(store.quarantine_len().unwrap(), 0);
    assert_eq!(store.stats().unwrap().events, 1);
}

#[test]
fn a_rejection_sent_again_is_counted_on_its_quarantine_entry() {
    let (_dir, store) = open();
    let reject = Rejection {
        source: "in.csv".into(),
        position: Position::Line(7),
        format: RecordFormat::Csv,
        header: Some("kind,ts".into()),
        record_id: None,
        field: "ts".into(),
        rule: "future".into(),
        message: "is 2 days ahead".into(),
        raw: b"execution,2031-01-01".to_vec(),
    };
    let resent = Rejection {
        message: "is 1 day ahead".into(),
        ..reject.clone()
    };
    // Each differs from `reject` in one part of what makes a rejection the same.
    let others = [
        Rejection {
            source: "other.csv".into(),
            ..reject.clone()
        },
        Rejection {
            position: Position::Line(8),
            ..reject.clone()
        },
        Rejection {
            position: Position::Index(7),
            ..reject.clone()
        },
        Rejection {
            format: RecordFormat::Json,
            ..reject.clone()
        },
        Rejection {
            header: Some("kind,ts,project".into()),
            ..reject.clone()
        },
        Rejection {
            header: None,
            ..reject.clone()
        },
        Rejection {
            field: "project".into(),
            ..reject.clone()
        },
        Rejection {
            rule: "out_of_range".into(),
            ..reject.clone()
        },
        Rejection {
            raw: b"execution,2031-01-02".to_vec(),
            ..reject.clone()
        },
    ];
    let write = |rejects: &[Rejection]| {
        store
            .write_batch(Batch {
                rejects,
                ..Default::default()
            })
            .unwrap()
    };
    write(std::slice::from_ref(&reject));
    let outcome = write(&[resent.clone(), resent.clone()]);
    assert_eq!(outcome.quarantined, 2, "repeats are counted as rejected");
    write(&others);

    let listed = store.quarantined(0, 100).unwrap();
    assert_eq!(store.quarantine_len().unwrap(), 1 + others.len() as u64);
    assert_eq!(listed[0].rejections, 3);
    assert_eq!(listed[0].rejection, resent, "the latest message is kept");
    assert!(listed[0].last_received_at >= listed[0].received_at);
    let stored: Vec<_> = listed[1..].iter().map(|q| q.rejection.clone()).collect();
    assert_eq!(stored, others);
    assert!(listed[1..].iter().all(|q| q.rejections == 1));
}

#[test]
fn the_quarantine_migration_puts_repeated_entries_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    super::schema::migrate_to(&mut conn, "t.db", 10).unwrap();
    // (received_at, line, raw): line 4 stored three times, line 5 twice with other
    // bytes the second time, line 6 once.
    let old_rows = [
        (1_000, 4, "a"),
        (2_000, 5, "b"),
        (3_000, 4, "a"),
        (4_000, 5, "c"),
        (5_000, 6, "d"),
        (6_000, 4, "a"),
    ];
    for (received_at, line, raw) in old_rows {
        conn.execute(
            "INSERT INTO quarantine (received_at, source, position_kind, position, format, header,
                record_id, field, rule, message, raw)
             VALUES (?1, 'in.jsonl', 'line', ?2, 'json', NULL, NULL, 'ts', 'missing', 'is required', ?3)",
            rusqlite::params![received_at, line, raw.as_bytes()],
        )
        .unwrap();
    }
    drop(conn);

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let listed: Vec<_> = store
        .quarantined(0, 100)
        .unwrap()
        .into_iter()
        .map(|q| {
            (
                q.quarantine_id,
                q.received_at.timestamp_millis(),
                q.last_received_at.timestamp_millis(),
                q.rejections,
                q.rejection.raw,
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (1, 1_000, 6_000, 3, b"a".to_vec()),
            (2, 2_000, 2_000, 1, b"b".to_vec()),
            (4, 4_000, 4_000, 1, b"c".to_vec()),
            (5, 5_000, 5_000, 1, b"d".to_vec()),
        ]
    );
}

fn session(id: &str, user: &str, minute: u32, topics: &[&str]) -> Event {
    Event {
        id: Some(EventId::Given(id.into())),
        ts: Utc.with_ymd_and_hms(2026, 10, 1, 12, minute, 0).unwrap(),
        project: "p1".into(),
        attrs: Default::default(),
        body: EventBody::Session(tally_models::Session {
            user_id: user.to_owned(),
            duration_s: 60.0,
            exchanges: 4,
            quality: Some(0.5),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            quality_breakdown: Default::default(),
        }),
    }
}

#[test]
fn learning_reads_one_users_sessions_with_topics_and_settings() {
    let (_dir, store) = open();
    let events = [
        session("s2", "ana", 2, &["rust", "algebra"]),
        session("s1", "ana", 1, &[]),
        session("s3", "bo", 3, &["rust"]),
    ];
    store
        .write_batch(Batch {
            events: &events,
            ..Default::default()
        })
        .unwrap();
    let sessions = store.learning_sessions("ana", None, None).unwrap();
    let shape: Vec<(u32, Vec<String>, i64)> = sessions
        .iter()
        .map(|s| {
            use chrono::Timelike;
            (s.ts.minute(), s.topics.clone(), s.duration_us)
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (1, vec![], 60_000_000),
            (2, vec!["algebra".to_owned(), "rust".to_owned()], 60_000_000)
        ]
    );
    let until = Utc.with_ymd_and_hms(2026, 10, 1, 12, 1, 30).unwrap();
    assert_eq!(
        store
            .learning_sessions("ana", None, Some(until))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .learning_sessions("ana", Some("p2"), None)
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store.learning_sessions("nobody", None, None).unwrap().len(),
        0
    );
    assert_eq!(store.learners(None).unwrap(), vec!["ana", "bo"]);
    assert_eq!(store.learner_time_zone("ana").unwrap(), None);
    store.set_learner_time_zone("ana", "Europe/Berlin").unwrap();
    store.set_learner_time_zone("ana", "Asia/Tokyo").unwrap();
    assert_eq!(
        store.learner_time_zone("ana").unwrap().as_deref(),
        Some("Asia/Tokyo")
    );
}

#[test]
fn the_learner_summary_counts_each_session_once_and_outlives_raw_rows() {
    let (_dir, store) = open();
    // Minutes 1 and 2 share a 15-minute bucket; s2 comes twice in one batch and again
    // in the next; minute 20 is a bucket of its own.
    let first = [
        session("s1", "ana", 1, &["rust"]),
        session("s2", "ana", 2, &["rust", "sql"]),
        session("s2", "ana", 2, &["rust", "sql"]),
    ];
    let second = [
        session("s2", "ana", 2, &["rust", "sql"]),
        session("s3", "ana", 20, &[]),
    ];
    for events in [&first[..], &second[..]] {
        store
            .write_batch(Batch {
                events,
                ..Default::default()
            })
            .unwrap();
    }
    let exact = store.learner_activity("ana", None, None).unwrap();
    assert_eq!(
        exact.len(),
        3,
        "one activity per session while raw rows are kept"
    );
    // Retention removes every raw row; the summary answers with the same sums.
    store
        .delete_expired(
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        )
        .unwrap();
    assert!(
        store
            .learning_sessions("ana", None, None)
            .unwrap()
            .is_empty()
    );
    let kept = store.learner_activity("ana", None, None).unwrap();
    type Shape = (u64, u128, f64, Vec<(String, u64)>);
    let shape: Vec<Shape> = kept
        .iter()
        .map(|a| {
            (
                a.sessions,
                a.exchanges,
                a.quality_sum,
                a.topics
                    .iter()
                    .map(|t| (t.topic.clone(), t.sessions))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (
                2,
                8,
                1.0,
                vec![("rust".to_owned(), 2), ("sql".to_owned(), 1)]
            ),
            (1, 4, 0.5, vec![]),
        ]
    );
    assert_eq!(kept[0].first.timestamp() % 3600, 60);
    assert_eq!(kept[0].last.timestamp() % 3600, 120);
    assert_eq!(store.learners(None).unwrap(), vec!["ana"]);
    assert_eq!(store.learners(Some("p1")).unwrap(), vec!["ana"]);
    assert!(store.learners(Some("p2")).unwrap().is_empty());
    // A time zone change raises the learner's revision.
    let (_, before) = store.learner_revisions(0).unwrap()[0].clone();
    store.set_learner_time_zone("ana", "Asia/Tokyo").unwrap();
    let after = store.learner_revisions(before).unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].1 > before);
}

#[test]
fn the_ledger_migration_keeps_every_entry_and_keys_by_id_first() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    super::schema::migrate_to(&mut conn, ":memory:", 8).unwrap();
    let derived = 7u128.to_be_bytes().to_vec();
    let entries: Vec<(rusqlite::types::Value, i64, i64)> = vec![
        ("b".to_owned().into(), 1, 1),
        ("a".to_owned().into(), 2, 2),
        // One id in two projects: two entries.
        ("a".to_owned().into(), 1, 3),
        (derived.clone().into(), 1, 4),
    ];
    for (id, project, seq) in &entries {
        conn.execute(
            "INSERT INTO event_ids (project, id, seq) VALUES (?1, ?2, ?3)",
            rusqlite::params![project, id, seq],
        )
        .unwrap();
    }
    super::schema::migrate(&mut conn, ":memory:").unwrap();
    let stored: Vec<(rusqlite::types::Value, i64, i64)> = conn
        .prepare("SELECT id, project, seq FROM event_ids")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    // In key order: TEXT before BLOB, then by id, then by project.
    assert_eq!(
        stored,
        vec![
            ("a".to_owned().into(), 1, 3),
            ("a".to_owned().into(), 2, 2),
            ("b".to_owned().into(), 1, 1),
            (derived.into(), 1, 4),
        ]
    );
    let again = conn
        .execute(
            "INSERT INTO event_ids (project, id, seq) VALUES (2, 'a', 9) ON CONFLICT DO NOTHING",
            [],
        )
        .unwrap();
    assert_eq!(again, 0, "the key still makes (project, id) unique");
}

#[test]
fn ledger_groups_with_duplicates_keep_seq_gapless_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    // 70 events: two full ledger groups and a tail, all new.
    let first: Vec<Event> = (0..70)
        .map(|i| execution(&format!("e{i}"), "p", 0.0))
        .collect();
    let outcome = store
        .write_batch(Batch {
            events: &first,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (70, 0));
    // A second batch mixing stored ids, an id given twice within one group, and new
    // ids, so that groups take the lookup-and-renumber path.
    let mut second: Vec<Event> = (0..80)
        .map(|i| execution(&format!("n{i}"), "p", 0.0))
        .collect();
    second[3] = execution("e5", "p", 0.0);
    second[10] = execution("e69", "p", 0.0);
    second[20] = execution("n2", "p", 0.0);
    second[40] = execution("e0", "p", 0.0);
    let derived = Event {
        id: Some(EventId::Derived(42)),
        ..execution("x", "p", 0.0)
    };
    second[50] = derived.clone();
    second[51] = derived;
    let outcome = store
        .write_batch(Batch {
            events: &second,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (75, 5));
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let ledger: Vec<(rusqlite::types::Value, i64)> = conn
        .prepare("SELECT id, seq FROM event_ids ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let seqs: Vec<i64> = ledger.iter().map(|(_, seq)| *seq).collect();
    let first_seq = seqs[0];
    assert_eq!(seqs, (first_seq..first_seq + 145).collect::<Vec<_>>());
    // New ids are numbered in the order they arrived, skipping the duplicates.
    let expected: Vec<rusqlite::types::Value> = (0..70)
        .map(|i| format!("e{i}").into())
        .chain(
            second
                .iter()
                .enumerate()
                .filter(|(i, _)| ![3, 10, 20, 40, 51].contains(i))
                .map(|(_, event)| match event.id.as_ref().unwrap() {
                    EventId::Given(id) => id.to_string().into(),
                    EventId::Derived(hash) => hash.to_be_bytes().to_vec().into(),
                }),
        )
        .collect();
    let ids: Vec<rusqlite::types::Value> = ledger.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, expected);
}

#[test]
fn the_rollup_migration_puts_each_periods_keys_in_one_row() {
    use crate::rollup::{Facet, Family, Measures, ProjectScope, Resolution, RollupQuery};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    super::schema::migrate_to(&mut conn, "t.db", 9).unwrap();
    let measures = |seed: u64| {
        let mut m = Measures {
            n: seed,
            ok: seed - 1,
            input_tokens: u128::from(seed) * 10,
            output_tokens: u128::from(seed) * 20,
            cost_nusd: i128::from(seed) * 1_000,
            computed_cost_nusd: 7,
            duration_us: i128::from(seed) * 300,
            last_ts: 1_790_000_000_000 + seed as i64,
            ..Measures::default()
        };
        m.latency.add(seed as f64 * 12.5);
        m.facets.add(Facet::Model, 3, seed % 2 == 0);
        m
    };
    let day = 1_790_035_200;
    // Two tools' rows of one day, stored out of key order, and one tool of the next.
    let old_rows = [
        (day, 9, measures(5)),
        (day, 4, measures(2)),
        (day + 86_400, 4, measures(3)),
    ];
    for (bucket, key, m) in &old_rows {
        conn.execute(
            "INSERT INTO rollup (family, resolution, project, bucket, key, n, ok, input_tokens,
                output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nusd,
                computed_cost_nusd, duration_us, last_ts, latency, facets)
             VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, 0, ?9, ?10, ?11, ?12, ?13, ?14)",
            rusqlite::params![
                Family::ExecutionsByTool.code(),
                Resolution::Day as u8,
                bucket,
                key,
                m.n as i64,
                m.ok as i64,
                m.input_tokens as i64,
                m.output_tokens as i64,
                m.cost_nusd as i64,
                m.computed_cost_nusd as i64,
                m.duration_us as i64,
                m.last_ts,
                m.latency.encode(),
                m.facets.encode(),
            ],
        )
        .unwrap();
    }
    drop(conn);

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let rows = store
        .rollups(&RollupQuery {
            family: Family::ExecutionsByTool,
            projects: ProjectScope::All,
            from: None,
            to: None,
            by: Some(Resolution::Day),
        })
        .unwrap();
    let read: Vec<(i64, i64, Measures)> = rows
        .into_iter()
        .map(|row| (row.bucket, row.key, row.measures))
        .collect();
    let [first, second, third] = old_rows;
    assert_eq!(read, vec![second, first, third]);
    let periods: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM rollup", [], |r| r.get(0))
        .unwrap();
    assert_eq!(periods, 2);
}

#[test]
fn experiments_and_goals_made_before_projects_owned_them_become_global() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    super::schema::migrate_to(&mut conn, "t.db", 11).unwrap();
    conn.execute_batch(
        "INSERT INTO experiment (key, seed, variants, coverage, guardrails, lower_is_better, created_at)
         VALUES ('old', 'old', '[[\"a\",0.5],[\"b\",0.5]]', 1.0, '[]', '[]', 1000);
         INSERT INTO learning_goal (user, kind, target, title, created_at, state)
         VALUES ('ana', 'sessions', 3.0, 'three', 1000, 'active');",
    )
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let old = crate::ExperimentStore::experiment(&store, None, "old")
        .unwrap()
        .unwrap();
    assert_eq!((old.key.as_str(), old.project.as_deref()), ("old", None));
    let goals = crate::LearningReader::goals(&store, "ana").unwrap();
    assert_eq!(goals.len(), 1);
    assert_eq!(
        (goals[0].title.as_str(), goals[0].project.as_deref()),
        ("three", None)
    );
    // New ones keep the project they are given.
    let mut owned = old.clone();
    owned.key = "owned".into();
    owned.project = Some("alpha".into());
    assert!(crate::ExperimentStore::create_experiment(&store, &owned).unwrap());
    let read = crate::ExperimentStore::experiment(&store, Some("alpha"), "owned")
        .unwrap()
        .unwrap();
    assert_eq!(read.project.as_deref(), Some("alpha"));
    // A key is unique within its project only: another project (or the global ones)
    // may use it, and stopping one leaves the others running.
    let mut elsewhere = owned.clone();
    elsewhere.project = Some("beta".into());
    assert!(crate::ExperimentStore::create_experiment(&store, &elsewhere).unwrap());
    assert!(!crate::ExperimentStore::create_experiment(&store, &elsewhere).unwrap());
    let mut global = owned.clone();
    global.project = None;
    assert!(crate::ExperimentStore::create_experiment(&store, &global).unwrap());
    assert!(!crate::ExperimentStore::create_experiment(&store, &global).unwrap());
    let at = Utc.with_ymd_and_hms(2026, 10, 2, 0, 0, 0).unwrap();
    assert!(crate::ExperimentStore::stop_experiment(&store, Some("beta"), "owned", at).unwrap());
    let stopped = |project| {
        crate::ExperimentStore::experiment(&store, project, "owned")
            .unwrap()
            .unwrap()
            .stopped_at
    };
    assert_eq!(
        (stopped(Some("alpha")), stopped(Some("beta")), stopped(None)),
        (None, Some(at), None)
    );
    let mut goal = goals[0].clone();
    goal.project = Some("beta".into());
    let id = crate::LearningWriter::create_goal(&store, &goal).unwrap();
    let goals = crate::LearningReader::goals(&store, "ana").unwrap();
    let stored = goals.iter().find(|g| g.id == id).unwrap();
    assert_eq!(stored.project.as_deref(), Some("beta"));
}
