//! Experiment definitions (`tally.experiment`) and the outcome events they are judged on
//! (`tally.outcome`, `tally.outcome_metric`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use postgres::Row;
use serde_json::Value;

use crate::{Error, ExperimentRecord, Filter, OutcomeRecord, PostgresStore, Result, from_ms, ms};

const COLUMNS: &str = "key, seed, variants, coverage, hypothesis, primary_metric, guardrails, \
                       lower_is_better, created_at, started_at, stopped_at, project";

/// The JSON list in column `index` of experiment `key`'s row.
fn list<T: serde::de::DeserializeOwned>(
    row: &Row,
    index: usize,
    key: &str,
    field: &str,
) -> Result<T> {
    let value: Value = row.try_get(index)?;
    serde_json::from_value(value)
        .map_err(|e| Error::Corrupt(format!("experiment {key}: {field}: {e}")))
}

fn record(row: &Row) -> Result<ExperimentRecord> {
    let key: String = row.try_get(0)?;
    let variants = list(row, 2, &key, "variants")?;
    let guardrail_metrics = list(row, 6, &key, "guardrails")?;
    let lower_is_better = list(row, 7, &key, "lower_is_better")?;
    let instant = |index: usize| -> Result<Option<DateTime<Utc>>> {
        row.try_get::<_, Option<i64>>(index)?
            .map(from_ms)
            .transpose()
    };
    Ok(ExperimentRecord {
        seed: row.try_get(1)?,
        variants,
        coverage: row.try_get(3)?,
        hypothesis: row.try_get(4)?,
        primary_metric: row.try_get(5)?,
        guardrail_metrics,
        lower_is_better,
        created_at: from_ms(row.try_get(8)?)?,
        started_at: instant(9)?,
        stopped_at: instant(10)?,
        project: row.try_get(11)?,
        key,
    })
}

fn json(
    experiment: &ExperimentRecord,
    field: &str,
    value: &impl serde::Serialize,
) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|e| Error::Corrupt(format!("experiment {}: {field}: {e}", experiment.key)))
}

impl PostgresStore {
    pub fn create_experiment(&self, experiment: &ExperimentRecord) -> Result<bool> {
        // The unique index on (coalesce(project, ''), key) turns a second definition
        // into no row, on whichever server it arrives.
        let changed = self.conn()?.execute(
            &format!(
                "INSERT INTO tally.experiment ({COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT DO NOTHING"
            ),
            &[
                &experiment.key,
                &experiment.seed,
                &json(experiment, "variants", &experiment.variants)?,
                &experiment.coverage,
                &experiment.hypothesis,
                &experiment.primary_metric,
                &json(experiment, "guardrails", &experiment.guardrail_metrics)?,
                &json(experiment, "lower_is_better", &experiment.lower_is_better)?,
                &ms(experiment.created_at),
                &experiment.started_at.map(ms),
                &experiment.stopped_at.map(ms),
                &experiment.project,
            ],
        )?;
        Ok(changed == 1)
    }

    pub fn experiments(&self) -> Result<Vec<ExperimentRecord>> {
        // Byte order, global ones (no project) first: as the SQLite store lists them.
        let rows = self.conn()?.query(
            &format!(
                "SELECT {COLUMNS} FROM tally.experiment
                 ORDER BY key COLLATE \"C\", project COLLATE \"C\" NULLS FIRST"
            ),
            &[],
        )?;
        rows.iter().map(record).collect()
    }

    pub fn experiment(&self, project: Option<&str>, key: &str) -> Result<Option<ExperimentRecord>> {
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {COLUMNS} FROM tally.experiment
                 WHERE coalesce(project, '') = coalesce($2::text, '') AND key = $1"
            ),
            &[&key, &project],
        )?;
        row.as_ref().map(record).transpose()
    }

    pub fn stop_experiment(
        &self,
        project: Option<&str>,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = self.conn()?.execute(
            "UPDATE tally.experiment SET stopped_at = $2
             WHERE coalesce(project, '') = coalesce($3::text, '') AND key = $1
               AND stopped_at IS NULL",
            &[&key, &ms(at), &project],
        )?;
        Ok(changed == 1)
    }

    pub fn experiment_keys_seen(&self) -> Result<Vec<String>> {
        // One index probe per key (a skip scan over `outcome_by_experiment`), not a
        // scan of every outcome.
        let rows = self.conn()?.query(
            "WITH RECURSIVE seen(key) AS (
                 SELECT min(experiment) FROM tally.outcome
                 UNION ALL
                 SELECT (SELECT min(experiment) FROM tally.outcome WHERE experiment > seen.key)
                 FROM seen WHERE seen.key IS NOT NULL
             )
             SELECT key FROM seen WHERE key IS NOT NULL",
            &[],
        )?;
        let mut keys = rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<Vec<String>, _>>()?;
        keys.sort();
        Ok(keys)
    }

    pub fn outcomes(&self, experiment: &str, filter: &Filter) -> Result<Vec<OutcomeRecord>> {
        let mut client = self.conn()?;
        let rows = client.query(
            "SELECT o.seq, o.ts, o.user_id, o.variant, om.metric, om.value, om.is_bool
             FROM tally.outcome o
             LEFT JOIN tally.outcome_metric om ON om.outcome_seq = o.seq
             WHERE o.experiment = $1
               AND ($2::text IS NULL OR o.project = $2)
               AND ($3::bigint IS NULL OR o.ts >= $3)
               AND ($4::bigint IS NULL OR o.ts < $4)
             ORDER BY o.seq",
            &[
                &experiment,
                &filter.project,
                &filter.from.map(ms),
                &filter.to.map(ms),
            ],
        )?;
        let mut outcomes: Vec<OutcomeRecord> = Vec::new();
        let mut last_seq = None;
        for row in &rows {
            let seq: i64 = row.try_get(0)?;
            if last_seq != Some(seq) {
                last_seq = Some(seq);
                outcomes.push(OutcomeRecord {
                    ts: from_ms(row.try_get(1)?)?,
                    user_id: row.try_get(2)?,
                    variant: row.try_get(3)?,
                    metrics: Vec::new(),
                });
            }
            let metric: Option<String> = row.try_get(4)?;
            if let (Some(metric), Some(outcome)) = (metric, outcomes.last_mut()) {
                outcome
                    .metrics
                    .push((metric, row.try_get(5)?, row.try_get(6)?));
            }
        }
        let order = metric_order(&mut client, &outcomes)?;
        for outcome in &mut outcomes {
            outcome
                .metrics
                .sort_by(|a, b| order.get(&a.0).cmp(&order.get(&b.0)));
        }
        Ok(outcomes)
    }
}

/// The rank of each metric `outcomes` name, in the order the metrics were first stored
/// (by the `seq` of the first outcome naming them, then by name within it): the order
/// the other stores give an outcome's metrics in, their metric dictionary's.
fn metric_order(
    client: &mut postgres::Client,
    outcomes: &[OutcomeRecord],
) -> Result<HashMap<String, (i64, String)>> {
    let mut names: Vec<&str> = outcomes
        .iter()
        .flat_map(|o| o.metrics.iter().map(|(name, _, _)| name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = client.query(
        "SELECT m.metric,
                (SELECT min(outcome_seq) FROM tally.outcome_metric x WHERE x.metric = m.metric)
         FROM unnest($1::text[]) AS m(metric)",
        &[&names],
    )?;
    rows.iter()
        .map(|row| {
            let name: String = row.try_get(0)?;
            let first: Option<i64> = row.try_get(1)?;
            Ok((name.clone(), (first.unwrap_or(i64::MAX), name)))
        })
        .collect()
}
