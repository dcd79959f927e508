//! The records and learner reads of the PostgreSQL store: the same events and records
//! give the same answers as the SQLite store, and several servers on one database see
//! each other's records at once.

use chrono::{DateTime, Utc};
use tally_models::Event;
use tally_store::{
    Batch, ExperimentRecord, Filter, GoalRecord, KeyScope, NewApiKey, NewPredictModel,
    SkillRowsQuery, Store,
};
use tally_store_contract::events::{at, outcome, session, skill};
use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};
use tally_store_sqlite::{SqliteOptions, SqliteStore};

fn open(database: &TestDatabase) -> PostgresStore {
    PostgresStore::open(database.url(), PostgresOptions::default())
        .unwrap_or_else(|e| panic!("open {}: {e}", database.url()))
}

fn write(store: &dyn Store, events: &[Event]) {
    store
        .write_batch(Batch {
            events,
            ..Batch::default()
        })
        .expect("the batch is written");
}

/// Sessions of three learners in two projects, several in one quarter hour, with
/// topics named twice; skills with and without sessions; outcomes whose metrics are
/// first seen in an order other than their names'. Qualities are binary fractions, so
/// their sums are exact whatever the order they are added in.
fn batches() -> Vec<Vec<Event>> {
    vec![
        vec![
            session(
                "s1",
                "p1",
                at(3600),
                "u1",
                60.0,
                4,
                Some(0.75),
                &["rust", "async", "rust"],
            ),
            session("s2", "p2", at(3660), "u1", 30.5, 2, None, &["rust"]),
            session("s3", "p1", at(3700), "u2", 10.0, 1, Some(0.5), &["go"]),
            skill("k1", "p1", at(3650), "u1", "search", true, Some("a")),
            skill("k2", "p2", at(3640), "u1", "edit", false, None),
            outcome(
                "o1",
                "p1",
                at(10_000),
                "checkout",
                "u1",
                "control",
                &[("zeta", 1.0, true)],
            ),
        ],
        vec![
            session("s4", "p1", at(3800), "u1", 5.0, 9, Some(1.0), &["async"]),
            session("s5", "p2", at(90_000), "u3", 1.0, 1, Some(0.25), &[]),
            session(
                "s6",
                "p1",
                at(180_000),
                "u1",
                2.0,
                3,
                Some(0.5),
                &["zig", "ada"],
            ),
            skill("k3", "p1", at(3660), "u2", "search", true, Some("b")),
            skill("k4", "p1", at(90_000), "u1", "edit", true, Some("a")),
            skill("k5", "p2", at(90_100), "u3", "plan", false, Some("c")),
            skill("k6", "p1", at(90_100), "u1", "search", false, Some("b")),
            outcome(
                "o2",
                "p2",
                at(10_020),
                "checkout",
                "u2",
                "treatment",
                &[("alpha", 3.5, false), ("zeta", 0.0, true)],
            ),
            outcome("o3", "p1", at(10_030), "pricing", "u1", "control", &[]),
            // A resend: stored once.
            session("s1", "p1", at(3600), "u1", 60.0, 4, Some(0.75), &["rust"]),
        ],
    ]
}

fn experiment(key: &str, project: Option<&str>) -> ExperimentRecord {
    ExperimentRecord {
        key: key.to_owned(),
        seed: format!("{key}-seed"),
        variants: vec![("control".to_owned(), 0.25), ("treatment".to_owned(), 0.75)],
        coverage: 0.5,
        hypothesis: project.map(|p| format!("{p} converts")),
        primary_metric: Some("zeta".to_owned()),
        guardrail_metrics: vec!["alpha".to_owned()],
        lower_is_better: Vec::new(),
        created_at: at(1),
        started_at: None,
        stopped_at: None,
        project: project.map(str::to_owned),
    }
}

