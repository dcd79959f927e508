//! A learner's history read through the store (the in-memory adapter): their sessions up
//! to an instant, in their time zone, from raw sessions or from the summary once
//! retention removed them. Expected figures are worked out by hand.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tally_learning::progress::totals;
use tally_learning::streak::of_activity;
use tally_learning::{LearnerHistory, LearningConfig};
use tally_models::Event;
use tally_store::{Batch, EventStore, LearningWriter, Retention};
use tally_store_contract::events::session;
use tally_store_memory::MemoryStore;

/// 2026-10-`day` at `hour:minute` UTC.
fn oct(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, hour, minute, 0)
        .unwrap()
}

/// A session of ana's: `minutes` long, 4 exchanges.
fn ana(
    id: &str,
    project: &str,
    at: DateTime<Utc>,
    minutes: f64,
    quality: Option<f64>,
    topics: &[&str],
) -> Event {
    session(id, project, at, "ana", minutes * 60.0, 4, quality, topics)
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

/// What a history adds up to: sessions, minutes, average quality, topics, and the
/// current and longest streak.
#[derive(Debug, PartialEq)]
struct Figures {
    sessions: u64,
    minutes: f64,
    average_quality: Option<f64>,
    topics: u64,
    streak: (u32, u32),
}

fn figures(store: &MemoryStore, project: Option<&str>, at: DateTime<Utc>) -> Figures {
    let history = LearnerHistory::load(store, "ana", project, at).unwrap();
    let progress = totals(&history.activity);
    let streak = of_activity(
        &history.activity,
        history.time_zone,
        at,
        &LearningConfig::default(),
    );
    Figures {
        sessions: progress.sessions,
        minutes: progress.minutes,
        average_quality: progress.average_quality,
        topics: progress.topics,
        streak: (streak.current_days, streak.longest_days),
    }
}

/// Three days in a row, then a gap of four days, then two sessions on one day.
fn three_days_then_a_gap() -> Vec<Event> {
    vec![
        ana("s1", "p1", oct(1, 9, 0), 30.0, Some(0.5), &["rust"]),
        ana("s2", "p1", oct(2, 9, 0), 15.0, None, &["rust", "sql"]),
        ana("s3", "p2", oct(3, 9, 0), 45.0, Some(1.0), &[]),
        ana("s4", "p1", oct(8, 9, 0), 10.0, Some(0.75), &["go"]),
        ana("s5", "p1", oct(8, 9, 10), 20.0, None, &[]),
    ]
}

#[test]
fn history_up_to_an_instant() {
    let store = store(&three_days_then_a_gap());
    let cases = [
        // Before anything.
        (
            oct(1, 8, 0),
            Figures {
                sessions: 0,
                minutes: 0.0,
                average_quality: None,
                topics: 0,
                streak: (0, 0),
            },
        ),
        // The three days: a streak of three, still current within the 36 h grace.
        (
            oct(4, 12, 0),
            Figures {
                sessions: 3,
                minutes: 90.0,
                average_quality: Some(0.75),
                topics: 2,
                streak: (3, 3),
            },
        ),
        // Five days later the streak is broken (more than two missed days).
        (
            oct(7, 12, 0),
            Figures {
                sessions: 3,
                minutes: 90.0,
                average_quality: Some(0.75),
                topics: 2,
                streak: (0, 3),
            },
        ),
        // Two sessions on the 8th count one day.
        (
            oct(8, 12, 0),
            Figures {
                sessions: 5,
                minutes: 120.0,
                average_quality: Some(0.75),
                topics: 3,
                streak: (1, 3),
            },
        ),
    ];
    for (at, expected) in cases {
        assert_eq!(figures(&store, None, at), expected, "at {at}");
    }
    // One project's sessions only: p2 holds s3.
    assert_eq!(
        figures(&store, Some("p2"), oct(8, 12, 0)),
        Figures {
            sessions: 1,
            minutes: 45.0,
            average_quality: Some(1.0),
            topics: 0,
            streak: (0, 1)
        }
    );
}

#[test]
fn the_summary_answers_the_same_once_raw_sessions_are_gone() {
    let store = store(&three_days_then_a_gap());
    let at = oct(8, 12, 0);
    let before = figures(&store, None, at);
    let deleted = store
        .delete_expired(oct(30, 0, 0), oct(1, 0, 0), oct(1, 0, 0))
        .unwrap();
    assert_eq!(deleted.raw_rows_deleted, 5);
    let history = LearnerHistory::load(&store, "ana", None, at).unwrap();
    // s4 and s5 share a 15-minute bucket: four entries for five sessions.
    assert_eq!(history.activity.len(), 4);
    assert_eq!(figures(&store, None, at), before);
}

#[test]
fn days_are_counted_in_the_learners_time_zone() {
    // 23:30 UTC on the 1st and 00:30 UTC on the 2nd: two days in UTC, one in Tokyo
    // (08:30 and 09:30 on the 2nd).
    let store = store(&[
        ana("late", "p1", oct(1, 23, 30), 10.0, None, &[]),
        ana("early", "p1", oct(2, 0, 30), 10.0, None, &[]),
    ]);
    let at = oct(2, 1, 0);
    assert_eq!(figures(&store, None, at).streak, (2, 2));
    store.set_learner_time_zone("ana", "Asia/Tokyo").unwrap();
    let history = LearnerHistory::load(&store, "ana", None, at).unwrap();
    assert_eq!(history.time_zone, chrono_tz::Asia::Tokyo);
    assert_eq!(figures(&store, None, at).streak, (1, 1));
    // Another learner's setting is not ana's.
    store
        .set_learner_time_zone("bo", "America/New_York")
        .unwrap();
    assert_eq!(
        figures(&store, None, at + Duration::minutes(1)).streak,
        (1, 1)
    );
}
