//! Learning reads in SQLite: a user's `session` and `skill` rows, the learner summary
//! (`learner_activity`, `learner_topic_activity`, `learner`; migration 7, written by
//! `learning_write.rs`) merged with the raw sessions still kept, the list of learners,
//! the per-user settings (`learner_setting`) and goal definitions (`learning_goal`), both
//! migration 5.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use tally_store::learner_history::{QUARTER_MS, merge, quarter_of, summary_only};

use super::learning_write::NEXT_REVISION;
use super::{Dim, SqliteStore};
use crate::{Activity, GoalRecord, LearningSession, Result, SkillInvocation, TopicActivity};

fn instant(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

fn code(conn: &Connection, dim: Dim, value: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT code FROM dict WHERE dim = ?1 AND value = ?2")?
        .query_row(params![dim as u8, value], |r| r.get(0))
        .optional()?)
}

fn names(conn: &Connection, dim: Dim) -> Result<HashMap<i64, String>> {
    let mut statement = conn.prepare_cached("SELECT code, value FROM dict WHERE dim = ?1")?;
    let map = statement
        .query_map([dim as u8], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<HashMap<i64, String>>>()?;
    Ok(map)
}

/// `(user code, quarter, bucket)` from the summary, ordered by user and quarter, the
/// projects of a bucket summed, without their topics ([`add_topics`] adds them). `user`
/// and `project` narrow; `last_quarter` bounds.
fn summary_buckets(
    conn: &Connection,
    user: Option<i64>,
    project: Option<i64>,
    last_quarter: Option<i64>,
) -> Result<Vec<(i64, i64, Activity)>> {
    let condition = match user {
        Some(_) => "user = ?1 AND (?2 IS NULL OR project = ?2) AND (?3 IS NULL OR quarter <= ?3)",
        None => "?1 IS NULL AND (?2 IS NULL OR project = ?2) AND (?3 IS NULL OR quarter <= ?3)",
    };
    let mut out: Vec<(i64, i64, Activity)> = Vec::new();
    let mut statement = conn.prepare_cached(&format!(
        "SELECT user, quarter, sessions, exchanges, duration_us, quality_sum, rated, excellent,
                first_ts, last_ts
         FROM learner_activity WHERE {condition} ORDER BY user, quarter"
    ))?;
    let mut rows = statement.query(params![user, project, last_quarter])?;
    while let Some(row) = rows.next()? {
        let (u, q): (i64, i64) = (row.get(0)?, row.get(1)?);
        let count = |i: usize| -> rusqlite::Result<u64> {
            Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
        };
        let bucket = Activity {
            first: instant(row.get(8)?),
            last: instant(row.get(9)?),
            sessions: count(2)?,
            exchanges: u128::from(count(3)?),
            duration_us: i128::from(row.get::<_, i64>(4)?),
            quality_sum: row.get(5)?,
            rated: count(6)?,
            excellent: count(7)?,
            topics: Vec::new(),
        };
        match out.last_mut() {
            // Another project's row of the same bucket.
            Some((lu, lq, a)) if *lu == u && *lq == q => {
                a.absorb(&bucket);
            }
            _ => out.push((u, q, bucket)),
        }
    }
    Ok(out)
}

/// Fills in the topics of `buckets` (ordered by user and quarter) from
/// `learner_topic_activity`, reading only the quarters from the first bucket's to the
/// last one's.
fn add_topics(
    conn: &Connection,
    buckets: &mut [(i64, i64, Activity)],
    user: Option<i64>,
    project: Option<i64>,
) -> Result<()> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(());
    };
    let (first_quarter, last_quarter) = match user {
        Some(_) => (Some(first.1), Some(last.1)),
        None => (None, buckets.iter().map(|b| b.1).max()),
    };
    let condition = match user {
        Some(_) => "user = ?1 AND (?2 IS NULL OR project = ?2) AND quarter >= ?4 AND quarter <= ?3",
        None => {
            "?1 IS NULL AND (?2 IS NULL OR project = ?2) AND (?3 IS NULL OR quarter <= ?3) AND ?4 IS NULL"
        }
    };
    let out = buckets;
    let topic_names = names(conn, Dim::Topic)?;
    let mut statement = conn.prepare_cached(&format!(
        "SELECT user, quarter, topic, sessions, rated, quality_sum
         FROM learner_topic_activity WHERE {condition} ORDER BY user, quarter"
    ))?;
    let mut rows = statement.query(params![user, project, last_quarter, first_quarter])?;
    let mut at = 0;
    while let Some(row) = rows.next()? {
        let (u, q, topic): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        while at < out.len() && (out[at].0, out[at].1) < (u, q) {
            at += 1;
        }
        let Some((_, _, bucket)) = out.get_mut(at).filter(|b| (b.0, b.1) == (u, q)) else {
            continue;
        };
        let name = topic_names.get(&topic).cloned().unwrap_or_default();
        let (sessions, rated): (i64, i64) = (row.get(3)?, row.get(4)?);
        let quality_sum: f64 = row.get(5)?;
        match bucket.topics.iter_mut().find(|t| t.topic == name) {
            Some(t) => {
                t.sessions += u64::try_from(sessions).unwrap_or(0);
                t.rated += u64::try_from(rated).unwrap_or(0);
                t.quality_sum += quality_sum;
            }
            None => bucket.topics.push(TopicActivity {
                topic: name,
                sessions: u64::try_from(sessions).unwrap_or(0),
                rated: u64::try_from(rated).unwrap_or(0),
                quality_sum,
            }),
        }
    }
    for (_, _, bucket) in out.iter_mut() {
        bucket.topics.sort_by(|a, b| a.topic.cmp(&b.topic));
    }
    Ok(())
}

