//! Learning reads: a user's `tally.session` and `tally.skill` rows, the learner summary
//! (`tally.learner_activity`, `tally.learner_topic_activity`, `tally.learner`, folded by
//! the write path) merged with the raw sessions still kept
//! (`tally_store::learner_history`), the list of learners, and what learners set (time
//! zones, goals). Names are compared in byte order (`COLLATE "C"`), as the other stores
//! compare them, whatever the database's collation.

use chrono::{DateTime, Utc};
use postgres::Client;

use tally_store::learner_history::{QUARTER_MS, merge, quarter_of, summary_only};

use crate::{
    Activity, Error, GoalRecord, LearningSession, PostgresStore, Result, SkillInvocation,
    TopicActivity, from_ms, ms,
};

/// A count read back from PostgreSQL, where it is signed.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A `numeric` sum read as text.
fn sum<T: std::str::FromStr>(text: &str, field: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::Corrupt(format!("learner_activity {field}: {text:?} is not a sum")))
}

/// `(user, quarter, bucket)` from the summary, ordered by user and quarter, the projects
/// of a bucket summed, without their topics ([`add_topics`] adds them). `user` and
/// `project` narrow; `last_quarter` bounds.
fn summary_buckets(
    client: &mut Client,
    user: Option<&str>,
    project: Option<&str>,
    last_quarter: Option<i64>,
) -> Result<Vec<(String, i64, Activity)>> {
    let rows = client.query(
        "SELECT user_id, quarter, sessions, exchanges::text, duration_us::text, quality_sum,
                rated, excellent, first_ts, last_ts
         FROM tally.learner_activity
         WHERE ($1::text IS NULL OR user_id = $1)
           AND ($2::text IS NULL OR project = $2)
           AND ($3::bigint IS NULL OR quarter <= $3)
         ORDER BY user_id COLLATE \"C\", quarter, project COLLATE \"C\"",
        &[&user, &project, &last_quarter],
    )?;
    let mut out: Vec<(String, i64, Activity)> = Vec::new();
    for row in &rows {
        let (u, q): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
        let bucket = Activity {
            first: from_ms(row.try_get(8)?)?,
            last: from_ms(row.try_get(9)?)?,
            sessions: count(row.try_get(2)?),
            exchanges: sum(row.try_get(3)?, "exchanges")?,
            duration_us: sum(row.try_get(4)?, "duration_us")?,
            quality_sum: row.try_get(5)?,
            rated: count(row.try_get(6)?),
            excellent: count(row.try_get(7)?),
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
/// `tally.learner_topic_activity`, reading only the quarters the buckets span.
fn add_topics(
    client: &mut Client,
    buckets: &mut [(String, i64, Activity)],
    user: Option<&str>,
    project: Option<&str>,
) -> Result<()> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(());
    };
    let (first_quarter, last_quarter) = match user {
        Some(_) => (Some(first.1), Some(last.1)),
        None => (None, buckets.iter().map(|b| b.1).max()),
    };
    let rows = client.query(
        "SELECT user_id, quarter, topic, sessions, rated, quality_sum
         FROM tally.learner_topic_activity
         WHERE ($1::text IS NULL OR user_id = $1)
           AND ($2::text IS NULL OR project = $2)
           AND ($3::bigint IS NULL OR quarter >= $3)
           AND ($4::bigint IS NULL OR quarter <= $4)
         ORDER BY user_id COLLATE \"C\", quarter, project COLLATE \"C\"",
        &[&user, &project, &first_quarter, &last_quarter],
    )?;
    let mut at = 0;
    for row in &rows {
        let (u, q): (&str, i64) = (row.try_get(0)?, row.try_get(1)?);
        while at < buckets.len() && (buckets[at].0.as_str(), buckets[at].1) < (u, q) {
            at += 1;
        }
        let Some((_, _, bucket)) = buckets
            .get_mut(at)
            .filter(|b| (b.0.as_str(), b.1) == (u, q))
        else {
            continue;
        };
        let topic: String = row.try_get(2)?;
        let sessions = count(row.try_get(3)?);
        let rated = count(row.try_get(4)?);
        let quality_sum: f64 = row.try_get(5)?;
        match bucket.topics.iter_mut().find(|t| t.topic == topic) {
            Some(t) => {
                t.sessions += sessions;
                t.rated += rated;
                t.quality_sum += quality_sum;
            }
            None => bucket.topics.push(TopicActivity {
                topic,
                sessions,
                rated,
                quality_sum,
            }),
        }
    }
    for (_, _, bucket) in buckets.iter_mut() {
        bucket.topics.sort_by(|a, b| a.topic.cmp(&b.topic));
    }
    Ok(())
}

/// The raw sessions of `user` up to `until` (epoch ms), oldest first, each with its
/// topics by name.
fn raw_sessions(
    client: &mut Client,
    user: &str,
    project: Option<&str>,
    until: Option<i64>,
) -> Result<Vec<LearningSession>> {
    let rows = client.query(
        "SELECT s.seq, s.ts, s.duration_us, s.exchanges, s.quality, st.topic
         FROM tally.session s
         LEFT JOIN tally.session_topic st ON st.session_seq = s.seq
         WHERE s.user_id = $1
           AND ($2::text IS NULL OR s.project = $2)
           AND ($3::bigint IS NULL OR s.ts <= $3)
         ORDER BY s.ts, s.seq, st.topic COLLATE \"C\"",
        &[&user, &project, &until],
    )?;
    let mut sessions: Vec<LearningSession> = Vec::new();
    let mut last_seq = None;
    for row in &rows {
        let seq: i64 = row.try_get(0)?;
        if last_seq != Some(seq) {
            last_seq = Some(seq);
            sessions.push(LearningSession {
                ts: from_ms(row.try_get(1)?)?,
                duration_us: row.try_get(2)?,
                exchanges: count(row.try_get(3)?),
                quality: row.try_get(4)?,
                topics: Vec::new(),
            });
        }
        let topic: Option<String> = row.try_get(5)?;
        if let (Some(topic), Some(session)) = (topic, sessions.last_mut()) {
            // A topic named twice by one session counts once.
            if session.topics.last() != Some(&topic) {
                session.topics.push(topic);
            }
        }
    }
    Ok(sessions)
}

impl PostgresStore {
    pub fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>> {
        raw_sessions(&mut *self.conn()?, user, project, until.map(ms))
    }

    pub fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>> {
        let rows = self.conn()?.query(
            "SELECT ts, skill, completed, rating FROM tally.skill
             WHERE user_id = $1
               AND ($2::text IS NULL OR project = $2)
               AND ($3::bigint IS NULL OR ts <= $3)
             ORDER BY ts, seq",
            &[&user, &project, &until.map(ms)],
        )?;
        rows.iter()
            .map(|row| {
                let rating: Option<i16> = row.try_get(3)?;
                Ok(SkillInvocation {
                    ts: from_ms(row.try_get(0)?)?,
                    skill: row.try_get(1)?,
                    completed: row.try_get(2)?,
                    rating: rating.and_then(|v| u8::try_from(v).ok()),
                })
            })
            .collect()
    }

    pub fn learners(&self, project: Option<&str>) -> Result<Vec<String>> {
        let rows = self.conn()?.query(
            "SELECT l.user_id FROM tally.learner l
             WHERE $1::text IS NULL OR EXISTS (
                 SELECT 1 FROM tally.learner_activity a
                 WHERE a.user_id = l.user_id AND a.project = $1)
             ORDER BY l.user_id COLLATE \"C\"",
            &[&project],
        )?;
        Ok(rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    pub fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>> {
        let mut client = self.conn()?;
        let until = until.map(ms);
        let last_quarter = until.map(quarter_of);
        // Raw sessions through the end of `until`'s bucket, to compare whole buckets.
        let raw_until = last_quarter.map(|q| (q + 1) * QUARTER_MS - 1);
        let raw = raw_sessions(&mut client, user, project, raw_until)?;
        if project.is_none() {
            // Every session of the learner is still a raw row: the summary adds nothing.
            let (stored, last) = client
                .query_opt(
                    "SELECT sessions, last_ts FROM tally.learner WHERE user_id = $1",
                    &[&user],
                )?
                .map(|row| Ok::<_, Error>((row.try_get::<_, i64>(0)?, row.try_get(1)?)))
                .transpose()?
                .unwrap_or((0, i64::MIN));
            if until.is_none_or(|u| u >= last) && raw.len() as u64 == count(stored) {
                return Ok(merge::<()>(Vec::new(), &raw, until));
            }
        }
        let buckets = summary_buckets(&mut client, Some(user), project, last_quarter)?;
        let mut kept = summary_only(buckets, &raw);
        add_topics(&mut client, &mut kept, Some(user), project)?;
        Ok(merge(kept, &raw, until))
    }

    pub fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>> {
        let mut client = self.conn()?;
        let mut buckets =
            summary_buckets(&mut client, None, project, until.map(ms).map(quarter_of))?;
        add_topics(&mut client, &mut buckets, None, project)?;
        let until = until.unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut out: Vec<(String, Vec<Activity>)> = Vec::new();
        for (user, _, bucket) in buckets {
            if bucket.last > until {
                continue;
            }
            match out.last_mut() {
                Some((u, list)) if *u == user => list.push(bucket),
                _ => out.push((user, vec![bucket])),
            }
        }
        Ok(out)
    }

    pub fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>> {
        let rows = self.conn()?.query(
            "SELECT user_id, revision FROM tally.learner WHERE revision > $1 ORDER BY revision",
            &[&since],
        )?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    pub fn learner_time_zone(&self, user: &str) -> Result<Option<String>> {
        let row = self.conn()?.query_opt(
            "SELECT time_zone FROM tally.learner_setting WHERE user_id = $1",
            &[&user],
        )?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    pub fn opted_out_learners(&self) -> Result<Vec<String>> {
        let rows = self.conn()?.query(
            "SELECT user_id FROM tally.learner_opt_out ORDER BY user_id COLLATE \"C\"",
            &[],
        )?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    pub fn learner_time_zones(&self) -> Result<Vec<(String, String)>> {
        let rows = self.conn()?.query(
            "SELECT user_id, time_zone FROM tally.learner_setting ORDER BY user_id COLLATE \"C\"",
            &[],
        )?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    pub fn goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        let rows = self.conn()?.query(
            "SELECT id, user_id, kind, target, title, created_at, deadline, state, project
             FROM tally.learning_goal WHERE user_id = $1 ORDER BY id",
            &[&user],
        )?;
        rows.iter()
            .map(|row| {
                let deadline: Option<i64> = row.try_get(6)?;
                Ok(GoalRecord {
                    id: row.try_get(0)?,
                    user: row.try_get(1)?,
                    kind: row.try_get(2)?,
                    target: row.try_get(3)?,
                    title: row.try_get(4)?,
                    created_at: from_ms(row.try_get(5)?)?,
                    deadline: deadline.map(from_ms).transpose()?,
                    state: row.try_get(7)?,
                    project: row.try_get(8)?,
                })
            })
            .collect()
    }
}
