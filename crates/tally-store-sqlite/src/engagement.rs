//! The engagement tables: merged at ingest from a batch's delta, read by range.

use rusqlite::types::Value;
use rusqlite::{Connection, Transaction, params, params_from_iter};
use tally_store::rollup_fold::RollupDelta;
use tally_store::{SessionRow, UserDayRow};

use crate::Result;
use crate::dictionary::Dim;
use crate::rollup_read::code;

/// Merges the delta's user days and sessions into the tables: minima, maxima and sums,
/// so the result does not depend on the order batches arrive in.
pub(super) fn flush(delta: &RollupDelta, tx: &Transaction<'_>) -> Result<()> {
    let mut user = tx.prepare_cached(
        "INSERT INTO engagement_user (project, user, first_day) VALUES (?1, ?2, ?3)
         ON CONFLICT (project, user) DO UPDATE SET first_day = min(first_day, excluded.first_day)",
    )?;
    let mut day = tx.prepare_cached(
        "INSERT INTO engagement_day (project, day, user, first_ms, last_ms, events)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (project, day, user) DO UPDATE SET
             first_ms = min(first_ms, excluded.first_ms),
             last_ms = max(last_ms, excluded.last_ms),
             events = events + excluded.events",
    )?;
    for (&(project, user_code, day_start), activity) in &delta.user_days {
        user.execute(params![project, user_code, day_start])?;
        day.execute(params![
            project,
            day_start,
            user_code,
            activity.first_ms,
            activity.last_ms,
            i64::try_from(activity.events).unwrap_or(i64::MAX),
        ])?;
    }
    // The user is the one of the earliest event naming one, the smallest id at a tie:
    // `(user_ts, user)` compared as a pair.
    let mut session = tx.prepare_cached(
        "INSERT INTO engagement_session (project, session, start_ms, last_ms, end_ms, user, user_ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (project, session) DO UPDATE SET
             start_ms = min(start_ms, excluded.start_ms),
             last_ms = max(last_ms, excluded.last_ms),
             end_ms = CASE WHEN end_ms IS NULL THEN excluded.end_ms
                           WHEN excluded.end_ms IS NULL THEN end_ms
                           ELSE max(end_ms, excluded.end_ms) END,
             user = CASE WHEN excluded.user_ts IS NOT NULL AND (user_ts IS NULL
                              OR excluded.user_ts < user_ts
                              OR (excluded.user_ts = user_ts AND excluded.user < user))
                         THEN excluded.user ELSE user END,
             user_ts = CASE WHEN excluded.user_ts IS NOT NULL AND (user_ts IS NULL
                              OR excluded.user_ts < user_ts
                              OR (excluded.user_ts = user_ts AND excluded.user < user))
                         THEN excluded.user_ts ELSE user_ts END",
    )?;
    for ((project, key), span) in &delta.sessions {
        session.execute(params![
            project,
            key,
            span.start_ms,
            span.last_ms,
            span.end_ms,
            span.user.as_ref().map(|(_, user)| user.as_str()),
            span.user.as_ref().map(|(ts, _)| *ts),
        ])?;
    }
    Ok(())
}

/// The project clause and its value, `None` when the project was never seen.
fn project_clause(
    conn: &Connection,
    project: Option<&str>,
) -> Result<Option<(String, Vec<Value>)>> {
    match project {
        None => Ok(Some(("1".to_owned(), Vec::new()))),
        Some(name) => Ok(code(conn, Dim::Project, name)?
            .map(|code| ("s.project = ?3".to_owned(), vec![Value::Integer(code)]))),
    }
}

pub(super) fn user_days(
    conn: &Connection,
    project: Option<&str>,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<UserDayRow>> {
    let Some((clause, scope)) = project_clause(conn, project)? else {
        return Ok(Vec::new());
    };
    let mut values = vec![Value::Integer(from_day), Value::Integer(to_day)];
    values.extend(scope);
    let mut st = conn.prepare(&format!(
        "SELECT p.value, u.value, s.day, f.first_day, s.events
         FROM engagement_day s
         JOIN engagement_user f ON f.project = s.project AND f.user = s.user
         JOIN dict p ON p.dim = {project} AND p.code = s.project
         JOIN dict u ON u.dim = {user} AND u.code = s.user
         WHERE s.day >= ?1 AND s.day < ?2 AND {clause}
         ORDER BY p.value, u.value, s.day",
        project = Dim::Project as u8,
        user = Dim::User as u8,
    ))?;
    let rows = st.query_map(params_from_iter(values), |r| {
        Ok(UserDayRow {
            project: r.get(0)?,
            user: r.get(1)?,
            day: r.get(2)?,
            first_day: r.get(3)?,
            events: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn sessions(
    conn: &Connection,
    project: Option<&str>,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<SessionRow>> {
    let Some((clause, scope)) = project_clause(conn, project)? else {
        return Ok(Vec::new());
    };
    let mut values = vec![Value::Integer(from_ms), Value::Integer(to_ms)];
    values.extend(scope);
    let mut st = conn.prepare(&format!(
        "SELECT p.value, s.session, s.user, s.start_ms, s.last_ms, s.end_ms
         FROM engagement_session s
         JOIN dict p ON p.dim = {project} AND p.code = s.project
         WHERE s.start_ms >= ?1 AND s.start_ms < ?2 AND {clause}
         ORDER BY p.value, s.session",
        project = Dim::Project as u8,
    ))?;
    let rows = st.query_map(params_from_iter(values), |r| {
        Ok(SessionRow {
            project: r.get(0)?,
            session: r.get(1)?,
            user: r.get(2)?,
            start_ms: r.get(3)?,
            last_ms: r.get(4)?,
            end_ms: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
