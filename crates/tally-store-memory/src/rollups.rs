//! The rollup tier's reads (the same range planner as the SQLite store) and the state
//! tables the fold keeps, and retention.

use chrono::{DateTime, Utc};
use tally_models::Kind;
use tally_store::rollup::{ALL_PROJECTS, Family, ProjectScope, Resolution, RollupQuery, RollupRow};
use tally_store::rollup_plan::{ceil_to, floor_to, segments};
use tally_store::{
    AgentLoadRow, AgentLoadSums, AgentState, Dim, Error, Filter, JobState, MinuteRow, Result,
    Retention, RetentionOutcome, RollupReader,
};

use crate::MemoryStore;
use crate::state::State;

/// The dimension a family's keys are codes of.
fn key_dim(family: Family) -> Option<Dim> {
    match family {
        Family::ExecutionsByModel | Family::RunsByModel => Some(Dim::Model),
        Family::ExecutionsByTool => Some(Dim::Tool),
        Family::ExecutionsByAgent => Some(Dim::Agent),
        Family::Requests => Some(Dim::Endpoint),
        Family::Executions | Family::Runs | Family::Jobs | Family::Events | Family::Errors => None,
    }
}

impl State {
    fn rollups(&self, query: &RollupQuery<'_>) -> Vec<RollupRow> {
        // The project codes whose rows are read.
        let projects: Vec<i64> = match query.projects {
            ProjectScope::All => vec![ALL_PROJECTS],
            ProjectScope::One(name) => match self.dict.get(Dim::Project, name) {
                Some(code) => vec![code],
                None => return Vec::new(),
            },
            ProjectScope::Each => (1..=self.dict.values(Dim::Project).len() as i64).collect(),
        };
        let each = query.projects == ProjectScope::Each;
        let mut out = Vec::new();
        for segment in segments(query) {
            for &project in &projects {
                let rows = self.rollups.range(
                    (query.family, segment.resolution, project, segment.from)
                        ..(query.family, segment.resolution, project, segment.to),
                );
                for (&(_, _, _, bucket), keys) in rows {
                    for (&key, measures) in keys {
                        out.push(RollupRow {
                            project: each
                                .then(|| self.dict.name(Dim::Project, project).map(str::to_owned))
                                .flatten(),
                            resolution: segment.resolution,
                            bucket,
                            key,
                            name: key_dim(query.family)
                                .and_then(|dim| self.dict.name(dim, key))
                                .map(str::to_owned),
                            measures: measures.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    fn job_states(&self, filter: &Filter) -> Vec<JobState> {
        let Some(project) = self.project_code(filter.project.as_deref()) else {
            return Vec::new();
        };
        let (from, to) = (
            filter.from.map(|t| t.timestamp_millis()),
            filter.to.map(|t| t.timestamp_millis()),
        );
        self.jobs
            .iter()
            .filter(|((code, _), job)| {
                project.is_none_or(|p| p == *code)
                    && from.is_none_or(|f| job.status_ts >= f)
                    && to.is_none_or(|t| job.status_ts < t)
            })
            .map(|((code, job_id), job)| JobState {
                project: self.project_name(*code),
                job_id: job_id.clone(),
                status: job.status,
                status_ts: job.status_ts,
                queued_ts: job.queued_ts,
                running_ts: job.running_ts,
                finished_ts: job.finished_ts,
            })
            .collect()
    }

    fn project_name(&self, code: i64) -> String {
        self.dict
            .name(Dim::Project, code)
            .unwrap_or_default()
            .to_owned()
    }

    fn agent_states(&self, project: Option<&str>) -> Vec<AgentState> {
        let Some(project) = self.project_code(project) else {
            return Vec::new();
        };
        let mut states: Vec<AgentState> = self
            .agent_latest
            .iter()
            .filter(|((code, _), _)| project.is_none_or(|p| p == *code))
            .map(|(&(code, agent), a)| AgentState {
                project: self.project_name(code),
                agent_id: self
                    .dict
                    .name(Dim::Agent, agent)
                    .unwrap_or_default()
                    .to_owned(),
                ts: DateTime::from_timestamp_millis(a.ts).unwrap_or_default(),
                active_tasks: a.active,
                queued_tasks: a.queued,
                capacity: a.capacity,
                cpu_pct: a.cpu_pct,
                mem_pct: a.mem_pct,
            })
            .collect();
        states.sort_by(|a, b| (&a.agent_id, &a.project).cmp(&(&b.agent_id, &b.project)));
        states
    }

    fn agent_load(&self, filter: &Filter) -> Vec<AgentLoadRow> {
        let Some(project) = self.project_code(filter.project.as_deref()) else {
            return Vec::new();
        };
        let from = filter
            .from
            .map(|t| floor_to(Resolution::Hour, t.timestamp()));
        let to = filter.to.map(|t| ceil_to(Resolution::Hour, t.timestamp()));
        // Summed over projects, by agent name and hour.
        let mut rows = std::collections::BTreeMap::<(String, i64), AgentLoadSums>::new();
        for (&(code, agent, hour), load) in &self.agent_load {
            if project.is_some_and(|p| p != code)
                || from.is_some_and(|f| hour < f)
                || to.is_some_and(|t| hour >= t)
            {
                continue;
            }
            let name = self
                .dict
                .name(Dim::Agent, agent)
                .unwrap_or_default()
                .to_owned();
            let sums = rows.entry((name, hour)).or_default();
            sums.snapshots += load.snapshots;
            sums.active_sum += load.active;
            sums.queued_sum += load.queued;
            sums.capacity_sum += load.capacity;
            sums.peak_active = sums.peak_active.max(load.peak_active);
        }
        rows.into_iter()
            .map(|((agent_id, hour), sums)| AgentLoadRow {
                agent_id,
                hour,
                sums,
            })
            .collect()
    }

    fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>> {
        let Some(project) = self.project_code(project) else {
            return Ok(Vec::new());
        };
        let since = since.timestamp();
        self.minutes
            .range((since, i64::MIN, 0)..)
            .filter(|((_, code, _), _)| project.is_none_or(|p| p == *code))
            .map(|(&(minute, _, kind), cell)| {
                Ok(MinuteRow {
                    minute,
                    kind: Kind::from_code(kind)
                        .ok_or_else(|| Error::Corrupt(format!("kind code {kind}")))?,
                    n: cell.n,
                    errors: cell.errors,
                    latency: cell.latency.clone(),
                })
            })
            .collect()
    }

    fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> u64 {
        let Some(project) = self.project_code(project) else {
            return 0;
        };
        let users: std::collections::BTreeSet<i64> = self
            .recent_users
            .range((since.timestamp(), i64::MIN, i64::MIN)..)
            .filter(|(_, code, _)| project.is_none_or(|p| p == *code))
            .map(|&(_, _, user)| user)
            .collect();
        users.len() as u64
    }

    fn delete_expired(
        &mut self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> RetentionOutcome {
        let mut outcome = RetentionOutcome::default();
        let raw = self.events.len();
        let raw_cutoff = raw_before.timestamp_millis();
        self.events
            .retain(|_, stored| stored.event.ts.timestamp_millis() >= raw_cutoff);
        outcome.raw_rows_deleted = (raw - self.events.len()) as u64;
        let cutoff = rollups_before.timestamp();
        let day_cutoff = floor_to(Resolution::Day, cutoff);
        // A month row goes only when its whole month lies before the cutoff.
        let month_cutoff = floor_to(Resolution::Month, cutoff);
        let rows = self.rollups.len();
        self.rollups
            .retain(|&(_, resolution, _, bucket), _| match resolution {
                Resolution::Hour | Resolution::Day => bucket >= day_cutoff,
                Resolution::Month => bucket >= month_cutoff,
            });
        outcome.rollup_rows_deleted = (rows - self.rollups.len()) as u64;
        self.agent_load.retain(|&(_, _, hour), _| hour >= cutoff);
        let minute_cutoff = minutes_before.timestamp();
        let minutes = self.minutes.len();
        self.minutes
            .retain(|&(minute, _, _), _| minute >= minute_cutoff);
        outcome.minute_rows_deleted = (minutes - self.minutes.len()) as u64;
        self.recent_users
            .retain(|&(minute, _, _)| minute >= minute_cutoff);
        outcome
    }
}

impl RollupReader for MemoryStore {
    fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>> {
        Ok(self.read().rollups(query))
    }

    fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>> {
        Ok(self.read().job_states(filter))
    }

    fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>> {
        Ok(self.read().agent_states(project))
    }

    fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>> {
        Ok(self.read().agent_load(filter))
    }

    fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>> {
        self.read().minutes(project, since)
    }

    fn error_classes(&self) -> Result<Vec<(i64, String)>> {
        Ok(self
            .read()
            .dict
            .values(Dim::ErrorClass)
            .iter()
            .enumerate()
            .map(|(i, name)| (i as i64 + 1, name.clone()))
            .collect())
    }

    fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64> {
        Ok(self.read().active_users(project, since))
    }
}

impl Retention for MemoryStore {
    fn delete_expired(
        &self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> Result<RetentionOutcome> {
        Ok(self
            .write()
            .delete_expired(raw_before, rollups_before, minutes_before))
    }
}
