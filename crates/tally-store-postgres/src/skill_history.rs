//! The success predictor's reads of `tally.skill`: a window's rows in time order,
//! streamed, and per user-and-skill tallies and session starts before it.

use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::types::ToSql;

use crate::{PostgresStore, Result, SkillRow, SkillRowsQuery, SkillTally, from_ms, ms};

/// Rows fetched from the server at a time while streaming a window.
const FETCH_ROWS: i32 = 2_000;

fn skill_row(row: &Row) -> Result<SkillRow> {
    Ok(SkillRow {
        seq: row.try_get(0)?,
        ts: from_ms(row.try_get(1)?)?,
        user: row.try_get(2)?,
        skill: row.try_get(3)?,
        completed: row.try_get(4)?,
        session: row.try_get(5)?,
        phase: row.try_get(6)?,
    })
}

/// A count read back from PostgreSQL, where it is signed.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl PostgresStore {
    /// Calls `visit` with every row of `query` by `(ts, seq)`, fetching them a few
    /// thousand at a time through a portal: a window of any size is never held whole.
    pub fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> tally_store::Result<()>,
    ) -> Result<()> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        let (from, to) = (ms(query.from), ms(query.to));
        let params: [&(dyn ToSql + Sync); 3] = [&from, &to, &query.user];
        let portal = tx.bind(
            "SELECT seq, ts, user_id, skill, completed, session_id, phase FROM tally.skill
             WHERE ts >= $1 AND ts < $2 AND ($3::text IS NULL OR user_id = $3)
             ORDER BY ts, seq",
            &params,
        )?;
        loop {
            let rows = tx.query_portal(&portal, FETCH_ROWS)?;
            for row in &rows {
                visit(skill_row(row)?)?;
            }
            if rows.len() < FETCH_ROWS as usize {
                break;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn skill_tallies(
        &self,
        before: DateTime<Utc>,
        user: Option<&str>,
    ) -> Result<Vec<SkillTally>> {
        let rows = self.conn()?.query(
            "SELECT user_id, skill, count(*), count(*) FILTER (WHERE completed)
             FROM tally.skill
             WHERE ts < $1 AND ($2::text IS NULL OR user_id = $2)
             GROUP BY user_id, skill
             ORDER BY user_id COLLATE \"C\", skill COLLATE \"C\"",
            &[&ms(before), &user],
        )?;
        rows.iter()
            .map(|row| {
                Ok(SkillTally {
                    user: row.try_get(0)?,
                    skill: row.try_get(1)?,
                    invocations: count(row.try_get(2)?),
                    completed: count(row.try_get(3)?),
                })
            })
            .collect()
    }

    pub fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        let before = ms(before);
        let rows = match session {
            Some(session) => self.conn()?.query(
                "SELECT session_id, min(ts) FROM tally.skill
                 WHERE session_id = $1 AND ts < $2
                 GROUP BY session_id",
                &[&session, &before],
            )?,
            None => self.conn()?.query(
                "SELECT session_id, min(ts) FROM tally.skill
                 WHERE ts < $1 AND session_id IN (
                     SELECT session_id FROM tally.skill
                     WHERE ts >= $1 AND ts < $2 AND session_id IS NOT NULL)
                 GROUP BY session_id
                 ORDER BY session_id COLLATE \"C\"",
                &[&before, &ms(active_until)],
            )?,
        };
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, from_ms(row.try_get(1)?)?)))
            .collect()
    }
}