fn goal(user: &str, kind: &str, project: Option<&str>) -> GoalRecord {
    GoalRecord {
        id: 0,
        user: user.to_owned(),
        kind: kind.to_owned(),
        target: 7.5,
        title: format!("{kind} goal"),
        created_at: at(2),
        deadline: project.map(|_| at(86_400)),
        state: "active".to_owned(),
        project: project.map(str::to_owned),
    }
}

/// The same records created, changed and revoked in the same order.
fn records(store: &dyn Store) {
    for (prefix, scope, projects) in [
        ("tk_one", KeyScope::Ingest, vec!["p1".to_owned()]),
        ("tk_two", KeyScope::Admin, Vec::new()),
        (
            "tk_one",
            KeyScope::Read,
            vec!["p1".to_owned(), "p2".to_owned()],
        ),
    ] {
        store
            .create_key(&NewApiKey {
                name: Some(format!("{prefix} {}", scope.as_str())),
                scope,
                projects,
                prefix: prefix.to_owned(),
                hash: [7; 32],
                created_at: at(5),
            })
            .unwrap();
    }
    assert!(store.revoke_key(1, at(6)).unwrap());
    for definition in [
        experiment("checkout", Some("p1")),
        experiment("checkout", None),
        experiment("beta", Some("p2")),
        experiment("checkout", Some("p1")),
    ] {
        store.create_experiment(&definition).unwrap();
    }
    assert!(store.stop_experiment(None, "checkout", at(40)).unwrap());
    store
        .create_goal(&goal("u1", "sessions", Some("p1")))
        .unwrap();
    store.create_goal(&goal("u2", "streak", None)).unwrap();
    store
        .update_goal(&GoalRecord {
            id: 1,
            state: "paused".to_owned(),
            deadline: None,
            ..goal("u1", "minutes", Some("p1"))
        })
        .unwrap();
    store.set_learner_time_zone("u2", "Europe/Paris").unwrap();
    store.set_learner_time_zone("u9", "UTC").unwrap();
    store.set_learner_time_zone("u2", "Asia/Tokyo").unwrap();
    for (n, bytes) in [(10_u64, b"one".as_slice()), (20, b"\x00\xff")] {
        store
            .save_predict_model(&NewPredictModel {
                created_at: at(n as i64),
                window_from: at(0),
                window_to: at(86_400),
                n_train: n,
                n_holdout: n / 2,
                params: format!("{{\"n\":{n}}}"),
                metrics: "{}".to_owned(),
                model: bytes.to_vec(),
            })
            .unwrap();
    }
}

