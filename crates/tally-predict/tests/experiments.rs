//! Experiments through the store (the in-memory adapter): a definition stored once,
//! seen only from its project, stopped once, and analysed over the outcomes between its
//! start and its stop. Expected counts are worked out by hand.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tally_models::Event;
use tally_predict::Error;
use tally_predict::experiment::{ExperimentSpec, Visibility, analyze_stored, create, find, stop};
use tally_store::{Batch, EventStore, Filter};
use tally_store_contract::events::outcome;
use tally_store_memory::MemoryStore;

/// 2026-10-`day` at noon UTC.
fn oct(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, 12, 0, 0).unwrap()
}

fn spec() -> ExperimentSpec {
    ExperimentSpec {
        key: "checkout".to_owned(),
        variants: vec![("control".to_owned(), 1.0), ("treatment".to_owned(), 1.0)],
        primary_metric: Some("converted".to_owned()),
        started_at: Some(oct(2)),
        ..ExperimentSpec::default()
    }
}

fn converted(id: &str, project: &str, at: DateTime<Utc>, user: &str, variant: &str) -> Event {
    outcome(
        id,
        project,
        at,
        "checkout",
        user,
        variant,
        &[("converted", 1.0, true)],
    )
}

fn store(events: &[Event]) -> MemoryStore {
    let store = MemoryStore::new();
    store
        .write_batch(Batch {
            events,
            ..Batch::default()
        })
        .unwrap();
    store
}

#[test]
fn a_definition_is_stored_once_and_seen_from_its_project() {
    let store = store(&[]);
    let created = create(&store, spec(), Some("p1"), oct(1)).unwrap();
    assert_eq!(created.project.as_deref(), Some("p1"));
    assert!(matches!(
        create(&store, spec(), Some("p1"), oct(1)),
        Err(Error::Exists(key)) if key == "checkout"
    ));
    // The one project that defines it is found without naming it.
    assert_eq!(find(&store, "checkout", Visibility::All).unwrap(), created);
    assert_eq!(
        find(&store, "checkout", Visibility::Project("p1")).unwrap(),
        created
    );
    assert!(matches!(
        find(&store, "checkout", Visibility::Project("p2")),
        Err(Error::Unknown(_))
    ));
    assert!(matches!(
        stop(&store, "checkout", Visibility::Project("p2"), oct(5)),
        Err(Error::Unknown(_))
    ));
    let stopped = stop(&store, "checkout", Visibility::Project("p1"), oct(5)).unwrap();
    assert_eq!(stopped.stopped_at, Some(oct(5)));
    assert!(matches!(
        stop(&store, "checkout", Visibility::All, oct(6)),
        Err(Error::NotRunning(_))
    ));
    // A global experiment of the same key is another one, and the one found first.
    let global = create(&store, spec(), None, oct(6)).unwrap();
    assert_eq!(global.project, None);
    assert_eq!(find(&store, "checkout", Visibility::All).unwrap(), global);
    assert_eq!(
        find(&store, "checkout", Visibility::Project("p1")).unwrap(),
        stopped
    );
}

#[test]
fn analysis_reads_the_outcomes_between_start_and_stop() {
    let store = store(&[
        // Before the start on the 2nd.
        converted("o1", "p1", oct(1), "u1", "control"),
        converted("o2", "p1", oct(2), "u2", "control"),
        converted("o3", "p1", oct(3), "u3", "treatment"),
        converted("o4", "p2", oct(3), "u4", "treatment"),
        converted("o5", "p1", oct(4), "u5", "control"),
        // At and after the stop on the 5th.
        converted("o6", "p1", oct(5), "u6", "treatment"),
        converted("o7", "p1", oct(6), "u7", "control"),
    ]);
    create(&store, spec(), None, oct(1)).unwrap();
    let read = |visibility, filter: &Filter| {
        analyze_stored(&store, "checkout", visibility, filter, oct(7))
            .unwrap()
            .assignment
    };
    let everything = Filter::default();
    // Running: o2 to o7.
    assert_eq!(read(Visibility::All, &everything).outcomes, 6);
    stop(&store, "checkout", Visibility::All, oct(5)).unwrap();
    // Stopped on the 5th: o2 to o5.
    let all = read(Visibility::All, &everything);
    assert_eq!(all.outcomes, 4);
    assert_eq!(all.consistent + all.mismatched, 4);
    // A filter narrows within the experiment's window, never beyond it.
    let from_the_third = Filter {
        from: Some(oct(3)),
        to: Some(oct(3) + Duration::days(10)),
        ..Filter::default()
    };
    assert_eq!(read(Visibility::All, &from_the_third).outcomes, 3);
    assert_eq!(read(Visibility::All, &project_filter("p2")).outcomes, 1);
}

fn project_filter(project: &str) -> Filter {
    Filter {
        project: Some(project.to_owned()),
        ..Filter::default()
    }
}