/// The raw sessions of a user code up to `until` (epoch ms), oldest first.
fn raw_sessions(
    conn: &Connection,
    user: i64,
    project: Option<i64>,
    until: Option<i64>,
) -> Result<Vec<LearningSession>> {
    // `project IN (...)` lets the (project, user, ts) index serve a read across projects.
    let mut statement = conn.prepare_cached(
        "SELECT s.seq, s.ts, s.duration_us, s.exchanges, s.quality, t.value
         FROM session s
         LEFT JOIN session_topic st ON st.session_seq = s.seq
         LEFT JOIN dict t ON t.dim = ?4 AND t.code = st.topic
         WHERE s.project IN (SELECT code FROM dict WHERE dim = ?5 AND (?2 IS NULL OR code = ?2))
           AND s.user = ?1
           AND (?3 IS NULL OR s.ts <= ?3)
         ORDER BY s.ts, s.seq, t.value",
    )?;
    let mut rows = statement.query(params![
        user,
        project,
        until,
        Dim::Topic as u8,
        Dim::Project as u8,
    ])?;
    let mut sessions: Vec<LearningSession> = Vec::new();
    let mut last_seq = None;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if last_seq != Some(seq) {
            last_seq = Some(seq);
            let exchanges: i64 = row.get(3)?;
            sessions.push(LearningSession {
                ts: instant(row.get(1)?),
                duration_us: row.get(2)?,
                exchanges: u64::try_from(exchanges).unwrap_or(0),
                quality: row.get(4)?,
                topics: Vec::new(),
            });
        }
        let topic: Option<String> = row.get(5)?;
        if let (Some(topic), Some(session)) = (topic, sessions.last_mut()) {
            session.topics.push(topic);
        }
    }
    Ok(sessions)
}

/// Raises `user`'s learner revision, so caches of what is derived from them refresh.
fn touch_learner(conn: &Connection, user: &str) -> Result<()> {
    conn.prepare_cached(&format!(
        "UPDATE learner SET revision = ({NEXT_REVISION})
         WHERE user = (SELECT code FROM dict WHERE dim = ?2 AND value = ?1)"
    ))?
    .execute(params![user, Dim::User as u8])?;
    Ok(())
}

/// The project code a read is limited to: `None` when the named project was never
/// stored (there is nothing to read), `Some(None)` for every project.
fn project_scope(conn: &Connection, project: Option<&str>) -> Result<Option<Option<i64>>> {
    match project {
        Some(name) => Ok(code(conn, Dim::Project, name)?.map(Some)),
        None => Ok(Some(None)),
    }
}