/// Every read of the keys, experiments, predictor-model, learning and skill-history
/// ports, as text: what must be the same on both stores. Learner revisions are numbers
/// each store picks; which learners have one is what must match.
fn reads(store: &dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |what: &str, value: String| out.push(format!("{what}: {value}"));
    note("keys", format!("{:?}", store.keys().unwrap()));
    for prefix in ["tk_one", "tk_two", "tk"] {
        let found = store.active_keys_with_prefix(prefix).unwrap();
        note(prefix, format!("{found:?}"));
    }
    note("any key", format!("{:?}", store.any_active_key().unwrap()));
    note("experiments", format!("{:?}", store.experiments().unwrap()));
    for (project, key) in [
        (Some("p1"), "checkout"),
        (None, "checkout"),
        (Some("p2"), "checkout"),
    ] {
        let found = store.experiment(project, key).unwrap();
        note(
            &format!("experiment {project:?} {key}"),
            format!("{found:?}"),
        );
    }
    note(
        "keys seen",
        format!("{:?}", store.experiment_keys_seen().unwrap()),
    );
    let filters = [
        Filter::default(),
        Filter {
            project: Some("p2".to_owned()),
            ..Filter::default()
        },
        Filter {
            from: Some(at(10_015)),
            to: Some(at(10_030)),
            ..Filter::default()
        },
    ];
    for key in ["checkout", "pricing", "missing"] {
        for filter in &filters {
            let found = store.outcomes(key, filter).unwrap();
            note(&format!("outcomes {key} {filter:?}"), format!("{found:?}"));
        }
    }
    note("models", format!("{:?}", store.predict_models().unwrap()));
    for version in [None, Some(1), Some(3)] {
        let found = store.predict_model(version).unwrap();
        note(&format!("model {version:?}"), format!("{found:?}"));
    }
    let untils: [Option<DateTime<Utc>>; 4] =
        [None, Some(at(3660)), Some(at(3599)), Some(at(100_000))];
    for user in ["u1", "u2", "u3", "nobody"] {
        for project in [None, Some("p1"), Some("p2"), Some("none")] {
            for until in untils {
                let what = format!("{user} {project:?} {until:?}");
                let sessions = store.learning_sessions(user, project, until).unwrap();
                note(&format!("sessions {what}"), format!("{sessions:?}"));
                let skills = store.skill_invocations(user, project, until).unwrap();
                note(&format!("skills {what}"), format!("{skills:?}"));
                let activity = store.learner_activity(user, project, until).unwrap();
                note(&format!("activity {what}"), format!("{activity:?}"));
            }
        }
        note(
            &format!("zone {user}"),
            format!("{:?}", store.learner_time_zone(user).unwrap()),
        );
        note(
            &format!("goals {user}"),
            format!("{:?}", store.goals(user).unwrap()),
        );
    }
    for project in [None, Some("p1"), Some("p2"), Some("none")] {
        note(
            &format!("learners {project:?}"),
            format!("{:?}", store.learners(project).unwrap()),
        );
        for until in untils {
            let all = store.all_learner_activity(project, until).unwrap();
            note(
                &format!("all activity {project:?} {until:?}"),
                format!("{all:?}"),
            );
        }
    }
    let mut zones = store.learner_time_zones().unwrap();
    zones.sort();
    note("zones", format!("{zones:?}"));
    let mut revised: Vec<String> = store
        .learner_revisions(0)
        .unwrap()
        .into_iter()
        .map(|(user, _)| user)
        .collect();
    revised.sort();
    note("revised", format!("{revised:?}"));
    for user in [None, Some("u1"), Some("u3")] {
        let mut rows = Vec::new();
        store
            .skill_rows(
                &SkillRowsQuery {
                    from: at(3640),
                    to: at(90_100),
                    user,
                },
                &mut |row| {
                    rows.push((
                        row.ts,
                        row.user,
                        row.skill,
                        row.completed,
                        row.session,
                        row.phase,
                    ));
                    Ok(())
                },
            )
            .unwrap();
        note(&format!("skill rows {user:?}"), format!("{rows:?}"));
        let mut tallies = store.skill_tallies(at(90_100), user).unwrap();
        tallies.sort_by(|a, b| (&a.user, &a.skill).cmp(&(&b.user, &b.skill)));
        note(&format!("tallies {user:?}"), format!("{tallies:?}"));
    }
    for session in [None, Some("a"), Some("b"), Some("none")] {
        let mut starts = store
            .skill_session_starts(at(90_000), at(90_101), session)
            .unwrap();
        starts.sort();
        note(&format!("starts {session:?}"), format!("{starts:?}"));
    }
    out
}

/// A change to a learner's settings or goals, made to one store.
type Change = dyn Fn(&dyn Store);

fn assert_same(sqlite: &[String], postgres: &[String]) {
    assert_eq!(sqlite.len(), postgres.len());
    for (s, p) in sqlite.iter().zip(postgres) {
        assert_eq!(s, p, "SQLite and PostgreSQL differ");
    }
}

