//! The memory store and the SQLite store answer alike, row for row: the same random
//! events written to both, every rollup row (keys, codes, sketches and facets
//! included), every state table, the minute tier, the learner summary and the export
//! compared as the two return them.

use chrono::{Duration, DurationRound, Utc};
use proptest::test_runner::{Config, TestRunner};
use tally_models::{Event, EventBody};
use tally_store::rollup::{Family, ProjectScope, Resolution, RollupQuery, RollupRow};
use tally_store::{Batch, Filter, Store};
use tally_store_contract::checks::events_of_every_rolled_up_kind;
use tally_store_contract::events::at;
use tally_store_memory::MemoryStore;
use tally_store_sqlite::{SqliteOptions, SqliteStore};

/// Rows in a stable order: SQLite returns each segment's rows by its index.
fn sorted(mut rows: Vec<RollupRow>) -> Vec<RollupRow> {
    rows.sort_by(|a, b| {
        (&a.project, a.resolution, a.bucket, a.key).cmp(&(
            &b.project,
            b.resolution,
            b.bucket,
            b.key,
        ))
    });
    rows
}

fn exported(store: &dyn Store) -> Vec<Event> {
    let mut out = Vec::new();
    store
        .export_events(&Filter::default(), &mut |event| {
            out.push(event);
            Ok(())
        })
        .unwrap();
    out
}

fn compare(memory: &dyn Store, sqlite: &dyn Store, events: &[Event], now: chrono::DateTime<Utc>) {
    let ranges = [
        (None, None),
        (Some(at(20 * 3600 + 17 * 60)), Some(at(70 * 3600 + 5 * 60))),
    ];
    let mut scopes = vec![ProjectScope::All, ProjectScope::Each];
    scopes.extend(["alpha", "beta", "gamma"].map(ProjectScope::One));
    for family in Family::ALL {
        for &projects in &scopes {
            for (from, to) in ranges {
                for by in [None, Some(Resolution::Day), Some(Resolution::Hour)] {
                    let query = RollupQuery {
                        family,
                        projects,
                        from,
                        to,
                        by,
                    };
                    assert_eq!(
                        sorted(memory.rollups(&query).unwrap()),
                        sorted(sqlite.rollups(&query).unwrap()),
                        "{query:?}"
                    );
                }
            }
        }
    }
    let mut classes = (
        memory.error_classes().unwrap(),
        sqlite.error_classes().unwrap(),
    );
    classes.0.sort();
    classes.1.sort();
    assert_eq!(classes.0, classes.1);
    for filter in [
        Filter::default(),
        Filter {
            project: Some("beta".to_owned()),
            from: Some(at(3600)),
            to: Some(at(50 * 3600)),
        },
    ] {
        assert_eq!(
            memory.totals(&filter).unwrap(),
            sqlite.totals(&filter).unwrap()
        );
        let mut jobs = (
            memory.job_states(&filter).unwrap(),
            sqlite.job_states(&filter).unwrap(),
        );
        jobs.0
            .sort_by(|a, b| (&a.project, &a.job_id).cmp(&(&b.project, &b.job_id)));
        jobs.1
            .sort_by(|a, b| (&a.project, &a.job_id).cmp(&(&b.project, &b.job_id)));
        assert_eq!(jobs.0, jobs.1);
        assert_eq!(
            memory.agent_load(&filter).unwrap(),
            sqlite.agent_load(&filter).unwrap()
        );
    }
    for project in [None, Some("alpha")] {
        assert_eq!(
            memory.agent_states(project).unwrap(),
            sqlite.agent_states(project).unwrap()
        );
        let since = now - Duration::hours(3);
        let mut minutes = (
            memory.minutes(project, since).unwrap(),
            sqlite.minutes(project, since).unwrap(),
        );
        minutes.0.sort_by_key(|m| (m.minute, m.kind));
        minutes.1.sort_by_key(|m| (m.minute, m.kind));
        assert_eq!(minutes.0.len(), minutes.1.len());
        for (m, s) in minutes.0.iter().zip(&minutes.1) {
            assert_eq!(
                (m.minute, m.kind, m.n, m.errors),
                (s.minute, s.kind, s.n, s.errors)
            );
            assert_eq!(m.latency, s.latency);
        }
        assert_eq!(
            memory.active_users(project, since).unwrap(),
            sqlite.active_users(project, since).unwrap()
        );
        assert_eq!(
            memory.learners(project).unwrap(),
            sqlite.learners(project).unwrap()
        );
    }
    let users: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Session(s) => Some(s.user_id.as_str()),
            _ => None,
        })
        .collect();
    for user in users {
        assert_eq!(
            memory.learner_activity(user, None, None).unwrap(),
            sqlite.learner_activity(user, None, None).unwrap()
        );
    }
    let summaries = (
        memory.all_learner_activity(None, None).unwrap(),
        sqlite.all_learner_activity(None, None).unwrap(),
    );
    assert_eq!(summaries.0.len(), summaries.1.len());
    for ((mu, ma), (su, sa)) in summaries.0.iter().zip(&summaries.1) {
        assert_eq!(mu, su);
        assert_eq!(ma.len(), sa.len());
        for (m, s) in ma.iter().zip(sa) {
            assert_eq!(
                (m.first, m.last, m.sessions, m.exchanges, m.duration_us),
                (s.first, s.last, s.sessions, s.exchanges, s.duration_us)
            );
            assert!((m.quality_sum - s.quality_sum).abs() < 1e-9);
        }
    }
    assert_eq!(exported(memory), exported(sqlite));
    assert_eq!(
        memory.stored_span(None).unwrap(),
        sqlite.stored_span(None).unwrap()
    );
    assert_eq!(
        memory.project_names().unwrap(),
        sqlite.project_names().unwrap()
    );
    assert_eq!(memory.next_seq().unwrap(), sqlite.next_seq().unwrap());
}

#[test]
fn both_stores_answer_alike_for_the_same_events() {
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 10,
        ..Config::default()
    });
    runner
        .run(&events_of_every_rolled_up_kind(now), |events| {
            let dir = tempfile::tempdir().unwrap();
            let sqlite =
                SqliteStore::open(dir.path().join("t.db"), SqliteOptions::default()).unwrap();
            let memory = MemoryStore::new();
            // Half in one batch, the rest one by one (SQLite's group commit path).
            let (first, rest) = events.split_at(events.len() / 2);
            for store in [&sqlite as &dyn Store, &memory] {
                store
                    .write_batch(Batch {
                        events: first,
                        ..Batch::default()
                    })
                    .unwrap();
                for event in rest {
                    store
                        .write_batch(Batch {
                            events: std::slice::from_ref(event),
                            ..Batch::default()
                        })
                        .unwrap();
                }
            }
            compare(&memory, &sqlite, &events, now);
            // And after retention of the older half of the span.
            for store in [&sqlite as &dyn Store, &memory] {
                store
                    .delete_expired(at(36 * 3600), at(36 * 3600), now - Duration::hours(1))
                    .unwrap();
            }
            compare(&memory, &sqlite, &events, now);
            Ok(())
        })
        .unwrap();
}