impl SqliteStore {
    pub(crate) fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>> {
        let conn = self.reader()?;
        let Some(user) = code(&conn, Dim::User, user)? else {
            return Ok(Vec::new());
        };
        let Some(project) = project_scope(&conn, project)? else {
            return Ok(Vec::new());
        };
        raw_sessions(&conn, user, project, until.map(|t| t.timestamp_millis()))
    }

    pub(crate) fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>> {
        let conn = self.reader()?;
        let Some(user) = code(&conn, Dim::User, user)? else {
            return Ok(Vec::new());
        };
        let Some(project) = project_scope(&conn, project)? else {
            return Ok(Vec::new());
        };
        let until = until.map(|t| t.timestamp_millis());
        let last_quarter = until.map(quarter_of);
        // Raw sessions through the end of `until`'s bucket, to compare whole buckets.
        let raw_until = last_quarter.map(|q| (q + 1) * QUARTER_MS - 1);
        let raw = raw_sessions(&conn, user, project, raw_until)?;
        if project.is_none() {
            // Every session of the learner is still a raw row: the summary adds nothing.
            let (stored, last): (i64, i64) = conn
                .prepare_cached("SELECT sessions, last_ts FROM learner WHERE user = ?1")?
                .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .unwrap_or((0, i64::MIN));
            if until.is_none_or(|u| u >= last)
                && raw.len() as u64 == u64::try_from(stored).unwrap_or(0)
            {
                return Ok(merge::<()>(Vec::new(), &raw, until));
            }
        }
        let buckets = summary_buckets(&conn, Some(user), project, last_quarter)?;
        let mut kept = summary_only(buckets, &raw);
        add_topics(&conn, &mut kept, Some(user), project)?;
        Ok(merge(kept, &raw, until))
    }

    pub(crate) fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>> {
        let conn = self.reader()?;
        let Some(project) = project_scope(&conn, project)? else {
            return Ok(Vec::new());
        };
        let until_ms = until.map(|t| t.timestamp_millis());
        let until = until.unwrap_or(DateTime::<Utc>::MAX_UTC);
        let users = names(&conn, Dim::User)?;
        let mut out: Vec<(i64, Vec<Activity>)> = Vec::new();
        let mut buckets = summary_buckets(&conn, None, project, until_ms.map(quarter_of))?;
        add_topics(&conn, &mut buckets, None, project)?;
        for (user, _, bucket) in buckets {
            if bucket.last > until {
                continue;
            }
            match out.last_mut() {
                Some((u, list)) if *u == user => list.push(bucket),
                _ => out.push((user, vec![bucket])),
            }
        }
        let mut named: Vec<(String, Vec<Activity>)> = out
            .into_iter()
            .map(|(user, list)| (users.get(&user).cloned().unwrap_or_default(), list))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(named)
    }

