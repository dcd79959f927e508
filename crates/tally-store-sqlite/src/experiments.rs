//! Experiment definitions (`experiment`, migration 4) and outcome reads in SQLite.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Dim, SqliteStore};
use crate::{Error, ExperimentRecord, Filter, OutcomeRecord, Result};

fn instant(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

const COLUMNS: &str = "key, seed, variants, coverage, hypothesis, primary_metric, guardrails, \
                       lower_is_better, created_at, started_at, stopped_at, project";

/// The columns of a row, JSON lists still as text.
type RawRow = (ExperimentRecord, String, String, String);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    let started: Option<i64> = r.get(9)?;
    let stopped: Option<i64> = r.get(10)?;
    let record = ExperimentRecord {
        key: r.get(0)?,
        seed: r.get(1)?,
        variants: Vec::new(),
        coverage: r.get(3)?,
        hypothesis: r.get(4)?,
        primary_metric: r.get(5)?,
        guardrail_metrics: Vec::new(),
        lower_is_better: Vec::new(),
        created_at: instant(r.get(8)?),
        started_at: started.map(instant),
        stopped_at: stopped.map(instant),
        project: r.get(11)?,
    };
    Ok((record, r.get(2)?, r.get(6)?, r.get(7)?))
}

fn finish((mut record, variants, guardrails, lower): RawRow) -> Result<ExperimentRecord> {
    let corrupt = |what: &str| Error::Corrupt(format!("experiment {}: {what}", record.key));
    record.variants = serde_json::from_str(&variants).map_err(|_| corrupt("bad variants"))?;
    record.guardrail_metrics =
        serde_json::from_str(&guardrails).map_err(|_| corrupt("bad guardrails"))?;
    record.lower_is_better =
        serde_json::from_str(&lower).map_err(|_| corrupt("bad lower_is_better"))?;
    Ok(record)
}

fn json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Corrupt(format!("experiment: {e}")))
}

impl SqliteStore {
    pub(crate) fn create_experiment(&self, experiment: &ExperimentRecord) -> Result<bool> {
        let writer = self.writer();
        let changed = writer.conn.execute(
            &format!(
                "INSERT INTO experiment ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT DO NOTHING"
            ),
            params![
                experiment.key,
                experiment.seed,
                json(&experiment.variants)?,
                experiment.coverage,
                experiment.hypothesis,
                experiment.primary_metric,
                json(&experiment.guardrail_metrics)?,
                json(&experiment.lower_is_better)?,
                experiment.created_at.timestamp_millis(),
                experiment.started_at.map(|t| t.timestamp_millis()),
                experiment.stopped_at.map(|t| t.timestamp_millis()),
                experiment.project,
            ],
        )?;
        Ok(changed == 1)
    }

    pub(crate) fn experiments(&self) -> Result<Vec<ExperimentRecord>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM experiment ORDER BY key, project"
        ))?;
        let rows = statement
            .query_map([], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(finish).collect()
    }

    pub(crate) fn experiment(
        &self,
        project: Option<&str>,
        key: &str,
    ) -> Result<Option<ExperimentRecord>> {
        let conn = self.reader()?;
        let row = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM experiment WHERE ifnull(project, '') = ifnull(?2, '') AND key = ?1"
            ))?
            .query_row(params![key, project], raw)
            .optional()?;
        row.map(finish).transpose()
    }

    pub(crate) fn stop_experiment(
        &self,
        project: Option<&str>,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let writer = self.writer();
        let changed = writer.conn.execute(
            "UPDATE experiment SET stopped_at = ?2
             WHERE ifnull(project, '') = ifnull(?3, '') AND key = ?1 AND stopped_at IS NULL",
            params![key, at.timestamp_millis(), project],
        )?;
        Ok(changed == 1)
    }

    pub(crate) fn experiment_keys_seen(&self) -> Result<Vec<String>> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached("SELECT value FROM dict WHERE dim = ?1 ORDER BY value")?;
        let keys = statement
            .query_map([Dim::Experiment as u8], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(keys)
    }

    pub(crate) fn outcomes(&self, experiment: &str, filter: &Filter) -> Result<Vec<OutcomeRecord>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT o.seq, o.ts, u.value, v.value, m.value, om.value, om.is_bool
             FROM outcome o
             JOIN dict u ON u.dim = ?5 AND u.code = o.user
             JOIN dict v ON v.dim = ?6 AND v.code = o.variant
             LEFT JOIN outcome_metric om ON om.outcome_seq = o.seq
             LEFT JOIN dict m ON m.dim = ?7 AND m.code = om.metric
             WHERE o.experiment = (SELECT code FROM dict WHERE dim = ?8 AND value = ?1)
               AND (?2 IS NULL OR o.project = (SELECT code FROM dict WHERE dim = ?9 AND value = ?2))
               AND (?3 IS NULL OR o.ts >= ?3)
               AND (?4 IS NULL OR o.ts < ?4)
             ORDER BY o.seq",
        )?;
        let mut rows = statement.query(params![
            experiment,
            filter.project,
            filter.from.map(|t| t.timestamp_millis()),
            filter.to.map(|t| t.timestamp_millis()),
            Dim::User as u8,
            Dim::Variant as u8,
            Dim::Metric as u8,
            Dim::Experiment as u8,
            Dim::Project as u8,
        ])?;
        let mut outcomes: Vec<OutcomeRecord> = Vec::new();
        let mut last_seq = None;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            if last_seq != Some(seq) {
                last_seq = Some(seq);
                outcomes.push(OutcomeRecord {
                    ts: instant(row.get(1)?),
                    user_id: row.get(2)?,
                    variant: row.get(3)?,
                    metrics: Vec::new(),
                });
            }
            let metric: Option<String> = row.get(4)?;
            if let (Some(metric), Some(outcome)) = (metric, outcomes.last_mut()) {
                let value: f64 = row.get(5)?;
                let is_bool: i64 = row.get(6)?;
                outcome.metrics.push((metric, value, is_bool != 0));
            }
        }
        Ok(outcomes)
    }
}
