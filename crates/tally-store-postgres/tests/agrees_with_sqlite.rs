//! The PostgreSQL store and the SQLite store answer every read alike for the same
//! events: totals, rollups of every family at every resolution and project scope, the
//! live state tables, the minute tier, raw series and the export. Dictionary codes are
//! each store's own, so keyed rows and facets are compared by the names they stand for.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use proptest::test_runner::{Config, TestRunner};
use tally_models::{Action, AttrValue, Event, EventBody, EventId, Kind, SystemMetrics};
use tally_store::rollup::{Facet, Family, ProjectScope, Resolution, RollupQuery, RollupRow};
use tally_store::{Batch, Filter, RawMeasure, RawSeriesQuery, Store};
use tally_store_contract::checks::events_of_every_rolled_up_kind;
use tally_store_contract::events::{at, outcome, session, skill};
use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};
use tally_store_sqlite::{SqliteOptions, SqliteStore};

/// A rollup row with its codes replaced by names: the key by its name (keyed
/// families), facet values of models and error classes by theirs.
type Named = (
    Option<String>,
    Resolution,
    i64,
    String,
    tally_store::rollup::Measures,
    Vec<(Facet, String, u64, u64)>,
);

/// What each dictionary code of a store stands for, learnt through its ports.
struct Names {
    models: BTreeMap<i64, String>,
    error_classes: BTreeMap<i64, String>,
}

fn names(store: &dyn Store) -> Names {
    let models = store
        .rollups(&RollupQuery {
            family: Family::ExecutionsByModel,
            projects: ProjectScope::All,
            from: None,
            to: None,
            by: None,
        })
        .unwrap()
        .into_iter()
        .filter_map(|row| row.name.map(|name| (row.key, name)))
        .collect();
    Names {
        models,
        error_classes: store.error_classes().unwrap().into_iter().collect(),
    }
}

