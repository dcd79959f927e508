//! The rollup tier's read side: the rows of each segment the range planner
//! (`tally_store::rollup_plan`) picks, one row per key, and the reads of the live state
//! tables and the minute tier. Every read here seeks a primary key or an index.

use chrono::{DateTime, Utc};
use postgres::Row;
use tally_models::{JobStatus, Kind, LatencySketch};

use crate::read::{Conditions, numeric, unsigned};
use crate::rollup::{ALL_PROJECTS, Facets, Family, Measures, ProjectScope, Resolution};
use crate::rollup::{RollupQuery, RollupRow};
use crate::rollup_plan::{self, NEG_INF, POS_INF, widened_range};
use crate::{
    AgentLoadRow, AgentLoadSums, AgentState, Dim, Error, Filter, JobState, MinuteRow,
    PostgresStore, Result,
};

/// The dimension a family's keys are dictionary codes of.
fn key_dim(family: Family) -> Option<Dim> {
    match family {
        Family::ExecutionsByModel | Family::RunsByModel => Some(Dim::Model),
        Family::ExecutionsByTool => Some(Dim::Tool),
        Family::ExecutionsByAgent => Some(Dim::Agent),
        Family::Requests => Some(Dim::Endpoint),
        Family::Executions | Family::Runs | Family::Jobs | Family::Events | Family::Errors => None,
    }
}

fn resolution_of(code: i16) -> Result<Resolution> {
    Resolution::ALL
        .into_iter()
        .find(|r| i16::from(*r as u8) == code)
        .ok_or_else(|| Error::Corrupt(format!("rollup resolution code {code}")))
}

/// The measures of one `tally.rollup` row (columns from 4 on, as [`ROLLUP_COLUMNS`]
/// lists them).
fn measures(row: &Row, place: &dyn Fn() -> String) -> Result<Measures> {
    let field = |field: &str| format!("{}: {field}", place());
    let mut latency = LatencySketch::default();
    if let Some(bytes) = row.get::<_, Option<&[u8]>>(15) {
        latency
            .merge_encoded(bytes)
            .map_err(|e| Error::Corrupt(format!("{}: {e}", field("latency"))))?;
    }
    let mut facets = Facets::default();
    if let Some(bytes) = row.get::<_, Option<&[u8]>>(16) {
        facets
            .merge_encoded(bytes)
            .map_err(|e| Error::Corrupt(format!("{}: {e}", field("facets"))))?;
    }
    Ok(Measures {
        n: unsigned(row.get(4)),
        ok: unsigned(row.get(5)),
        input_tokens: sum(row, 6, &field("input_tokens"))?,
        output_tokens: sum(row, 7, &field("output_tokens"))?,
        cache_read_tokens: sum(row, 8, &field("cache_read_tokens"))?,
        cache_write_tokens: sum(row, 9, &field("cache_write_tokens"))?,
        reasoning_tokens: sum(row, 10, &field("reasoning_tokens"))?,
        cost_nusd: sum(row, 11, &field("cost_nusd"))?,
        computed_cost_nusd: sum(row, 12, &field("computed_cost_nusd"))?,
        duration_us: sum(row, 13, &field("duration_us"))?,
        last_ts: row.get(14),
        latency,
        facets,
    })
}

/// A `numeric` sum of a rollup row, read as text.
fn sum<T: std::str::FromStr>(row: &Row, at: usize, field: &str) -> Result<T> {
    numeric(row.get(at), field)
}

/// The columns [`measures`] reads, after resolution, bucket, project and key.
const ROLLUP_COLUMNS: &str = "r.resolution, r.bucket, r.project, r.key, r.n, r.ok,
    r.input_tokens::text, r.output_tokens::text, r.cache_read_tokens::text,
    r.cache_write_tokens::text, r.reasoning_tokens::text, r.cost_nusd::text,
    r.computed_cost_nusd::text, r.duration_us::text, r.last_ts, r.latency, r.facets";

