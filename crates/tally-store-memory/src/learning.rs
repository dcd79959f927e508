//! What learners did: their raw sessions and skill invocations, the learner summary
//! merged with the sessions still kept (as the SQLite store merges them), and their
//! settings and goals.

use chrono::{DateTime, Utc};
use tally_models::EventBody;
use tally_store::{
    Activity, Dim, GoalRecord, LearningReader, LearningSession, LearningWriter, Result,
    SkillInvocation, TopicActivity,
};

use crate::MemoryStore;
use crate::records::to_millis;
use crate::state::State;
use crate::write::seconds_to_micros;
use tally_store::learner_history::{QUARTER_MS, merge, quarter_of, summary_only};

fn instant(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

impl State {
    /// `user`'s raw sessions (in `project`: `Some(code)`) up to `until` (epoch ms),
    /// oldest first; topics sorted by name.
    fn raw_sessions(
        &self,
        user: &str,
        project: Option<i64>,
        until: Option<i64>,
    ) -> Vec<LearningSession> {
        let mut sessions: Vec<(DateTime<Utc>, i64, LearningSession)> = self
            .events_in(project, None, None)
            .filter_map(|(seq, stored)| match &stored.event.body {
                EventBody::Session(s)
                    if s.user_id == user
                        && until.is_none_or(|u| stored.event.ts.timestamp_millis() <= u) =>
                {
                    let mut topics = s.topics.clone();
                    topics.sort();
                    topics.dedup();
                    Some((
                        stored.event.ts,
                        seq,
                        LearningSession {
                            ts: stored.event.ts,
                            duration_us: seconds_to_micros(s.duration_s),
                            exchanges: s.exchanges,
                            quality: s.quality,
                            topics,
                        },
                    ))
                }
                _ => None,
            })
            .collect();
        sessions.sort_by_key(|(ts, seq, _)| (*ts, *seq));
        sessions.into_iter().map(|(_, _, s)| s).collect()
    }

    /// The summary's buckets `(user, quarter, activity)` ordered by user and quarter,
    /// the projects of a bucket summed, topics included.
    fn summary_buckets(
        &self,
        user: Option<&str>,
        project: Option<i64>,
        last_quarter: Option<i64>,
    ) -> Vec<(String, i64, Activity)> {
        let mut out: Vec<(String, i64, Activity)> = Vec::new();
        for ((u, q, p), b) in &self.learner_activity {
            if user.is_some_and(|user| user != u)
                || project.is_some_and(|project| project != *p)
                || last_quarter.is_some_and(|last| *q > last)
            {
                continue;
            }
            let bucket = Activity {
                first: instant(b.first_ts),
                last: instant(b.last_ts),
                sessions: b.sessions,
                exchanges: b.exchanges,
                duration_us: b.duration_us,
                quality_sum: b.quality_sum,
                rated: b.rated,
                excellent: b.excellent,
                topics: Vec::new(),
            };
            match out.last_mut() {
                // Another project's row of the same bucket.
                Some((lu, lq, a)) if lu == u && lq == q => {
                    a.absorb(&bucket);
                }
                _ => out.push((u.clone(), *q, bucket)),
            }
        }
        for (u, q, bucket) in &mut out {
            for ((tu, tq, tp, topic), t) in self
                .learner_topics
                .range((u.clone(), *q, i64::MIN, String::new())..)
                .take_while(|((tu, tq, _, _), _)| tu == u && tq == q)
            {
                debug_assert!(tu == u && tq == q);
                if project.is_some_and(|project| project != *tp) {
                    continue;
                }
                match bucket.topics.iter_mut().find(|held| held.topic == *topic) {
                    Some(held) => {
                        held.sessions += t.sessions;
                        held.rated += t.rated;
                        held.quality_sum += t.quality_sum;
                    }
                    None => bucket.topics.push(TopicActivity {
                        topic: topic.clone(),
                        sessions: t.sessions,
                        rated: t.rated,
                        quality_sum: t.quality_sum,
                    }),
                }
            }
            bucket.topics.sort_by(|a, b| a.topic.cmp(&b.topic));
        }
        out
    }

    fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Vec<Activity> {
        let Some(project) = self.project_code(project) else {
            return Vec::new();
        };
        let until = until.map(|t| t.timestamp_millis());
        let last_quarter = until.map(quarter_of);
        // Raw sessions through the end of `until`'s bucket, to compare whole buckets.
        let raw_until = last_quarter.map(|q| (q + 1) * QUARTER_MS - 1);
        let raw = self.raw_sessions(user, project, raw_until);
        if project.is_none() {
            // Every session of the learner is still a raw event: the summary adds nothing.
            let (stored, last) = self
                .learners
                .get(user)
                .map_or((0, i64::MIN), |l| (l.sessions, l.last_ts));
            if until.is_none_or(|u| u >= last) && raw.len() as u64 == stored {
                return merge::<()>(Vec::new(), &raw, until);
            }
        }
        let buckets = self.summary_buckets(Some(user), project, last_quarter);
        merge(summary_only(buckets, &raw), &raw, until)
    }

    fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Vec<(String, Vec<Activity>)> {
        let Some(project) = self.project_code(project) else {
            return Vec::new();
        };
        let last_quarter = until.map(|t| quarter_of(t.timestamp_millis()));
        let until = until.unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut out: Vec<(String, Vec<Activity>)> = Vec::new();
        for (user, _, bucket) in self.summary_buckets(None, project, last_quarter) {
            if bucket.last > until {
                continue;
            }
            match out.last_mut() {
                Some((u, list)) if *u == user => list.push(bucket),
                _ => out.push((user, vec![bucket])),
            }
        }
        out
    }
}

impl LearningReader for MemoryStore {
    fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>> {
        let state = self.read();
        let Some(project) = state.project_code(project) else {
            return Ok(Vec::new());
        };
        Ok(state.raw_sessions(user, project, until.map(|t| t.timestamp_millis())))
    }

    fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>> {
        let state = self.read();
        let Some(project) = state.project_code(project) else {
            return Ok(Vec::new());
        };
        let until = until.map(|t| t.timestamp_millis());
        let mut rows: Vec<(DateTime<Utc>, i64, SkillInvocation)> = state
            .events_in(project, None, None)
            .filter_map(|(seq, stored)| match &stored.event.body {
                EventBody::Skill(s)
                    if s.user_id == user
                        && until.is_none_or(|u| stored.event.ts.timestamp_millis() <= u) =>
                {
                    Some((
                        stored.event.ts,
                        seq,
                        SkillInvocation {
                            ts: stored.event.ts,
                            skill: s.skill.clone(),
                            completed: s.completed,
                            rating: s.rating,
                        },
                    ))
                }
                _ => None,
            })
            .collect();
        rows.sort_by_key(|(ts, seq, _)| (*ts, *seq));
        Ok(rows.into_iter().map(|(_, _, s)| s).collect())
    }

    fn learners(&self, project: Option<&str>) -> Result<Vec<String>> {
        let state = self.read();
        // A project never stored has no learners.
        let project = project.map(|name| state.dict.get(Dim::Project, name).unwrap_or(-1));
        Ok(state
            .learners
            .keys()
            .filter(|user| {
                project.is_none_or(|p| {
                    state
                        .learner_activity
                        .keys()
                        .any(|(u, _, project)| u == *user && *project == p)
                })
            })
            .cloned()
            .collect())
    }

    fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>> {
        Ok(self.read().learner_activity(user, project, until))
    }

    fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>> {
        Ok(self.read().all_learner_activity(project, until))
    }

    fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>> {
        let state = self.read();
        let mut revisions: Vec<(String, i64)> = state
            .learners
            .iter()
            .filter(|(_, l)| l.revision > since)
            .map(|(user, l)| (user.clone(), l.revision))
            .collect();
        revisions.sort_by_key(|(_, revision)| *revision);
        Ok(revisions)
    }

    fn learner_time_zone(&self, user: &str) -> Result<Option<String>> {
        Ok(self.read().time_zones.get(user).cloned())
    }

    fn opted_out_learners(&self) -> Result<Vec<String>> {
        Ok(self.read().opted_out.iter().cloned().collect())
    }

    fn learner_time_zones(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .read()
            .time_zones
            .iter()
            .map(|(user, zone)| (user.clone(), zone.clone()))
            .collect())
    }

    fn goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        Ok(self
            .read()
            .goals
            .values()
            .filter(|goal| goal.user == user)
            .cloned()
            .collect())
    }
}