fn named(rows: Vec<RollupRow>, names: &Names) -> Vec<Named> {
    let mut out: Vec<Named> = rows
        .into_iter()
        .map(|row| {
            let facets = row
                .measures
                .facets
                .sorted()
                .iter()
                .map(|&((facet, value), (n, failures))| {
                    let value = match facet {
                        Facet::Model if value != 0 => names.models[&value].clone(),
                        Facet::ErrorClass => names.error_classes[&value].clone(),
                        _ => value.to_string(),
                    };
                    (facet, value, n, failures)
                })
                .collect::<Vec<_>>();
            let mut measures = row.measures;
            measures.facets = Default::default();
            let key = row.name.unwrap_or_else(|| row.key.to_string());
            let mut facets = facets;
            facets.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            (
                row.project,
                row.resolution,
                row.bucket,
                key,
                measures,
                facets,
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0, a.1, a.2, &a.3).cmp(&(&b.0, b.1, b.2, &b.3)));
    out
}

fn exported(store: &dyn Store, filter: &Filter, executions_only: bool) -> Vec<Event> {
    let mut out = Vec::new();
    let mut sink = |event| {
        out.push(event);
        Ok(())
    };
    let count = if executions_only {
        store.export_executions(filter, &mut sink).unwrap()
    } else {
        store.export_events(filter, &mut sink).unwrap()
    };
    assert_eq!(count, out.len() as u64);
    out
}

/// Events of the kinds the random ones leave out, and sessions whose topics repeat in
/// different orders.
fn other_kinds() -> Vec<Event> {
    let plain = |id: &str, project: &str, seconds: i64, body| Event {
        id: Some(EventId::Given(id.into())),
        ts: at(seconds),
        project: project.into(),
        attrs: [
            ("region".to_owned(), AttrValue::Str("eu".to_owned())),
            ("weight".to_owned(), AttrValue::Float(2.5)),
            ("retries".to_owned(), AttrValue::Int(3)),
        ]
        .into(),
        body,
    };
    vec![
        session(
            "s-a",
            "alpha",
            at(100),
            "u1",
            90.5,
            3,
            Some(0.75),
            &["sql", "rust", "sql"],
        ),
        session(
            "s-b",
            "beta",
            at(4000),
            "u2",
            1.25,
            1,
            None,
            &["go", "rust"],
        ),
        session(
            "s-c",
            "alpha",
            at(90_000),
            "u1",
            12.0,
            2,
            Some(0.5),
            &["rust", "go"],
        ),
        skill("k-a", "alpha", at(200), "u1", "search", true, Some("s-a")),
        skill("k-b", "alpha", at(300), "u1", "search", false, None),
        skill("k-c", "beta", at(90_100), "u2", "write", true, None),
        outcome(
            "o-a",
            "alpha",
            at(400),
            "checkout",
            "u1",
            "control",
            &[("converted", 1.0, true), ("latency", 12.5, false)],
        ),
        plain(
            "act-a",
            "alpha",
            500,
            EventBody::Action(Action {
                user_id: "u1".to_owned(),
                action: "open".to_owned(),
                session_id: Some("s-a".to_owned()),
            }),
        ),
        plain(
            "sys-a",
            "beta",
            600,
            EventBody::System(SystemMetrics {
                host: "web-1".to_owned(),
                cpu_pct: Some(12.5),
                mem_pct: None,
                disk_pct: Some(70.0),
                load1: Some(0.5),
            }),
        ),
    ]
}

fn compare(sqlite: &dyn Store, postgres: &dyn Store, now: DateTime<Utc>) {
    let ranges = [
        (None, None),
        (Some(at(20 * 3600 + 17 * 60)), Some(at(70 * 3600 + 5 * 60))),
        (Some(now - Duration::minutes(95)), None),
    ];
    let (sqlite_names, postgres_names) = (names(sqlite), names(postgres));
    let mut scopes = vec![ProjectScope::All, ProjectScope::Each];
    scopes.extend(["alpha", "beta", "gamma", "nowhere"].map(ProjectScope::One));
    for family in Family::ALL {
        for &projects in &scopes {
            for (from, to) in ranges {
                for by in [
                    None,
                    Some(Resolution::Month),
                    Some(Resolution::Day),
                    Some(Resolution::Hour),
                ] {
                    let query = RollupQuery {
                        family,
                        projects,
                        from,
                        to,
                        by,
                    };
                    assert_eq!(
                        named(postgres.rollups(&query).unwrap(), &postgres_names),
                        named(sqlite.rollups(&query).unwrap(), &sqlite_names),
                        "{query:?}"
                    );
                }
            }
        }
    }
    let mut classes: Vec<Vec<String>> = [sqlite, postgres]
        .map(|s| {
            s.error_classes()
                .unwrap()
                .into_iter()
                .map(|(_, name)| name)
                .collect()
        })
        .into();
    classes.iter_mut().for_each(|c| c.sort());
    assert_eq!(classes[0], classes[1]);

    let filters = [
        Filter::default(),
        Filter {
            project: Some("beta".to_owned()),
            from: Some(at(3600)),
            to: Some(at(50 * 3600)),
        },
        Filter {
            project: Some("alpha".to_owned()),
            ..Filter::default()
        },
        Filter {
            project: None,
            from: Some(at(-80_000)),
            to: Some(at(-40_000 + 7)),
        },
        Filter {
            project: Some("nowhere".to_owned()),
            ..Filter::default()
        },
    ];
    for filter in &filters {
        assert_eq!(
            postgres.totals(filter).unwrap(),
            sqlite.totals(filter).unwrap(),
            "{filter:?}"
        );
        let mut jobs = [sqlite, postgres].map(|s| s.job_states(filter).unwrap());
        for jobs in &mut jobs {
            jobs.sort_by(|a, b| (&a.project, &a.job_id).cmp(&(&b.project, &b.job_id)));
        }
        assert_eq!(jobs[1], jobs[0], "{filter:?}");
        assert_eq!(
            postgres.agent_load(filter).unwrap(),
            sqlite.agent_load(filter).unwrap(),
            "{filter:?}"
        );
        for measure in [
            RawMeasure::Sessions,
            RawMeasure::SessionQuality,
            RawMeasure::SkillCompletion,
        ] {
            for (skill, user) in [(None, None), (Some("search"), None), (None, Some("u1"))] {
                for step_seconds in [3600, 86_400] {
                    let query = RawSeriesQuery {
                        measure,
                        filter,
                        step_seconds,
                        skill,
                        user,
                    };
                    let (s, p) = (
                        sqlite.raw_series(&query).unwrap(),
                        postgres.raw_series(&query).unwrap(),
                    );
                    assert_eq!(s.len(), p.len(), "{query:?}");
                    for (s, p) in s.iter().zip(&p) {
                        assert_eq!(
                            (p.bucket, p.rows, p.valued),
                            (s.bucket, s.rows, s.valued),
                            "{query:?}"
                        );
                        // Floating-point sums in each database's order of addition.
                        assert!(
                            (p.sum - s.sum).abs() <= 1e-9 * s.sum.abs().max(1.0),
                            "{query:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(
            exported(postgres, filter, false),
            exported(sqlite, filter, false),
            "{filter:?}"
        );
        assert_eq!(
            exported(postgres, filter, true),
            exported(sqlite, filter, true),
            "{filter:?}"
        );
    }
    for project in [None, Some("alpha"), Some("nowhere")] {
        assert_eq!(
            postgres.agent_states(project).unwrap(),
            sqlite.agent_states(project).unwrap()
        );
        let since = now - Duration::hours(3);
        let mut minutes = [sqlite, postgres].map(|s| s.minutes(project, since).unwrap());
        // Rows of one minute and kind from several projects come in the order of the
        // projects' codes, which each store assigns in its own order.
        for minutes in &mut minutes {
            minutes.sort_by_cached_key(|m| (m.minute, m.kind, format!("{m:?}")));
        }
        assert_eq!(minutes[1], minutes[0], "{project:?}");
        assert_eq!(
            postgres.active_users(project, since).unwrap(),
            sqlite.active_users(project, since).unwrap()
        );
    }
}

#[test]
fn postgres_answers_every_read_as_sqlite_does() {
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 6,
        ..Config::default()
    });
    runner
        .run(&events_of_every_rolled_up_kind(now), |mut events| {
            events.extend(other_kinds());
            let dir = tempfile::tempdir().unwrap();
            let sqlite =
                SqliteStore::open(dir.path().join("t.db"), SqliteOptions::default()).unwrap();
            let database = TestDatabase::create();
            let postgres = PostgresStore::open(database.url(), PostgresOptions::default()).unwrap();
            // Half in one batch, the rest one by one.
            let (first, rest) = events.split_at(events.len() / 2);
            for store in [&sqlite as &dyn Store, &postgres] {
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
            compare(&sqlite, &postgres, now);
            // Every kind was compared, not an empty export.
            let kinds: std::collections::BTreeSet<Kind> =
                exported(&postgres, &Filter::default(), false)
                    .iter()
                    .map(Event::kind)
                    .collect();
            for kind in [
                Kind::Session,
                Kind::Skill,
                Kind::Outcome,
                Kind::Action,
                Kind::System,
            ] {
                assert!(kinds.contains(&kind), "{kind} exported");
            }
            Ok(())
        })
        .unwrap();
}
