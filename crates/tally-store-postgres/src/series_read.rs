//! Period series over the raw `session` and `skill` tables (measures the rollup tier
//! does not keep): one parameterized `GROUP BY` per question, as the SQLite adapter
//! asks it.

use crate::read::{Conditions, unsigned};
use crate::{PostgresStore, RawMeasure, RawSeriesQuery, RawSeriesRow, Result};

impl PostgresStore {
    pub fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Result<Vec<RawSeriesRow>> {
        let mut client = self.conn()?;
        let mut conditions = Conditions::default();
        let step = conditions.bind(query.step_seconds.max(1));
        if let Some(project) = &query.filter.project {
            conditions.push("t.project =", project.clone());
        }
        if let Some(user) = query.user {
            conditions.push("t.user_id =", user.to_owned());
        }
        let (table, valued, sum) = match query.measure {
            RawMeasure::Sessions => ("session", "count(*)", "count(*)::float8"),
            RawMeasure::SessionQuality => (
                "session",
                "count(t.quality)",
                "coalesce(sum(t.quality), 0)::float8",
            ),
            RawMeasure::SkillCompletion => (
                "skill",
                "count(*)",
                "(count(*) FILTER (WHERE t.completed))::float8",
            ),
        };
        if let (RawMeasure::SkillCompletion, Some(skill)) = (query.measure, query.skill) {
            conditions.push("t.skill =", skill.to_owned());
        }
        conditions.range("t.ts", query.filter);
        // Floor division that holds for instants before 1970 too, as SQLite computes it.
        let rows = client.query(
            &format!(
                "SELECT (t.ts / 1000) - (((t.ts / 1000) % {step}) + {step}) % {step} AS bucket,
                        count(*), {valued}, {sum}
                 FROM tally.{table} t WHERE {} GROUP BY bucket ORDER BY bucket",
                conditions.sql()
            ),
            &conditions.params(),
        )?;
        Ok(rows
            .iter()
            .map(|row| RawSeriesRow {
                bucket: row.get(0),
                rows: unsigned(row.get(1)),
                valued: unsigned(row.get(2)),
                sum: row.get(3),
            })
            .collect())
    }
}