impl LearningWriter for MemoryStore {
    fn set_learner_opt_out(&self, user: &str, opted_out: bool) -> Result<()> {
        let mut state = self.write();
        if opted_out {
            state.opted_out.insert(user.to_owned());
        } else {
            state.opted_out.remove(user);
        }
        Ok(())
    }

    fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        let mut state = self.write();
        state
            .time_zones
            .insert(user.to_owned(), time_zone.to_owned());
        state.touch_learner(user);
        Ok(())
    }

    fn create_goal(&self, goal: &GoalRecord) -> Result<i64> {
        let mut state = self.write();
        // As SQLite numbers an `INTEGER PRIMARY KEY`: one above the highest held.
        let id = state.goals.keys().next_back().map_or(1, |last| last + 1);
        state.goals.insert(
            id,
            GoalRecord {
                id,
                created_at: to_millis(goal.created_at),
                deadline: goal.deadline.map(to_millis),
                ..goal.clone()
            },
        );
        state.touch_learner(&goal.user);
        Ok(id)
    }

    fn update_goal(&self, goal: &GoalRecord) -> Result<bool> {
        let mut state = self.write();
        let changed = match state.goals.get_mut(&goal.id) {
            Some(held) => {
                // The owner, creation time and project stay as created.
                held.kind = goal.kind.clone();
                held.target = goal.target;
                held.title = goal.title.clone();
                held.deadline = goal.deadline.map(to_millis);
                held.state = goal.state.clone();
                true
            }
            None => false,
        };
        state.touch_learner(&goal.user);
        Ok(changed)
    }
}
