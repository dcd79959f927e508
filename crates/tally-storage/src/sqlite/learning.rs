//! Learning reads in SQLite: a user's `session` and `skill` rows, the list of learners,
//! the per-user settings (`learner_setting`) and goal definitions (`learning_goal`), both
//! migration 5.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Dim, SqliteStore};
use crate::{GoalRecord, LearningReader, LearningSession, Result, SkillInvocation};

fn instant(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

impl LearningReader for SqliteStore {
    fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT s.seq, s.ts, s.duration_us, s.exchanges, s.quality, t.value
             FROM session s
             LEFT JOIN session_topic st ON st.session_seq = s.seq
             LEFT JOIN dict t ON t.dim = ?4 AND t.code = st.topic
             WHERE s.user = (SELECT code FROM dict WHERE dim = ?5 AND value = ?1)
               AND (?2 IS NULL OR s.project = (SELECT code FROM dict WHERE dim = ?6 AND value = ?2))
               AND (?3 IS NULL OR s.ts <= ?3)
             ORDER BY s.ts, s.seq, t.value",
        )?;
        let mut rows = statement.query(params![
            user,
            project,
            until.map(|t| t.timestamp_millis()),
            Dim::Topic as u8,
            Dim::User as u8,
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

    fn skill_invocations(
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

    fn learners(&self, project: Option<&str>) -> Result<Vec<String>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT u.value FROM dict u
             WHERE u.dim = ?2 AND EXISTS (
                 SELECT 1 FROM session s WHERE s.user = u.code
                   AND (?1 IS NULL OR s.project = (SELECT code FROM dict WHERE dim = ?3 AND value = ?1)))
             ORDER BY u.value",
        )?;
        let users = statement
            .query_map(params![project, Dim::User as u8, Dim::Project as u8], |r| {
                r.get(0)
            })?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(users)
    }

    fn learner_time_zone(&self, user: &str) -> Result<Option<String>> {
        let conn = self.reader()?;
        let zone = conn
            .prepare_cached("SELECT time_zone FROM learner_setting WHERE user = ?1")?
            .query_row([user], |r| r.get(0))
            .optional()?;
        Ok(zone)
    }

    fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO learner_setting (user, time_zone) VALUES (?1, ?2)
             ON CONFLICT (user) DO UPDATE SET time_zone = excluded.time_zone",
            params![user, time_zone],
        )?;
        Ok(())
    }

    fn create_goal(&self, goal: &GoalRecord) -> Result<i64> {
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO learning_goal (user, kind, target, title, created_at, deadline, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                goal.user,
                goal.kind,
                goal.target,
                goal.title,
                goal.created_at.timestamp_millis(),
                goal.deadline.map(|t| t.timestamp_millis()),
                goal.state,
            ],
        )?;
        Ok(writer.conn.last_insert_rowid())
    }

    fn goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT id, user, kind, target, title, created_at, deadline, state
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
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(goals)
    }

    fn update_goal(&self, goal: &GoalRecord) -> Result<bool> {
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
        Ok(changed == 1)
    }
}
