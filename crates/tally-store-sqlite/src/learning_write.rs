//! The learner summary's write side: folds the `session` rows a write transaction
//! stored into `learner_activity`, `learner_topic_activity` and `learner` (migration 7)
//! before it commits, so the summary counts exactly the sessions the raw tier holds or
//! once held.
//!
//! Only sessions with a `seq` above `meta.learner_folded_seq` are folded, and the mark
//! moves past them in the same transaction: a duplicate never gets a `seq`, and a
//! session is never folded twice, whatever the batch split or the number of resends.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::Result;

/// The 15-minute UTC bucket of a `ts` column (epoch milliseconds), rounded down.
macro_rules! quarter {
    ($ts:literal) => {
        concat!(
            "CASE WHEN ",
            $ts,
            " >= 0 THEN ",
            $ts,
            " / 900000 ELSE (",
            $ts,
            " - 899999) / 900000 END"
        )
    };
}

// `duration_us` sums saturate instead of failing the write. A session lasts at most
// 365 days (`tally_models::bounds::MAX_DURATION_S`): 3.1536e13 µs, so 292,472 sessions
// of one learner in one quarter hour of one project wrap a 64-bit sum, and SQLite's
// `sum()` would then fail the whole batch. `total()` adds in doubles (exact while the
// sum stays below 2^53 µs, 285 years), and CAST to INTEGER caps at i64::MAX µs (292,000
// years); adding to the stored value, SQLite's integer `+` turns to a double on
// overflow, which the CAST caps the same way. `exchanges` (at most 1e9 each) would need
// 9.2e9 sessions in one bucket and stays `sum()`.
const FOLD_ACTIVITY: &str = concat!(
    "INSERT INTO learner_activity (user, quarter, project, sessions, exchanges, duration_us,
        quality_sum, rated, excellent, first_ts, last_ts)
     SELECT user, ",
    quarter!("ts"),
    ", project, count(*), sum(exchanges), CAST(total(duration_us) AS INTEGER), total(quality),
        count(quality),
        count(CASE WHEN quality >= 0.9 THEN 1 END), min(ts), max(ts)
     FROM session WHERE seq > ?1 AND seq <= ?2 GROUP BY 1, 2, 3
     ON CONFLICT (user, quarter, project) DO UPDATE SET
        sessions = sessions + excluded.sessions,
        exchanges = exchanges + excluded.exchanges,
        duration_us = CAST(duration_us + excluded.duration_us AS INTEGER),
        quality_sum = quality_sum + excluded.quality_sum,
        rated = rated + excluded.rated,
        excellent = excellent + excluded.excellent,
        first_ts = min(first_ts, excluded.first_ts),
        last_ts = max(last_ts, excluded.last_ts)"
);

const FOLD_TOPICS: &str = concat!(
    "INSERT INTO learner_topic_activity (user, quarter, project, topic, sessions, rated, quality_sum)
     SELECT s.user, ",
    quarter!("s.ts"),
    ", s.project, t.topic, count(*), count(s.quality), total(s.quality)
     FROM session s JOIN session_topic t ON t.session_seq = s.seq
     WHERE s.seq > ?1 AND s.seq <= ?2 GROUP BY 1, 2, 3, 4
     ON CONFLICT (user, quarter, project, topic) DO UPDATE SET
        sessions = sessions + excluded.sessions,
        rated = rated + excluded.rated,
        quality_sum = quality_sum + excluded.quality_sum"
);

const FOLD_LEARNERS: &str = "INSERT INTO learner (user, revision, sessions, first_ts, last_ts)
     SELECT user, ?3, count(*), min(ts), max(ts) FROM session WHERE seq > ?1 AND seq <= ?2 GROUP BY user
     ON CONFLICT (user) DO UPDATE SET
        revision = excluded.revision,
        sessions = sessions + excluded.sessions,
        first_ts = min(first_ts, excluded.first_ts),
        last_ts = max(last_ts, excluded.last_ts)";

/// The next learner revision: above every stored one.
pub(super) const NEXT_REVISION: &str = "SELECT coalesce(max(revision), 0) + 1 FROM learner";

/// Folds the sessions stored since the last fold into the learner summary. Called once
/// per write transaction after its raw rows are inserted; costs two index lookups when
/// the transaction stored no session.
///
/// # Errors
/// Any SQLite failure (the caller's transaction then rolls back).
pub(super) fn fold_new_sessions(tx: &Transaction<'_>) -> Result<()> {
    let folded: i64 = tx
        .prepare_cached("SELECT value FROM meta WHERE key = 'learner_folded_seq'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let newest: Option<i64> = tx
        .prepare_cached("SELECT max(seq) FROM session")?
        .query_row([], |r| r.get(0))?;
    let Some(newest) = newest.filter(|n| *n > folded) else {
        return Ok(());
    };
    let revision: i64 = tx
        .prepare_cached(NEXT_REVISION)?
        .query_row([], |r| r.get(0))?;
    tx.prepare_cached(FOLD_ACTIVITY)?
        .execute(params![folded, newest])?;
    tx.prepare_cached(FOLD_TOPICS)?
        .execute(params![folded, newest])?;
    tx.prepare_cached(FOLD_LEARNERS)?
        .execute(params![folded, newest, revision])?;
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('learner_folded_seq', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([newest])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    /// The longest session the validator accepts, in microseconds.
    const LONGEST_US: i64 = tally_models::bounds::MAX_DURATION_S as i64 * 1_000_000;

    /// Stores `count` sessions of the longest duration, one learner, one quarter hour.
    fn longest_sessions(conn: &Connection, count: i64) {
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO session (ts, project, user, duration_us, exchanges)
             SELECT 1700000000000, 1, 1, ?2, 1 FROM n",
            params![count, LONGEST_US],
        )
        .unwrap();
    }

    fn fold(conn: &mut Connection) -> Result<i64> {
        let tx = conn.transaction()?;
        fold_new_sessions(&tx)?;
        let sum = tx.query_row("SELECT duration_us FROM learner_activity", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(sum)
    }

    #[test]
    fn durations_at_the_bound_saturate_instead_of_failing_the_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        super::super::schema::migrate(&mut conn, "t.db").unwrap();
        // Within 64 bits: exact.
        longest_sessions(&conn, 100);
        assert_eq!(fold(&mut conn).unwrap(), 100 * LONGEST_US);
        // One batch past 2^63 µs, then more added to the stored sum: capped.
        let wrap = i64::MAX / LONGEST_US + 1;
        longest_sessions(&conn, wrap);
        assert_eq!(fold(&mut conn).unwrap(), i64::MAX);
        longest_sessions(&conn, 1);
        assert_eq!(fold(&mut conn).unwrap(), i64::MAX);
    }
}
