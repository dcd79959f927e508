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

const FOLD_ACTIVITY: &str = concat!(
    "INSERT INTO learner_activity (user, quarter, project, sessions, exchanges, duration_us,
        quality_sum, rated, excellent, first_ts, last_ts)
     SELECT user, ",
    quarter!("ts"),
    ", project, count(*), sum(exchanges), sum(duration_us), total(quality), count(quality),
        count(CASE WHEN quality >= 0.9 THEN 1 END), min(ts), max(ts)
     FROM session WHERE seq > ?1 AND seq <= ?2 GROUP BY 1, 2, 3
     ON CONFLICT (user, quarter, project) DO UPDATE SET
        sessions = sessions + excluded.sessions,
        exchanges = exchanges + excluded.exchanges,
        duration_us = duration_us + excluded.duration_us,
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