#[test]
fn the_same_events_and_records_read_the_same_as_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("same.db"), SqliteOptions::default()).unwrap();
    let database = TestDatabase::create();
    let postgres = open(&database);
    for store in [&sqlite as &dyn Store, &postgres] {
        for batch in batches() {
            write(store, &batch);
        }
        records(store);
    }
    assert_same(&reads(&sqlite), &reads(&postgres));
    let learners = postgres.all_learner_activity(None, None).unwrap();
    assert_eq!(
        learners.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(),
        vec!["u1", "u2", "u3"]
    );
    // Revisions: the same learners change when a time zone or a goal changes.
    let changed = |store: &dyn Store, change: &Change| {
        let latest = store
            .learner_revisions(0)
            .unwrap()
            .iter()
            .map(|r| r.1)
            .max();
        change(store);
        store
            .learner_revisions(latest.unwrap_or(0))
            .unwrap()
            .into_iter()
            .map(|(user, _)| user)
            .collect::<Vec<_>>()
    };
    let changes: [&Change; 3] = [
        &|store| store.set_learner_time_zone("u3", "UTC").unwrap(),
        &|store| store.set_learner_time_zone("u8", "UTC").unwrap(),
        &|store| {
            store.create_goal(&goal("u1", "topics", None)).unwrap();
        },
    ];
    for change in changes {
        assert_eq!(changed(&sqlite, change), changed(&postgres, change));
    }
}

#[test]
fn learner_reads_after_retention_read_the_same_as_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("kept.db"), SqliteOptions::default()).unwrap();
    let database = TestDatabase::create();
    let postgres = open(&database);
    let past = at(-86_400 * 400);
    for store in [&sqlite as &dyn Store, &postgres] {
        for batch in batches() {
            write(store, &batch);
        }
        records(store);
        // The raw sessions of the first hours go; the learner summary keeps them.
        store.delete_expired(at(3700), past, past).unwrap();
        // u1's first quarter hour lost two of its three raw sessions: the summary
        // answers for it.
        let activity = store.learner_activity("u1", None, None).unwrap();
        assert_eq!(
            activity.iter().map(|a| a.sessions).collect::<Vec<_>>(),
            vec![3, 1]
        );
    }
    assert_same(&reads(&sqlite), &reads(&postgres));
}

#[test]
fn two_servers_on_one_database_see_each_others_records_at_once() {
    let database = TestDatabase::create();
    let (one, two) = (open(&database), open(&database));
    // Keys.
    let key = NewApiKey {
        name: None,
        scope: KeyScope::Ingest,
        projects: vec!["p1".to_owned()],
        prefix: "tk_shared".to_owned(),
        hash: [1; 32],
        created_at: at(0),
    };
    assert!(!two.any_active_key().unwrap());
    let id = one.create_key(&key).unwrap();
    assert_eq!(two.keys().unwrap().len(), 1);
    assert_eq!(two.active_keys_with_prefix("tk_shared").unwrap()[0].id, id);
    assert!(two.any_active_key().unwrap());
    assert!(two.revoke_key(id, at(1)).unwrap());
    assert!(
        !one.revoke_key(id, at(2)).unwrap(),
        "revoked once, on either server"
    );
    assert!(one.active_keys_with_prefix("tk_shared").unwrap().is_empty());
    assert!(!one.any_active_key().unwrap());
    // Experiments: a key is defined once across servers, stopped once.
    assert!(
        one.create_experiment(&experiment("shared", Some("p1")))
            .unwrap()
    );
    assert!(
        !two.create_experiment(&experiment("shared", Some("p1")))
            .unwrap()
    );
    assert_eq!(
        two.experiment(Some("p1"), "shared").unwrap(),
        Some(experiment("shared", Some("p1")))
    );
    assert!(two.stop_experiment(Some("p1"), "shared", at(9)).unwrap());
    assert!(!one.stop_experiment(Some("p1"), "shared", at(10)).unwrap());
    assert_eq!(one.experiments().unwrap()[0].stopped_at, Some(at(9)));
    // Goals and time zones.
    let goal_id = one.create_goal(&goal("u1", "sessions", None)).unwrap();
    assert_eq!(two.goals("u1").unwrap()[0].id, goal_id);
    let paused = GoalRecord {
        id: goal_id,
        state: "paused".to_owned(),
        ..goal("u1", "sessions", None)
    };
    assert!(two.update_goal(&paused).unwrap());
    assert_eq!(one.goals("u1").unwrap(), vec![paused]);
    one.set_learner_time_zone("u1", "Europe/Paris").unwrap();
    assert_eq!(
        two.learner_time_zone("u1").unwrap().as_deref(),
        Some("Europe/Paris")
    );
    two.set_learner_time_zone("u1", "America/Lima").unwrap();
    assert_eq!(
        one.learner_time_zone("u1").unwrap().as_deref(),
        Some("America/Lima")
    );
    assert_eq!(
        one.learner_time_zones().unwrap(),
        vec![("u1".to_owned(), "America/Lima".to_owned())]
    );
    // Predictor models: one numbering for both servers.
    let model = |n: u64| NewPredictModel {
        created_at: at(n as i64),
        window_from: at(0),
        window_to: at(60),
        n_train: n,
        n_holdout: 0,
        params: "{}".to_owned(),
        metrics: "{}".to_owned(),
        model: vec![n as u8],
    };
    assert_eq!(one.save_predict_model(&model(1)).unwrap(), 1);
    assert_eq!(two.save_predict_model(&model(2)).unwrap(), 2);
    assert_eq!(one.predict_model(None).unwrap().unwrap().1, vec![2]);
    assert_eq!(two.predict_models().unwrap().len(), 2);
}

