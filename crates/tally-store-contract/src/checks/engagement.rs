//! The engagement tables: users' active days and sessions' spans, the same whatever the
//! batch split, the arrival order and the resends.

use tally_store::{Batch, SessionRow, UserDayRow};

use super::write;
use crate::events::{Exec, action, at, execution, request, session, skill};
use crate::{NewStore, Store};

const DAY: i64 = 86_400;

fn events() -> Vec<tally_models::Event> {
    vec![
        action("a1", "p1", at(100), "u1", "session_start", Some("s1")),
        skill("a2", "p1", at(400), "u1", "search", true, Some("s1")),
        action("a3", "p1", at(900), "u1", "session_end", Some("s1")),
        action("a4", "p1", at(DAY + 50), "u2", "click", Some("s2")),
        execution(
            "a5",
            "p1",
            at(DAY + 70),
            &Exec {
                user: Some("u1".to_owned()),
                ..Exec::default()
            },
        ),
        request("a6", "p2", at(DAY + 80), "/x", 200, 3.0, Some("u1")),
        session("a7", "p1", at(2 * DAY + 10), "u3", 120.0, 4, None, &[]),
        action("a8", "p1", at(DAY + 30), "u2", "click", Some("s2")),
        // A user's only action of the day.
        action("a9", "p1", at(150), "u2", "click", None),
    ]
}

fn read(store: &dyn Store, project: Option<&str>) -> (Vec<UserDayRow>, Vec<SessionRow>) {
    let from = at(0).timestamp();
    (
        store.user_days(project, from, from + 10 * DAY).unwrap(),
        store
            .engagement_sessions(
                project,
                at(0).timestamp_millis(),
                at(10 * DAY).timestamp_millis(),
            )
            .unwrap(),
    )
}

pub fn engagement_rows_agree_whatever_the_split_order_and_resends(new: NewStore<'_>) {
    let events = events();
    let whole = new();
    write(&*whole, &events);
    let (days, sessions) = read(&*whole, None);

    let day0 = at(0).timestamp();
    let row = |project: &str, user: &str, day: i64, first_day: i64, events: u64| UserDayRow {
        project: project.to_owned(),
        user: user.to_owned(),
        day,
        first_day,
        events,
    };
    assert_eq!(
        days,
        vec![
            row("p1", "u1", day0, day0, 3),
            row("p1", "u1", day0 + DAY, day0, 1),
            row("p1", "u2", day0, day0, 1),
            row("p1", "u2", day0 + DAY, day0, 2),
            row("p1", "u3", day0 + 2 * DAY, day0 + 2 * DAY, 1),
            row("p2", "u1", day0 + DAY, day0 + DAY, 1),
        ]
    );
    let ms = |seconds: i64| at(seconds).timestamp_millis();
    let span = |session: &str, user: &str, start: i64, last: i64, end: Option<i64>| SessionRow {
        project: "p1".to_owned(),
        session: session.to_owned(),
        user: Some(user.to_owned()),
        start_ms: ms(start),
        last_ms: ms(last),
        end_ms: end.map(ms),
    };
    assert_eq!(
        sessions,
        vec![
            span("s1", "u1", 100, 900, Some(900)),
            span("s2", "u2", DAY + 30, DAY + 50, None),
            span(
                "session-event:a7",
                "u3",
                2 * DAY + 10,
                2 * DAY + 130,
                Some(2 * DAY + 130)
            ),
        ]
    );
    assert_eq!(
        read(&*whole, Some("p2")).0,
        vec![row("p2", "u1", day0 + DAY, day0 + DAY, 1)]
    );
    assert_eq!(read(&*whole, Some("nowhere")), (Vec::new(), Vec::new()));
    // Only the sessions that started in the range, only the days in it.
    assert_eq!(
        store_sessions(&*whole, ms(DAY), ms(2 * DAY)),
        vec!["s2".to_owned()]
    );
    assert_eq!(
        whole
            .user_days(None, day0 + DAY, day0 + 2 * DAY)
            .unwrap()
            .len(),
        3
    );

    // Reversed, in three batches, each sent twice: the same rows.
    let split = new();
    let mut reversed = events.clone();
    reversed.reverse();
    for part in reversed.chunks(3) {
        for _ in 0..2 {
            split
                .write_batch(Batch {
                    events: part,
                    ..Batch::default()
                })
                .unwrap();
        }
    }
    assert_eq!(read(&*split, None), (days, sessions));
}

fn store_sessions(store: &dyn Store, from_ms: i64, to_ms: i64) -> Vec<String> {
    store
        .engagement_sessions(None, from_ms, to_ms)
        .unwrap()
        .into_iter()
        .map(|s| s.session)
        .collect()
}
