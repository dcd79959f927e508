//! The success predictor's reads and model store against a real SQLite file.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tally_models::{Event, EventBody, EventId, Skill};

use super::super::{SqliteOptions, SqliteStore};
use crate::{Batch, NewPredictModel, SkillRow, SkillRowsQuery, SkillTally};

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap() + Duration::minutes(minute)
}

/// `(id, project, minute, user, skill, completed, session, phase)`.
type Spec<'a> = (
    &'a str,
    &'a str,
    i64,
    &'a str,
    &'a str,
    bool,
    Option<&'a str>,
    Option<&'a str>,
);

fn event((id, project, minute, user, skill, completed, session, phase): Spec<'_>) -> Event {
    Event {
        id: Some(EventId::Given(id.into())),
        ts: at(minute),
        project: project.into(),
        attrs: Default::default(),
        body: EventBody::Skill(Skill {
            user_id: user.to_owned(),
            skill: skill.to_owned(),
            completed,
            session_id: session.map(str::to_owned),
            phase: phase.map(str::to_owned),
            duration_ms: None,
            rating: None,
            query: None,
        }),
    }
}

fn store(specs: &[Spec<'_>]) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("t.db"), SqliteOptions::default()).unwrap();
    let events: Vec<Event> = specs.iter().copied().map(event).collect();
    store
        .write_batch(Batch {
            events: &events,
            ..Default::default()
        })
        .unwrap();
    (dir, store)
}

const SPECS: &[Spec<'static>] = &[
    ("e", "p1", 50, "ann", "refactor", true, Some("s2"), None),
    (
        "a",
        "p1",
        10,
        "ann",
        "refactor",
        true,
        Some("s1"),
        Some("planning"),
    ),
    (
        "b",
        "p2",
        20,
        "ann",
        "refactor",
        false,
        Some("s1"),
        Some("review"),
    ),
    ("c", "p1", 20, "bob", "debugger", true, None, None),
    ("d", "p1", 30, "ann", "debugger", false, Some("s1"), None),
    ("f", "p2", 60, "bob", "debugger", false, Some("s1"), None),
];

fn rows(store: &SqliteStore, from: i64, to: i64, user: Option<&str>) -> Vec<String> {
    let mut seen = Vec::new();
    store
        .skill_rows(
            &SkillRowsQuery {
                from: at(from),
                to: at(to),
                user,
            },
            &mut |row: SkillRow| {
                seen.push(format!(
                    "{} {} {} {} {:?} {:?}",
                    (row.ts - at(0)).num_minutes(),
                    row.user,
                    row.skill,
                    row.completed,
                    row.session,
                    row.phase
                ));
                Ok(())
            },
        )
        .unwrap();
    seen
}

#[test]
fn skill_rows_come_in_time_order_within_the_window() {
    let (_dir, store) = store(SPECS);
    assert_eq!(
        rows(&store, 20, 60, None),
        [
            "20 ann refactor false Some(\"s1\") Some(\"review\")",
            "20 bob debugger true None None",
            "30 ann debugger false Some(\"s1\") None",
            "50 ann refactor true Some(\"s2\") None",
        ]
    );
    // One user, across both projects.
    assert_eq!(
        rows(&store, 0, 100, Some("bob")),
        [
            "20 bob debugger true None None",
            "60 bob debugger false Some(\"s1\") None"
        ]
    );
    assert!(rows(&store, 0, 100, Some("nobody")).is_empty());
}

#[test]
fn tallies_and_session_starts_count_only_rows_before_the_instant() {
    let (_dir, store) = store(SPECS);
    let mut tallies = store.skill_tallies(at(30), None).unwrap();
    tallies.sort_by(|a, b| (&a.user, &a.skill).cmp(&(&b.user, &b.skill)));
    let tally = |user: &str, skill: &str, invocations, completed| SkillTally {
        user: user.into(),
        skill: skill.into(),
        invocations,
        completed,
    };
    assert_eq!(
        tallies,
        [
            tally("ann", "refactor", 2, 1),
            tally("bob", "debugger", 1, 1)
        ]
    );
    assert_eq!(
        store.skill_tallies(at(100), Some("ann")).unwrap().len(),
        2,
        "ann used refactor and debugger"
    );
    // Sessions active in [25, 70) that started before 25: s1 (its start at 10).
    assert_eq!(
        store.skill_session_starts(at(25), at(70), None).unwrap(),
        [("s1".to_owned(), at(10))]
    );
    // s2 (at 50) has no invocation before 50; s1 is still active at 60.
    assert_eq!(
        store.skill_session_starts(at(50), at(70), None).unwrap(),
        [("s1".to_owned(), at(10))]
    );
    assert!(
        store
            .skill_session_starts(at(61), at(70), None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .skill_session_starts(at(100), at(100), Some("s2"))
            .unwrap(),
        [("s2".to_owned(), at(50))]
    );
}

#[test]
fn models_are_numbered_in_order_and_read_back_with_their_bytes() {
    let (_dir, store) = store(&[]);
    assert_eq!(store.predict_model(None).unwrap(), None);
    let model = |n_train: u64, bytes: &[u8]| NewPredictModel {
        created_at: at(100),
        window_from: at(0),
        window_to: at(90),
        n_train,
        n_holdout: n_train / 4,
        params: "{\"trees\":100}".into(),
        metrics: "{\"roc_auc\":0.7}".into(),
        model: bytes.to_vec(),
    };
    assert_eq!(store.save_predict_model(&model(400, b"first")).unwrap(), 1);
    assert_eq!(store.save_predict_model(&model(800, b"second")).unwrap(), 2);
    let listed = store.predict_models().unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|m| (m.version, m.n_train))
            .collect::<Vec<_>>(),
        [(1, 400), (2, 800)]
    );
    let (latest, bytes) = store.predict_model(None).unwrap().unwrap();
    assert_eq!(
        (latest.version, bytes.as_slice()),
        (2, b"second".as_slice())
    );
    let (first, bytes) = store.predict_model(Some(1)).unwrap().unwrap();
    assert_eq!(
        (first.window_to, first.n_holdout, bytes.as_slice()),
        (at(90), 100, b"first".as_slice())
    );
    assert_eq!(first.params, "{\"trees\":100}");
    assert_eq!(store.predict_model(Some(3)).unwrap(), None);
}