#[test]
fn a_learners_revision_raised_on_one_server_is_seen_on_the_other_above_every_before() {
    let database = TestDatabase::create();
    let (one, two) = (open(&database), open(&database));
    write(
        &one,
        &[
            session("s1", "p1", at(0), "u1", 1.0, 1, None, &[]),
            session("s2", "p1", at(0), "u2", 1.0, 1, None, &[]),
        ],
    );
    let before = two.learner_revisions(0).unwrap();
    assert_eq!(before.len(), 2);
    let latest = before.iter().map(|r| r.1).max().unwrap();
    two.set_learner_time_zone("u2", "UTC").unwrap();
    let after_zone = one.learner_revisions(latest).unwrap();
    assert_eq!(
        after_zone.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        vec!["u2"]
    );
    one.create_goal(&goal("u1", "sessions", None)).unwrap();
    let after_goal = two.learner_revisions(after_zone[0].1).unwrap();
    assert_eq!(
        after_goal.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        vec!["u1"]
    );
    // A learner without sessions has no revision to raise, as in the other stores.
    one.set_learner_time_zone("u7", "UTC").unwrap();
    assert!(two.learner_revisions(after_goal[0].1).unwrap().is_empty());
}

#[test]
fn skill_rows_stream_past_one_fetch_in_order_and_stop_at_the_visitors_error() {
    let database = TestDatabase::create();
    // Two connections: the reads after the stopped one reuse its connection.
    let options = PostgresOptions {
        connections: 2,
        ..PostgresOptions::default()
    };
    let store = PostgresStore::open(database.url(), options).unwrap();
    // More rows than one fetch, written newest first, two at each instant.
    let events: Vec<Event> = (0..5_000)
        .rev()
        .map(|i| {
            skill(
                &format!("k{i}"),
                "p1",
                at(i / 2),
                "u1",
                "search",
                i % 3 == 0,
                None,
            )
        })
        .collect();
    write(&store, &events);
    let query = SkillRowsQuery {
        from: at(0),
        to: at(2_500),
        user: None,
    };
    let mut seen = Vec::new();
    store
        .skill_rows(&query, &mut |row| {
            seen.push((row.ts, row.seq));
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), 5_000);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "by (ts, seq)");
    let mut visited = 0;
    let stopped = store.skill_rows(&query, &mut |_| {
        visited += 1;
        if visited == 2_500 {
            return Err(tally_store::Error::Corrupt("stop here".to_owned()));
        }
        Ok(())
    });
    assert!(
        matches!(stopped, Err(tally_store_postgres::Error::Store(tally_store::Error::Corrupt(ref what))) if what == "stop here")
    );
    assert_eq!(visited, 2_500);
    // The connection the stopped read used serves the next read.
    for _ in 0..20 {
        assert_eq!(
            store.skill_tallies(at(2_500), Some("u1")).unwrap()[0].invocations,
            5_000
        );
    }
}
