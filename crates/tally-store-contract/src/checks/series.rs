//! The raw series and the success predictor's skill history.

use tally_store::{Filter, RawMeasure, RawSeriesQuery, RawSeriesRow, SkillRowsQuery};

use super::write;
use crate::NewStore;
use crate::events::{at, session, skill};

pub fn skill_history_reads_rows_in_order_tallies_and_session_starts(new: NewStore<'_>) {
    let store = new();
    write(
        &*store,
        &[
            skill("k1", "p1", at(100), "u1", "search", true, Some("s1")),
            skill("k2", "p2", at(50), "u1", "edit", false, Some("s1")),
            skill("k3", "p1", at(100), "u2", "search", true, Some("s2")),
            skill("k4", "p1", at(500), "u1", "search", false, Some("s3")),
            skill("k5", "p1", at(400), "u2", "edit", true, None),
            skill("k6", "p1", at(300), "u1", "edit", true, Some("s1")),
        ],
    );
    let rows = |user| {
        let mut rows = Vec::new();
        store
            .skill_rows(
                &SkillRowsQuery {
                    from: at(0),
                    to: at(500),
                    user,
                },
                &mut |row| {
                    rows.push(row);
                    Ok(())
                },
            )
            .unwrap();
        rows
    };
    let all = rows(None);
    let seen: Vec<_> = all
        .iter()
        .map(|r| {
            (
                r.ts,
                r.user.as_str(),
                r.skill.as_str(),
                r.completed,
                r.session.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (at(50), "u1", "edit", false, Some("s1")),
            (at(100), "u1", "search", true, Some("s1")),
            (at(100), "u2", "search", true, Some("s2")),
            (at(300), "u1", "edit", true, Some("s1")),
            (at(400), "u2", "edit", true, None),
        ],
        "by time, then arrival; `to` exclusive"
    );
    assert!(all[1].seq < all[2].seq);
    assert!(all.iter().all(|r| r.phase.as_deref() == Some("build")));
    let u1: Vec<_> = rows(Some("u1")).iter().map(|r| r.ts).collect();
    assert_eq!(u1, vec![at(50), at(100), at(300)]);

    let mut tallies: Vec<_> = store
        .skill_tallies(at(450), None)
        .unwrap()
        .into_iter()
        .map(|t| (t.user, t.skill, t.invocations, t.completed))
        .collect();
    tallies.sort();
    let tally = |u: &str, s: &str, n, c| (u.to_owned(), s.to_owned(), n, c);
    assert_eq!(
        tallies,
        vec![
            tally("u1", "edit", 2, 1),
            tally("u1", "search", 1, 1),
            tally("u2", "edit", 1, 1),
            tally("u2", "search", 1, 1),
        ]
    );
    let u2: Vec<_> = store
        .skill_tallies(at(450), Some("u2"))
        .unwrap()
        .into_iter()
        .map(|t| t.user)
        .collect();
    assert_eq!(u2, vec!["u2".to_owned(), "u2".to_owned()]);

    // s1 is active in [200, 600) and began before 200; s3 began after; k5 has no session.
    assert_eq!(
        store.skill_session_starts(at(200), at(600), None).unwrap(),
        vec![("s1".to_owned(), at(50))]
    );
    assert_eq!(
        store
            .skill_session_starts(at(200), at(600), Some("s2"))
            .unwrap(),
        vec![("s2".to_owned(), at(100))]
    );
    assert!(
        store
            .skill_session_starts(at(40), at(600), Some("s3"))
            .unwrap()
            .is_empty()
    );
}

pub fn raw_series_count_per_period(new: NewStore<'_>) {
    let store = new();
    write(
        &*store,
        &[
            session("s1", "p1", at(3610), "u1", 60.0, 3, Some(0.5), &[]),
            session("s2", "p1", at(3620), "u1", 60.0, 3, None, &[]),
            session("s3", "p2", at(7300), "u2", 60.0, 3, Some(1.0), &[]),
            skill("k1", "p1", at(3600), "u1", "search", true, None),
            skill("k2", "p1", at(3700), "u2", "search", false, None),
            skill("k3", "p1", at(3800), "u2", "edit", true, None),
        ],
    );
    let hour = |h: i64| at(h * 3600).timestamp();
    let row = |bucket, rows, valued, sum| RawSeriesRow {
        bucket,
        rows,
        valued,
        sum,
    };
    let everything = Filter::default();
    let series = |measure, filter: &Filter, step, skill, user| {
        store
            .raw_series(&RawSeriesQuery {
                measure,
                filter,
                step_seconds: step,
                skill,
                user,
            })
            .unwrap()
    };
    assert_eq!(
        series(RawMeasure::Sessions, &everything, 3600, None, None),
        vec![row(hour(1), 2, 2, 2.0), row(hour(2), 1, 1, 1.0)]
    );
    assert_eq!(
        series(RawMeasure::SessionQuality, &everything, 3600, None, None),
        vec![row(hour(1), 2, 1, 0.5), row(hour(2), 1, 1, 1.0)]
    );
    assert_eq!(
        series(RawMeasure::Sessions, &everything, 3600, None, Some("u2")),
        vec![row(hour(2), 1, 1, 1.0)]
    );
    let p1 = super::project("p1");
    assert_eq!(
        series(RawMeasure::Sessions, &p1, 86_400, None, None),
        vec![row(hour(0), 2, 2, 2.0)]
    );
    assert_eq!(
        series(
            RawMeasure::SkillCompletion,
            &everything,
            86_400,
            Some("search"),
            None
        ),
        vec![row(hour(0), 2, 2, 1.0)]
    );
    let from_two = Filter {
        from: Some(at(7200)),
        ..Filter::default()
    };
    assert_eq!(
        series(RawMeasure::Sessions, &from_two, 3600, None, None),
        vec![row(hour(2), 1, 1, 1.0)]
    );
    assert!(
        series(
            RawMeasure::Sessions,
            &super::project("none"),
            3600,
            None,
            None
        )
        .is_empty()
    );
}
