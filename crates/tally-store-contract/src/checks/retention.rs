//! Retention: what expired goes, what is kept answers as before.

use tally_store::Filter;
use tally_store::rollup::{Family, ProjectScope, Resolution, RollupQuery, RollupRow};

use super::write;
use crate::NewStore;
use crate::events::{Exec, at, execution, session};

const DAY: i64 = 86_400;

/// `(resolution, bucket, key, n)` of the rows, sorted.
fn shape(rows: &[RollupRow]) -> Vec<(Resolution, i64, i64, u64)> {
    let mut shape: Vec<_> = rows
        .iter()
        .map(|r| (r.resolution, r.bucket, r.key, r.measures.n))
        .collect();
    shape.sort();
    shape
}

pub fn retention_deletes_expired_rows_and_keeps_the_rest_exact(new: NewStore<'_>) {
    let store = new();
    let x = Exec::default();
    // 2026-09-30 10:00, 2026-10-01 10:00 and 2026-10-02 10:00.
    write(
        &*store,
        &[
            execution("e1", "p1", at(10 * 3600), &x),
            execution("e2", "p1", at(DAY + 10 * 3600), &x),
            execution("e3", "p1", at(2 * DAY + 10 * 3600), &x),
            session(
                "s1",
                "p1",
                at(10 * 3600 + 300),
                "u1",
                60.0,
                2,
                Some(0.5),
                &[],
            ),
            session(
                "s2",
                "p1",
                at(2 * DAY + 10 * 3600),
                "u1",
                60.0,
                2,
                Some(0.5),
                &[],
            ),
        ],
    );
    let kept_range = |by| RollupQuery {
        family: Family::Executions,
        projects: ProjectScope::All,
        from: Some(at(DAY)),
        to: None,
        by,
    };
    let before_hours = shape(&store.rollups(&kept_range(Some(Resolution::Hour))).unwrap());
    let before_coarse = shape(&store.rollups(&kept_range(None)).unwrap());
    // Raw events before 2026-10-01, rollups before 2026-10-01 12:00.
    let outcome = store
        .delete_expired(at(DAY), at(DAY + 12 * 3600), at(DAY + 12 * 3600))
        .unwrap();
    assert_eq!(outcome.raw_rows_deleted, 2, "e1 and s1");
    assert!(outcome.rollup_rows_deleted > 0);
    assert_eq!(
        store.totals(&Filter::default()).unwrap().executions.count,
        2
    );
    // The kept range answers as before; September's rows (hours, days, its month) went.
    assert_eq!(
        shape(&store.rollups(&kept_range(Some(Resolution::Hour))).unwrap()),
        before_hours
    );
    assert_eq!(
        shape(&store.rollups(&kept_range(None)).unwrap()),
        before_coarse
    );
    let everything = RollupQuery {
        family: Family::Executions,
        projects: ProjectScope::All,
        from: None,
        to: None,
        by: None,
    };
    let n: u64 = store
        .rollups(&everything)
        .unwrap()
        .iter()
        .map(|r| r.measures.n)
        .sum();
    assert_eq!(n, 2);
    // The learner summary outlives the raw sessions: s1 answers from it.
    let activity = store.learner_activity("u1", None, None).unwrap();
    assert_eq!(activity.len(), 2);
    assert_eq!(activity.iter().map(|a| a.sessions).sum::<u64>(), 2);
    assert_eq!(activity[0].first, at(10 * 3600 + 300));
    assert_eq!(store.learning_sessions("u1", None, None).unwrap().len(), 1);
    assert_eq!(store.learners(None).unwrap(), vec!["u1".to_owned()]);
    // Nothing more to delete at the same cutoffs.
    let again = store
        .delete_expired(at(DAY), at(DAY + 12 * 3600), at(DAY + 12 * 3600))
        .unwrap();
    assert_eq!((again.raw_rows_deleted, again.rollup_rows_deleted), (0, 0));
}
