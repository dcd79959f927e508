//! Retention: raw events (with their child rows) before one instant, hour and day
//! rollups and agent load before another, month rollups of months that ended before it,
//! and the minute tier before a third, in one transaction, as the SQLite store deletes
//! them. Ledger entries stay: an expired event sent again is still a duplicate.

use chrono::{DateTime, Utc};
use tally_store::rollup::Resolution;
use tally_store::rollup_plan::floor_to;

use crate::{MERGE_LOCK, PostgresStore, Result, RetentionOutcome};

/// Child tables, the column naming their parent's `seq`, and the parent.
const RAW_CHILDREN: [(&str, &str, &str); 3] = [
    ("run_model", "run_seq", "run"),
    ("session_topic", "session_seq", "session"),
    ("outcome_metric", "outcome_seq", "outcome"),
];

/// The raw tables, one per kind.
pub(crate) const RAW_TABLES: [&str; 11] = [
    "execution",
    "run",
    "job",
    "session",
    "skill",
    "outcome",
    "agent_status",
    "request",
    "action",
    "system",
    "error",
];

impl PostgresStore {
    /// Deletes what is past its age; see [`tally_store::Retention::delete_expired`].
    ///
    /// # Errors
    /// Any database failure; then nothing was deleted.
    pub fn delete_expired(
        &self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> Result<RetentionOutcome> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        let mut outcome = RetentionOutcome::default();
        let raw_cutoff = raw_before.timestamp_millis();
        for (child, parent_seq, parent) in RAW_CHILDREN {
            tx.execute(
                &format!(
                    "DELETE FROM tally.{child} WHERE {parent_seq} IN
                     (SELECT seq FROM tally.{parent} WHERE ts < $1)"
                ),
                &[&raw_cutoff],
            )?;
        }
        for table in RAW_TABLES {
            outcome.raw_rows_deleted += tx.execute(
                &format!("DELETE FROM tally.{table} WHERE ts < $1"),
                &[&raw_cutoff],
            )?;
        }
        // The shared rows change only under the merge lock: a writer merging meanwhile
        // would write a deleted row back.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MERGE_LOCK])?;
        let cutoff = rollups_before.timestamp();
        outcome.rollup_rows_deleted += tx.execute(
            "DELETE FROM tally.rollup
             WHERE (resolution IN ($1, $2) AND bucket < $3) OR (resolution = $4 AND bucket < $5)",
            &[
                &(Resolution::Hour as i16),
                &(Resolution::Day as i16),
                &floor_to(Resolution::Day, cutoff),
                &(Resolution::Month as i16),
                // A month row goes only when its whole month lies before the cutoff.
                &floor_to(Resolution::Month, cutoff),
            ],
        )?;
        tx.execute("DELETE FROM tally.agent_load WHERE hour < $1", &[&cutoff])?;
        let minute_cutoff = minutes_before.timestamp();
        outcome.minute_rows_deleted += tx.execute(
            "DELETE FROM tally.rollup_minute WHERE minute < $1",
            &[&minute_cutoff],
        )?;
        tx.execute(
            "DELETE FROM tally.recent_user WHERE minute < $1",
            &[&minute_cutoff],
        )?;
        tx.commit()?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use tally_store::Batch;
    use tally_store_contract::events::{Exec, at, execution, run, session};
    use tally_store_contract::postgres_test::TestDatabase;

    use crate::{PostgresOptions, PostgresStore};

    #[test]
    fn expired_raw_rows_go_with_their_child_rows_and_their_ids_stay_taken() {
        let database = TestDatabase::create();
        let store = PostgresStore::open(database.url(), PostgresOptions::default())
            .expect("open the test database");
        let old = [
            execution("x", "alpha", at(0), &Exec::default()),
            run(
                "r",
                "alpha",
                at(0),
                1.0,
                None,
                tally_models::QaStatus::Passed,
                &[("m", 1, 1, None)],
            ),
            session("s", "alpha", at(0), "ann", 1.0, 1, None, &["rust"]),
        ];
        let kept = [execution("y", "alpha", at(3 * 86_400), &Exec::default())];
        for events in [&old[..], &kept[..]] {
            store
                .write_batch(Batch {
                    events,
                    ..Batch::default()
                })
                .expect("written");
        }
        let outcome = store
            .delete_expired(at(86_400), at(0), at(0))
            .expect("retention");
        assert_eq!(outcome.raw_rows_deleted, 3);
        assert_eq!(outcome.rollup_rows_deleted, 0);
        let mut client = store.conn().expect("a connection");
        for (table, left) in [
            ("execution", 1),
            ("run", 0),
            ("run_model", 0),
            ("session", 0),
            ("session_topic", 0),
            ("ledger", 4),
        ] {
            let n: i64 = client
                .query_one(&format!("SELECT count(*) FROM tally.{table}"), &[])
                .expect("counted")
                .get(0);
            assert_eq!(n, left, "{table}");
        }
        // The summary of the sessions stays: it is what outlives the raw tier.
        let sessions: i64 = client
            .query_one("SELECT sessions FROM tally.learner", &[])
            .expect("ann")
            .get(0);
        assert_eq!(sessions, 1);
        let resent = store
            .write_batch(Batch {
                events: &old[..1],
                ..Batch::default()
            })
            .expect("written");
        assert_eq!((resent.accepted, resent.duplicates), (0, 1));
        // Hour and day rows before the cutoff's day go, and month rows of months ended.
        let outcome = store
            .delete_expired(at(86_400), at(2 * 86_400), at(0))
            .expect("retention");
        assert_eq!(outcome.raw_rows_deleted, 0);
        let left_before: i64 = client
            .query_one(
                "SELECT count(*) FROM tally.rollup WHERE resolution < 2 AND bucket < $1",
                &[&at(2 * 86_400).timestamp()],
            )
            .expect("counted")
            .get(0);
        assert!(outcome.rollup_rows_deleted > 0);
        assert_eq!(left_before, 0);
    }
}
