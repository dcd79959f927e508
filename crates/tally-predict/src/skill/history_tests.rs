//! Features read from a real store: no leakage from later events, and the same state
//! for training windows and single predictions.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tally_models::{Event, EventBody, EventId, Skill};
use tally_store::{Batch, EventStore};
use tally_store_sqlite::{SqliteOptions, SqliteStore};

use super::*;
use crate::skill::features::Context;

/// One generated invocation: minute offset, user, skill, completed, session, phase.
#[derive(Debug, Clone)]
struct Spec {
    minute: i64,
    user: String,
    skill: String,
    completed: bool,
    session: Option<String>,
    phase: Option<String>,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap()
}

/// `n` invocations over about 10 days, deterministic (an LCG), with repeated instants.
fn specs(n: usize) -> Vec<Spec> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |modulo: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % modulo
    };
    let mut minute = 0;
    let mut user = String::new();
    (0..n)
        .map(|_| {
            let step = next(40) as i64;
            minute += step;
            // A step of 0 is another invocation of the same user at the same instant.
            if step > 0 || user.is_empty() {
                user = format!("u{}", next(4));
            }
            let user = user.clone();
            let day = minute / 1440;
            Spec {
                minute,
                session: (next(5) > 0).then(|| format!("{user}-{day}")),
                user,
                skill: format!("s{}", next(3)),
                completed: next(3) > 0,
                phase: ["planning", "review", "other"]
                    .get(next(4) as usize)
                    .map(|p| (*p).to_owned()),
            }
        })
        .collect()
}

fn store(specs: &[Spec]) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("t.db"), SqliteOptions::default()).unwrap();
    let events: Vec<Event> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| Event {
            id: Some(EventId::Given(format!("e{i}").into())),
            ts: start() + Duration::minutes(spec.minute),
            project: if i % 3 == 0 { "p1" } else { "p2" }.into(),
            attrs: Default::default(),
            body: EventBody::Skill(Skill {
                user_id: spec.user.clone(),
                skill: spec.skill.clone(),
                completed: spec.completed,
                session_id: spec.session.clone(),
                phase: spec.phase.clone(),
                duration_ms: None,
                rating: None,
                query: None,
            }),
        })
        .collect();
    store
        .write_batch(Batch {
            events: &events,
            ..Default::default()
        })
        .unwrap();
    (dir, store)
}

fn everything(store: &SqliteStore) -> Dataset {
    window_dataset(
        store,
        start() - Duration::days(1),
        start() + Duration::days(30),
    )
    .unwrap()
}

#[test]
fn features_do_not_change_when_later_events_are_added_or_altered() {
    let original = specs(600);
    let (_dir, store_before) = store(&original);
    let before = everything(&store_before);
    assert_eq!(before.len(), original.len());
    let tied = (0..original.len() - 1)
        .filter(|&i| {
            original[i + 1].minute == original[i].minute && original[i + 1].user == original[i].user
        })
        .take(3);
    let ks: Vec<usize> = [0, 1, 57, 300, 599].into_iter().chain(tied).collect();
    assert_eq!(
        ks.len(),
        8,
        "the data has instants with several invocations"
    );
    for k in ks {
        let cut = original[k].minute;
        // Its own outcome flipped, every later invocation altered, more added later.
        let mut altered = original.clone();
        altered[k].completed = !altered[k].completed;
        for spec in altered.iter_mut().filter(|s| s.minute > cut) {
            spec.completed = !spec.completed;
            spec.phase = None;
            spec.session = Some("late".into());
        }
        altered.push(Spec {
            minute: cut,
            ..original[k].clone()
        });
        altered.push(Spec {
            minute: cut + 1,
            ..original[k].clone()
        });
        let (_dir, store_after) = store(&altered);
        let after = everything(&store_after);
        let unchanged = before
            .times
            .iter()
            .filter(|t| **t <= before.times[k])
            .count();
        // Compare by original index: the stored rows keep their (ts, seq) order, and
        // the rows added at the cut instant sort after the originals of that instant.
        for i in 0..unchanged {
            assert_eq!(
                before.rows[i], after.rows[i],
                "invocation {i} changed when invocation {k} and later ones changed"
            );
        }
    }
}

#[test]
fn a_window_sees_the_same_history_as_a_longer_window() {
    let original = specs(800);
    let (_dir, store) = store(&original);
    let all = everything(&store);
    for from_day in [2, 5, 7] {
        let from = start() + Duration::days(from_day) + Duration::minutes(13);
        let to = start() + Duration::days(9);
        let window = window_dataset(&store, from, to).unwrap();
        let first = all.times.iter().position(|t| *t >= from).unwrap();
        let last = all.times.iter().position(|t| *t >= to).unwrap_or(all.len());
        assert_eq!(window.len(), last - first);
        assert_eq!(
            window.rows,
            all.rows[first..last],
            "window from day {from_day}"
        );
        assert_eq!(window.labels, all.labels[first..last]);
    }
}

#[test]
fn a_single_prediction_sees_what_training_saw_for_the_same_invocation() {
    let original = specs(500);
    let (_dir, store) = store(&original);
    let all = everything(&store);
    for (i, spec) in original.iter().enumerate().step_by(23) {
        let context = Context {
            ts: all.times[i],
            user: &spec.user,
            skill: &spec.skill,
            phase: spec.phase.as_deref(),
            session: spec.session.as_deref(),
        };
        let features = context_features(&store, &context).unwrap();
        assert_eq!(features.row(), all.rows[i], "invocation {i}");
    }
}