impl PostgresStore {
    pub fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>> {
        let mut client = self.conn()?;
        let mut conditions = Conditions::default();
        conditions.push("r.family =", i16::from(query.family.code()));
        // One project, or all together, is `project = code`; each project apart seeks
        // every project's rows by its code (an index seek each, not a scan of them all).
        match query.projects {
            ProjectScope::All => conditions.push("r.project =", ALL_PROJECTS),
            ProjectScope::One(name) => match self.dict.find(&mut *client, Dim::Project, name)? {
                Some(code) => conditions.push("r.project =", code),
                None => return Ok(Vec::new()),
            },
            ProjectScope::Each => {
                conditions.push_with(i16::from(Dim::Project as u8), |dim| {
                    format!("r.project = ANY(ARRAY(SELECT code FROM tally.dict WHERE dim = {dim}))")
                });
            }
        }
        let project_sql = conditions.sql();
        let segments = rollup_plan::segments(query);
        let resolutions: Vec<i16> = segments
            .iter()
            .map(|s| i16::from(s.resolution as u8))
            .collect();
        let froms: Vec<i64> = segments.iter().map(|s| s.from).collect();
        let tos: Vec<i64> = segments.iter().map(|s| s.to).collect();
        let (resolutions, froms, tos) = (
            conditions.bind(resolutions),
            conditions.bind(froms),
            conditions.bind(tos),
        );
        let rows = client.query(
            &format!(
                "SELECT {ROLLUP_COLUMNS}
                 FROM unnest({resolutions}::smallint[], {froms}::bigint[], {tos}::bigint[])
                      WITH ORDINALITY AS s(resolution, lo, hi, segment)
                 JOIN tally.rollup r ON r.resolution = s.resolution
                      AND r.bucket >= s.lo AND r.bucket < s.hi
                 WHERE {project_sql}
                 ORDER BY s.segment, r.project, r.bucket, r.key"
            ),
            &conditions.params(),
        )?;
        let mut out = Vec::with_capacity(rows.len());
        let mut keys = Vec::new();
        let mut projects = Vec::new();
        for row in &rows {
            let resolution: i16 = row.get(0);
            let bucket: i64 = row.get(1);
            let project: i64 = row.get(2);
            let key: i64 = row.get(3);
            let place = || {
                format!(
                    "rollup row (family {}, resolution {resolution}, project {project}, \
                     bucket {bucket}, key {key})",
                    query.family.code()
                )
            };
            out.push(RollupRow {
                project: None,
                resolution: resolution_of(resolution)?,
                bucket,
                key,
                name: None,
                measures: measures(row, &place)?,
            });
            keys.push(key);
            projects.push(project);
        }
        if key_dim(query.family).is_some() {
            let names = self.dict.names(&mut *client, &keys)?;
            for (row, name) in out.iter_mut().zip(names) {
                row.name = name;
            }
        }
        if query.projects == ProjectScope::Each {
            let names = self.dict.names(&mut *client, &projects)?;
            for (row, name) in out.iter_mut().zip(names) {
                row.project = name;
            }
        }
        Ok(out)
    }

    /// The project's code for a state-table read: `Ok(None)` when the project was never
    /// stored (its answer is empty), `Ok(Some(None))` for every project.
    fn state_project(
        &self,
        client: &mut postgres::Client,
        project: Option<&str>,
    ) -> Result<Option<Option<i64>>> {
        match project {
            None => Ok(Some(None)),
            Some(name) => Ok(self.dict.find(client, Dim::Project, name)?.map(Some)),
        }
    }