    pub(crate) fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT u.value, l.revision FROM learner l
             JOIN dict u ON u.dim = ?2 AND u.code = l.user
             WHERE l.revision > ?1 ORDER BY l.revision",
        )?;
        let rows = statement
            .query_map(params![since, Dim::User as u8], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<Vec<(String, i64)>>>()?;
        Ok(rows)
    }

    pub(crate) fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT k.ts, n.value, k.completed, k.rating
             FROM skill k
             JOIN dict n ON n.dim = ?4 AND n.code = k.skill
             WHERE k.user = (SELECT code FROM dict WHERE dim = ?5 AND value = ?1)
               AND (?2 IS NULL OR k.project = (SELECT code FROM dict WHERE dim = ?6 AND value = ?2))
               AND (?3 IS NULL OR k.ts <= ?3)
             ORDER BY k.ts, k.seq",
        )?;
        let rows = statement
            .query_map(
                params![
                    user,
                    project,
                    until.map(|t| t.timestamp_millis()),
                    Dim::Skill as u8,
                    Dim::User as u8,
                    Dim::Project as u8,
                ],
                |r| {
                    let completed: i64 = r.get(2)?;
                    let rating: Option<i64> = r.get(3)?;
                    Ok(SkillInvocation {
                        ts: instant(r.get(0)?),
                        skill: r.get(1)?,
                        completed: completed != 0,
                        rating: rating.and_then(|v| u8::try_from(v).ok()),
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub(crate) fn learners(&self, project: Option<&str>) -> Result<Vec<String>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT u.value FROM learner l
             JOIN dict u ON u.dim = ?2 AND u.code = l.user
             WHERE ?1 IS NULL OR EXISTS (
                 SELECT 1 FROM learner_activity a WHERE a.user = l.user
                   AND a.project = (SELECT code FROM dict WHERE dim = ?3 AND value = ?1))
             ORDER BY u.value",
        )?;
        let users = statement
            .query_map(params![project, Dim::User as u8, Dim::Project as u8], |r| {
                r.get(0)
            })?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(users)
    }

    pub(crate) fn learner_time_zone(&self, user: &str) -> Result<Option<String>> {
        let conn = self.reader()?;
        let zone = conn
            .prepare_cached("SELECT time_zone FROM learner_setting WHERE user = ?1")?
            .query_row([user], |r| r.get(0))
            .optional()?;
        Ok(zone)
    }

    pub(crate) fn learner_time_zones(&self) -> Result<Vec<(String, String)>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached("SELECT user, time_zone FROM learner_setting")?;
        let zones = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
        Ok(zones)
    }

    pub(crate) fn opted_out_learners(&self) -> Result<Vec<String>> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached("SELECT user FROM learner_opt_out ORDER BY user")?;
        let users = statement
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(users)
    }

    pub(crate) fn set_learner_opt_out(&self, user: &str, opted_out: bool) -> Result<()> {
        let writer = self.writer();
        if opted_out {
            writer.conn.execute(
                "INSERT INTO learner_opt_out (user) VALUES (?1) ON CONFLICT (user) DO NOTHING",
                [user],
            )?;
        } else {
            writer
                .conn
                .execute("DELETE FROM learner_opt_out WHERE user = ?1", [user])?;
        }
        Ok(())
    }

    pub(crate) fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO learner_setting (user, time_zone) VALUES (?1, ?2)
             ON CONFLICT (user) DO UPDATE SET time_zone = excluded.time_zone",
            params![user, time_zone],
        )?;
        touch_learner(&writer.conn, user)?;
        Ok(())
    }

    pub(crate) fn create_goal(&self, goal: &GoalRecord) -> Result<i64> {
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO learning_goal (user, kind, target, title, created_at, deadline, state, project)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                goal.user,
                goal.kind,
                goal.target,
                goal.title,
                goal.created_at.timestamp_millis(),
                goal.deadline.map(|t| t.timestamp_millis()),
                goal.state,
                goal.project,
            ],
        )?;
        let id = writer.conn.last_insert_rowid();
        touch_learner(&writer.conn, &goal.user)?;
        Ok(id)
    }

    pub(crate) fn goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT id, user, kind, target, title, created_at, deadline, state, project
             FROM learning_goal WHERE user = ?1 ORDER BY id",
        )?;
        let goals = statement
            .query_map([user], |r| {
                let deadline: Option<i64> = r.get(6)?;
                Ok(GoalRecord {
                    id: r.get(0)?,
                    user: r.get(1)?,
                    kind: r.get(2)?,
                    target: r.get(3)?,
                    title: r.get(4)?,
                    created_at: instant(r.get(5)?),
                    deadline: deadline.map(instant),
                    state: r.get(7)?,
                    project: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(goals)
    }

    pub(crate) fn update_goal(&self, goal: &GoalRecord) -> Result<bool> {
        let writer = self.writer();
        let changed = writer.conn.execute(
            "UPDATE learning_goal SET kind = ?2, target = ?3, title = ?4, deadline = ?5, state = ?6
             WHERE id = ?1",
            params![
                goal.id,
                goal.kind,
                goal.target,
                goal.title,
                goal.deadline.map(|t| t.timestamp_millis()),
                goal.state,
            ],
        )?;
        touch_learner(&writer.conn, &goal.user)?;
        Ok(changed == 1)
    }
}
