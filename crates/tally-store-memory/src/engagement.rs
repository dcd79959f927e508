//! The engagement tables: merged from each batch's delta, read by range.

use tally_store::rollup_fold::RollupDelta;
use tally_store::{Dim, EngagementReader, Result, SessionRow, UserDayRow};

use crate::MemoryStore;
use crate::state::{Engagement, State};

impl Engagement {
    /// Merges a batch's user days and sessions.
    pub(crate) fn apply(&mut self, delta: &RollupDelta) {
        for (&(project, user, day), activity) in &delta.user_days {
            self.first_days
                .entry((project, user))
                .and_modify(|first| *first = (*first).min(day))
                .or_insert(day);
            self.days
                .entry((project, day, user))
                .and_modify(|held| held.merge(activity))
                .or_insert(*activity);
        }
        for (key, span) in &delta.sessions {
            match self.sessions.get_mut(key) {
                Some(held) => held.merge(span),
                None => {
                    self.sessions.insert(key.clone(), span.clone());
                }
            }
        }
    }
}

impl State {
    fn user_days(&self, project: Option<&str>, from_day: i64, to_day: i64) -> Vec<UserDayRow> {
        let Some(project) = self.project_code(project) else {
            return Vec::new();
        };
        let name = |dim, code| self.dict.name(dim, code).unwrap_or_default().to_owned();
        let engagement = &self.engagement;
        let mut rows: Vec<UserDayRow> = engagement
            .days
            .iter()
            .filter(|&(&(p, day, _), _)| {
                project.is_none_or(|wanted| wanted == p) && day >= from_day && day < to_day
            })
            .map(|(&(p, day, user), activity)| UserDayRow {
                project: name(Dim::Project, p),
                user: name(Dim::User, user),
                day,
                first_day: engagement
                    .first_days
                    .get(&(p, user))
                    .copied()
                    .unwrap_or(day),
                events: activity.events,
            })
            .collect();
        rows.sort_by(|a, b| (&a.project, &a.user, a.day).cmp(&(&b.project, &b.user, b.day)));
        rows
    }

    fn sessions(&self, project: Option<&str>, from_ms: i64, to_ms: i64) -> Vec<SessionRow> {
        let Some(project) = self.project_code(project) else {
            return Vec::new();
        };
        let mut rows: Vec<SessionRow> = self
            .engagement
            .sessions
            .iter()
            .filter(|((p, _), span)| {
                project.is_none_or(|wanted| wanted == *p)
                    && span.start_ms >= from_ms
                    && span.start_ms < to_ms
            })
            .map(|((p, session), span)| SessionRow {
                project: self
                    .dict
                    .name(Dim::Project, *p)
                    .unwrap_or_default()
                    .to_owned(),
                session: session.clone(),
                user: span.user.as_ref().map(|(_, user)| user.clone()),
                start_ms: span.start_ms,
                last_ms: span.last_ms,
                end_ms: span.end_ms,
            })
            .collect();
        rows.sort_by(|a, b| (&a.project, &a.session).cmp(&(&b.project, &b.session)));
        rows
    }
}

impl EngagementReader for MemoryStore {
    fn user_days(
        &self,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<UserDayRow>> {
        Ok(self.read().user_days(project, from_day, to_day))
    }

    fn engagement_sessions(
        &self,
        project: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SessionRow>> {
        Ok(self.read().sessions(project, from_ms, to_ms))
    }
}
