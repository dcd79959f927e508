//! The engagement tables: merged in the write's transaction by upserts of minima, maxima
//! and sums (so servers writing at once, in any order, agree), read by range.

use postgres::Transaction;
use tally_store::rollup_fold::RollupDelta;
use tally_store::{Dim, SessionRow, UserDayRow};

use crate::read::Conditions;
use crate::{PostgresStore, Result};

/// Merges the delta's user days and sessions, rows in key order so that concurrent
/// writers lock them in the same order.
pub(crate) fn merge(tx: &mut Transaction<'_>, delta: &RollupDelta) -> Result<()> {
    if !delta.user_days.is_empty() {
        let mut days: Vec<_> = delta.user_days.iter().collect();
        days.sort_unstable_by_key(|(key, _)| **key);
        let project: Vec<i64> = days.iter().map(|(k, _)| k.0).collect();
        let user: Vec<i64> = days.iter().map(|(k, _)| k.1).collect();
        let day: Vec<i64> = days.iter().map(|(k, _)| k.2).collect();
        let first: Vec<i64> = days.iter().map(|(_, a)| a.first_ms).collect();
        let last: Vec<i64> = days.iter().map(|(_, a)| a.last_ms).collect();
        let events: Vec<i64> = days
            .iter()
            .map(|(_, a)| i64::try_from(a.events).unwrap_or(i64::MAX))
            .collect();
        tx.execute(
            "INSERT INTO tally.engagement_user (project, user_code, first_day)
             SELECT project, user_code, min(day)
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(project, user_code, day)
             GROUP BY project, user_code
             ORDER BY project, user_code
             ON CONFLICT (project, user_code) DO UPDATE SET
                 first_day = least(tally.engagement_user.first_day, excluded.first_day)",
            &[&project, &user, &day],
        )?;
        tx.execute(
            "INSERT INTO tally.engagement_day (project, user_code, day, first_ms, last_ms, events)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                                  $5::bigint[], $6::bigint[])
             ON CONFLICT (project, day, user_code) DO UPDATE SET
                 first_ms = least(tally.engagement_day.first_ms, excluded.first_ms),
                 last_ms = greatest(tally.engagement_day.last_ms, excluded.last_ms),
                 events = tally.engagement_day.events + excluded.events",
            &[&project, &user, &day, &first, &last, &events],
        )?;
    }
    if !delta.sessions.is_empty() {
        let mut sessions: Vec<_> = delta.sessions.iter().collect();
        sessions.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let project: Vec<i64> = sessions.iter().map(|(k, _)| k.0).collect();
        let key: Vec<&str> = sessions.iter().map(|(k, _)| k.1.as_str()).collect();
        let start: Vec<i64> = sessions.iter().map(|(_, s)| s.start_ms).collect();
        let last: Vec<i64> = sessions.iter().map(|(_, s)| s.last_ms).collect();
        let end: Vec<Option<i64>> = sessions.iter().map(|(_, s)| s.end_ms).collect();
        let user: Vec<Option<&str>> = sessions
            .iter()
            .map(|(_, s)| s.user.as_ref().map(|(_, u)| u.as_str()))
            .collect();
        let user_ts: Vec<Option<i64>> = sessions
            .iter()
            .map(|(_, s)| s.user.as_ref().map(|(ts, _)| *ts))
            .collect();
        // The user of the earliest event naming one wins, the smallest id at a tie;
        // ids compare bytewise, as the other stores compare them.
        tx.execute(
            "INSERT INTO tally.engagement_session
                 (project, session, start_ms, last_ms, end_ms, user_id, user_ts)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[],
                                  $5::bigint[], $6::text[], $7::bigint[])
             ON CONFLICT (project, session) DO UPDATE SET
                 start_ms = least(tally.engagement_session.start_ms, excluded.start_ms),
                 last_ms = greatest(tally.engagement_session.last_ms, excluded.last_ms),
                 end_ms = greatest(tally.engagement_session.end_ms, excluded.end_ms),
                 user_id = CASE WHEN excluded.user_ts IS NOT NULL
                         AND (tally.engagement_session.user_ts IS NULL
                              OR (excluded.user_ts, excluded.user_id COLLATE \"C\")
                                 < (tally.engagement_session.user_ts,
                                    tally.engagement_session.user_id COLLATE \"C\"))
                     THEN excluded.user_id ELSE tally.engagement_session.user_id END,
                 user_ts = CASE WHEN excluded.user_ts IS NOT NULL
                         AND (tally.engagement_session.user_ts IS NULL
                              OR (excluded.user_ts, excluded.user_id COLLATE \"C\")
                                 < (tally.engagement_session.user_ts,
                                    tally.engagement_session.user_id COLLATE \"C\"))
                     THEN excluded.user_ts ELSE tally.engagement_session.user_ts END",
            &[&project, &key, &start, &last, &end, &user, &user_ts],
        )?;
    }
    Ok(())
}

impl PostgresStore {
    /// The project's code as a condition on `s.project`; `None` when it was never seen.
    fn engagement_scope(
        &self,
        client: &mut postgres::Client,
        project: Option<&str>,
        conditions: &mut Conditions,
    ) -> Result<bool> {
        if let Some(name) = project {
            let Some(code) = self.dict.find(client, Dim::Project, name)? else {
                return Ok(false);
            };
            conditions.push("s.project =", code);
        }
        Ok(true)
    }

    pub fn user_days(
        &self,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<UserDayRow>> {
        let mut client = self.conn()?;
        let mut conditions = Conditions::default();
        if !self.engagement_scope(&mut client, project, &mut conditions)? {
            return Ok(Vec::new());
        }
        conditions.push("s.day >=", from_day);
        conditions.push("s.day <", to_day);
        conditions.push("p.dim =", i16::from(Dim::Project as u8));
        conditions.push("u.dim =", i16::from(Dim::User as u8));
        let rows = client.query(
            &format!(
                "SELECT p.value, u.value, s.day, f.first_day, s.events
                 FROM tally.engagement_day s
                 JOIN tally.engagement_user f ON f.project = s.project AND f.user_code = s.user_code
                 JOIN tally.dict p ON p.code = s.project
                 JOIN tally.dict u ON u.code = s.user_code
                 WHERE {}
                 ORDER BY p.value COLLATE \"C\", u.value COLLATE \"C\", s.day",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        Ok(rows
            .iter()
            .map(|row| UserDayRow {
                project: row.get(0),
                user: row.get(1),
                day: row.get(2),
                first_day: row.get(3),
                events: u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
            })
            .collect())
    }

    pub fn engagement_sessions(
        &self,
        project: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SessionRow>> {
        let mut client = self.conn()?;
        let mut conditions = Conditions::default();
        if !self.engagement_scope(&mut client, project, &mut conditions)? {
            return Ok(Vec::new());
        }
        conditions.push("s.start_ms >=", from_ms);
        conditions.push("s.start_ms <", to_ms);
        conditions.push("p.dim =", i16::from(Dim::Project as u8));
        let rows = client.query(
            &format!(
                "SELECT p.value, s.session, s.user_id, s.start_ms, s.last_ms, s.end_ms
                 FROM tally.engagement_session s
                 JOIN tally.dict p ON p.code = s.project
                 WHERE {}
                 ORDER BY p.value COLLATE \"C\", s.session COLLATE \"C\"",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        Ok(rows
            .iter()
            .map(|row| SessionRow {
                project: row.get(0),
                session: row.get(1),
                user: row.get(2),
                start_ms: row.get(3),
                last_ms: row.get(4),
                end_ms: row.get(5),
            })
            .collect())
    }
}
