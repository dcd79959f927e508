//! Period series over the raw `session` and `skill` tables (measures the rollup tier
//! does not keep): one parameterized `GROUP BY` per question.

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::SqliteStore;
use super::dictionary::Dim;
use crate::{RawMeasure, RawSeriesQuery, RawSeriesRow, Result};

impl SqliteStore {
    pub(crate) fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Result<Vec<RawSeriesRow>> {
        let conn = self.reader()?;
        let step = query.step_seconds.max(1);
        let mut params: Vec<Value> = vec![Value::Integer(step)];
        let mut clauses = Vec::new();
        let mut dictionary_match = |column: &str, dim: Dim, value: &str| {
            params.push(Value::Integer(dim as u8 as i64));
            params.push(Value::Text(value.to_owned()));
            clauses.push(format!(
                "{column} = (SELECT code FROM dict WHERE dim = ?{} AND value = ?{})",
                params.len() - 1,
                params.len()
            ));
        };
        if let Some(project) = &query.filter.project {
            dictionary_match("project", Dim::Project, project);
        }
        if let Some(user) = query.user {
            dictionary_match("user", Dim::User, user);
        }
        let (table, valued, sum) = match query.measure {
            RawMeasure::Sessions => ("session", "COUNT(*)", "COUNT(*)"),
            RawMeasure::SessionQuality => ("session", "COUNT(quality)", "TOTAL(quality)"),
            RawMeasure::SkillCompletion => ("skill", "COUNT(*)", "TOTAL(completed != 0)"),
        };
        if let (RawMeasure::SkillCompletion, Some(skill)) = (query.measure, query.skill) {
            dictionary_match("skill", Dim::Skill, skill);
        }
        if let Some(from) = query.filter.from {
            params.push(Value::Integer(from.timestamp_millis()));
            clauses.push(format!("ts >= ?{}", params.len()));
        }
        if let Some(to) = query.filter.to {
            params.push(Value::Integer(to.timestamp_millis()));
            clauses.push(format!("ts < ?{}", params.len()));
        }
        let filter = if clauses.is_empty() {
            "1".to_owned()
        } else {
            clauses.join(" AND ")
        };
        // Floor division that holds for instants before 1970 too.
        let sql = format!(
            "SELECT (ts / 1000) - (((ts / 1000) % ?1) + ?1) % ?1 AS bucket, COUNT(*), {valued}, {sum} \
             FROM {table} WHERE {filter} GROUP BY bucket ORDER BY bucket"
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let rows = statement
            .query_map(params_from_iter(params), |row| {
                Ok(RawSeriesRow {
                    bucket: row.get(0)?,
                    rows: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
                    valued: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                    sum: row.get::<_, f64>(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