    pub fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>> {
        let mut client = self.conn()?;
        let Some(project) = self.state_project(&mut client, filter.project.as_deref())? else {
            return Ok(Vec::new());
        };
        let mut conditions = Conditions::default();
        conditions.push("p.dim =", i16::from(Dim::Project as u8));
        if let Some(code) = project {
            conditions.push("s.project =", code);
        }
        conditions.range("s.status_ts", filter);
        let rows = client.query(
            &format!(
                "SELECT p.value, s.job_id, s.status, s.status_ts, s.queued_ts, s.running_ts,
                        s.finished_ts
                 FROM tally.job_state s JOIN tally.dict p ON p.code = s.project
                 WHERE {} ORDER BY s.project, s.job_id COLLATE \"C\"",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        rows.iter()
            .map(|row| {
                let job_id: String = row.get(1);
                let status: i16 = row.get(2);
                let status = u8::try_from(status)
                    .ok()
                    .and_then(JobStatus::from_code)
                    .ok_or_else(|| {
                        Error::Corrupt(format!("job {job_id:?}: status code {status}"))
                    })?;
                Ok(JobState {
                    project: row.get(0),
                    job_id,
                    status,
                    status_ts: row.get(3),
                    queued_ts: row.get(4),
                    running_ts: row.get(5),
                    finished_ts: row.get(6),
                })
            })
            .collect()
    }

    pub fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>> {
        let mut client = self.conn()?;
        let Some(project) = self.state_project(&mut client, project)? else {
            return Ok(Vec::new());
        };
        let mut conditions = Conditions::default();
        conditions.push("p.dim =", i16::from(Dim::Project as u8));
        conditions.push("a.dim =", i16::from(Dim::Agent as u8));
        if let Some(code) = project {
            conditions.push("s.project =", code);
        }
        let rows = client.query(
            &format!(
                "SELECT p.value, a.value, s.ts, s.active_tasks, s.queued_tasks, s.capacity,
                        s.cpu_pct, s.mem_pct
                 FROM tally.agent_state s
                 JOIN tally.dict p ON p.code = s.project
                 JOIN tally.dict a ON a.code = s.agent
                 WHERE {} ORDER BY a.value COLLATE \"C\", p.value COLLATE \"C\"",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        rows.iter()
            .map(|row| {
                Ok(AgentState {
                    project: row.get(0),
                    agent_id: row.get(1),
                    ts: crate::from_ms(row.get(2))?,
                    active_tasks: unsigned(row.get(3)),
                    queued_tasks: unsigned(row.get(4)),
                    capacity: unsigned(row.get(5)),
                    cpu_pct: row.get(6),
                    mem_pct: row.get(7),
                })
            })
            .collect()
    }

    pub fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>> {
        let mut client = self.conn()?;
        let Some(project) = self.state_project(&mut client, filter.project.as_deref())? else {
            return Ok(Vec::new());
        };
        let (from, to) = widened_range(filter.from, filter.to, Resolution::Hour);
        let mut conditions = Conditions::default();
        conditions.push("a.dim =", i16::from(Dim::Agent as u8));
        if let Some(code) = project {
            conditions.push("s.project =", code);
        }
        if from != NEG_INF {
            conditions.push("s.hour >=", from);
        }
        if to != POS_INF {
            conditions.push("s.hour <", to);
        }
        let rows = client.query(
            &format!(
                "SELECT a.value, s.hour, sum(s.snapshots)::text, sum(s.active_sum)::text,
                        sum(s.queued_sum)::text, sum(s.capacity_sum)::text, max(s.peak_active)
                 FROM tally.agent_load s JOIN tally.dict a ON a.code = s.agent
                 WHERE {} GROUP BY a.value, s.hour ORDER BY a.value COLLATE \"C\", s.hour",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        rows.iter()
            .map(|row| {
                let agent_id: String = row.get(0);
                let hour: i64 = row.get(1);
                let field = |name: &str| format!("agent load of {agent_id:?} at {hour}: {name}");
                Ok(AgentLoadRow {
                    sums: AgentLoadSums {
                        snapshots: numeric(row.get(2), &field("snapshots"))?,
                        active_sum: numeric(row.get(3), &field("active_sum"))?,
                        queued_sum: numeric(row.get(4), &field("queued_sum"))?,
                        capacity_sum: numeric(row.get(5), &field("capacity_sum"))?,
                        peak_active: unsigned(row.get(6)),
                    },
                    agent_id,
                    hour,
                })
            })
            .collect()
    }

    pub fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>> {
        let mut client = self.conn()?;
        let Some(project) = self.state_project(&mut client, project)? else {
            return Ok(Vec::new());
        };
        let mut conditions = Conditions::default();
        conditions.push("s.minute >=", since.timestamp());
        if let Some(code) = project {
            conditions.push("s.project =", code);
        }
        let rows = client.query(
            &format!(
                "SELECT s.minute, s.kind, s.n, s.errors, s.latency FROM tally.rollup_minute s
                 WHERE {} ORDER BY s.minute, s.project, s.kind",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        rows.iter()
            .map(|row| {
                let minute: i64 = row.get(0);
                let kind: i16 = row.get(1);
                let kind = u8::try_from(kind)
                    .ok()
                    .and_then(Kind::from_code)
                    .ok_or_else(|| {
                        Error::Corrupt(format!("minute row at {minute}: kind code {kind}"))
                    })?;
                let mut latency = LatencySketch::default();
                if let Some(bytes) = row.get::<_, Option<&[u8]>>(4) {
                    latency.merge_encoded(bytes).map_err(|e| {
                        Error::Corrupt(format!("minute row at {minute} ({kind}): latency: {e}"))
                    })?;
                }
                Ok(MinuteRow {
                    minute,
                    kind,
                    n: unsigned(row.get(2)),
                    errors: unsigned(row.get(3)),
                    latency,
                })
            })
            .collect()
    }

    pub fn error_classes(&self) -> Result<Vec<(i64, String)>> {
        let mut client = self.conn()?;
        let rows = client.query(
            "SELECT code, value FROM tally.dict WHERE dim = $1 ORDER BY code",
            &[&i16::from(Dim::ErrorClass as u8)],
        )?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    pub fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64> {
        let mut client = self.conn()?;
        let Some(project) = self.state_project(&mut client, project)? else {
            return Ok(0);
        };
        let mut conditions = Conditions::default();
        conditions.push("s.minute >=", since.timestamp());
        if let Some(code) = project {
            conditions.push("s.project =", code);
        }
        let row = client.query_one(
            &format!(
                "SELECT count(DISTINCT s.user_code) FROM tally.recent_user s WHERE {}",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        Ok(unsigned(row.get(0)))
    }
}
