//! The learner summary's write side: the sessions a write stored, folded into
//! `learner_activity`, `learner_topic_activity` and `learner` in the same transaction
//! (under [`crate::MERGE_LOCK`]), as the SQLite store folds them: per learner, 15-minute
//! UTC bucket and project, and one new revision for every learner whose sessions changed.

use postgres::Transaction;

use crate::Result;

/// Folds the sessions stored with sequence numbers `seqs` into the summary.
pub(super) fn fold_sessions(tx: &mut Transaction<'_>, seqs: &[i64]) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO tally.learner_activity AS a (user_id, quarter, project, sessions,
             exchanges, duration_us, quality_sum, rated, excellent, first_ts, last_ts)
         SELECT user_id, floor(ts / 900000.0)::bigint, project, count(*), sum(exchanges),
             sum(duration_us), coalesce(sum(quality), 0), count(quality),
             count(*) FILTER (WHERE quality >= 0.9), min(ts), max(ts)
         FROM tally.session WHERE seq = ANY($1) GROUP BY 1, 2, 3
         ON CONFLICT (user_id, quarter, project) DO UPDATE SET
             sessions = a.sessions + excluded.sessions,
             exchanges = a.exchanges + excluded.exchanges,
             duration_us = a.duration_us + excluded.duration_us,
             quality_sum = a.quality_sum + excluded.quality_sum,
             rated = a.rated + excluded.rated,
             excellent = a.excellent + excluded.excellent,
             first_ts = least(a.first_ts, excluded.first_ts),
             last_ts = greatest(a.last_ts, excluded.last_ts)",
        &[&seqs],
    )?;
    tx.execute(
        "INSERT INTO tally.learner_topic_activity AS a (user_id, quarter, project, topic,
             sessions, rated, quality_sum)
         SELECT s.user_id, floor(s.ts / 900000.0)::bigint, s.project, t.topic, count(*),
             count(s.quality), coalesce(sum(s.quality), 0)
         FROM tally.session s JOIN tally.session_topic t ON t.session_seq = s.seq
         WHERE s.seq = ANY($1) GROUP BY 1, 2, 3, 4
         ON CONFLICT (user_id, quarter, project, topic) DO UPDATE SET
             sessions = a.sessions + excluded.sessions,
             rated = a.rated + excluded.rated,
             quality_sum = a.quality_sum + excluded.quality_sum",
        &[&seqs],
    )?;
    let revision: i64 = tx
        .query_one("SELECT nextval('tally.learner_revision_seq')", &[])?
        .get(0);
    tx.execute(
        "INSERT INTO tally.learner AS l (user_id, revision, sessions, first_ts, last_ts)
         SELECT user_id, $2, count(*), min(ts), max(ts)
         FROM tally.session WHERE seq = ANY($1) GROUP BY user_id
         ON CONFLICT (user_id) DO UPDATE SET
             revision = excluded.revision,
             sessions = l.sessions + excluded.sessions,
             first_ts = least(l.first_ts, excluded.first_ts),
             last_ts = greatest(l.last_ts, excluded.last_ts)",
        &[&seqs, &revision],
    )?;
    Ok(())
}
