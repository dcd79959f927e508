//! Per-project and per-model breakdowns: the seed's `ProjectSummary` and
//! `ModelSummary`, with executions beside runs.

use std::collections::BTreeMap;

use serde::Serialize;
use tally_models::QaStatus;
use tally_store::rollup::{Family, Measures, RunMode};
use tally_store::{Filter, RollupReader};

use crate::Result;
use crate::fold::{by_key, by_project, dollars, from_millis, ratio, rfc3339};

/// One project. Tokens and cost add executions and runs; durations and QA are runs'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectSummary {
    pub project_name: String,
    pub runs_count: u64,
    /// The latest run's time, `None` without runs.
    pub last_run_time: Option<String>,
    pub total_tokens: u128,
    pub total_cost: f64,
    pub avg_duration_seconds: f64,
    pub qa_passed: u64,
    pub qa_warning: u64,
    pub qa_failed: u64,
    pub qa_not_run: u64,
    /// `passed / (passed + warning + failed)`, 0 without such runs.
    pub qa_pass_rate: f64,
    pub total_executions: u64,
    pub success_rate: f64,
}

/// Every project with runs or executions in the filter's range, by name.
///
/// # Errors
/// A storage failure.
pub fn projects(reader: &dyn RollupReader, filter: &Filter) -> Result<Vec<ProjectSummary>> {
    let runs = by_project(reader, Family::Runs, filter)?;
    let executions = by_project(reader, Family::Executions, filter)?;
    let mut names: Vec<&String> = runs.keys().chain(executions.keys()).collect();
    names.sort();
    names.dedup();
    let empty = BTreeMap::new();
    Ok(names
        .into_iter()
        .map(|name| {
            let mut run_total = Measures::default();
            let mut qa = [0u64; QaStatus::ALL.len()];
            for (&key, m) in runs.get(name).unwrap_or(&empty) {
                run_total.merge(m);
                let (status, _) = RunMode::split_key(key);
                if let Some(slot) = qa.get_mut(usize::from(status)) {
                    *slot += m.n;
                }
            }
            let mut exec_total = Measures::default();
            for m in executions.get(name).unwrap_or(&empty).values() {
                exec_total.merge(m);
            }
            let count = |s: QaStatus| qa[usize::from(s.code())];
            let (passed, warning, failed) = (
                count(QaStatus::Passed),
                count(QaStatus::Warning),
                count(QaStatus::Failed),
            );
            ProjectSummary {
                project_name: name.clone(),
                runs_count: run_total.n,
                last_run_time: (run_total.n > 0).then(|| rfc3339(from_millis(run_total.last_ts))),
                total_tokens: run_total.tokens() + exec_total.tokens(),
                total_cost: dollars(run_total.cost_nusd + exec_total.cost_nusd),
                avg_duration_seconds: ratio(run_total.duration_us as f64 / 1e6, run_total.n as f64),
                qa_passed: passed,
                qa_warning: warning,
                qa_failed: failed,
                qa_not_run: count(QaStatus::NotRun),
                qa_pass_rate: ratio(passed as f64, (passed + warning + failed) as f64),
                total_executions: exec_total.n,
                success_rate: ratio(exec_total.ok as f64, exec_total.n as f64),
            }
        })
        .collect())
}

/// One LLM model: what the runs that used it and the executions that called it spent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    pub model_name: String,
    /// Input plus output tokens (cached and reasoning tokens are inside these).
    pub total_tokens: u128,
    pub total_cost: f64,
    /// Runs that used the model plus executions that called it.
    pub usage_count: u64,
    /// This model's share of the cost of every model, in [0, 1].
    pub cost_share: f64,
    pub input_tokens: u128,
    pub output_tokens: u128,
    pub cache_read_tokens: u128,
    pub cache_write_tokens: u128,
    pub reasoning_tokens: u128,
    /// The part of `total_cost` tally computed from its price table.
    pub computed_cost: f64,
    pub runs: u64,
    pub executions: u64,
    /// Whether the price table knows the model. When false, records of it that sent no
    /// cost count $0: their cost is unknown, not free. The rollups do not know the
    /// table, so this is `true` here and set by the caller that holds it.
    pub priced: bool,
}

/// Every model used in the filter's range, the most expensive first.
///
/// # Errors
/// A storage failure.
pub fn models(reader: &dyn RollupReader, filter: &Filter) -> Result<Vec<ModelSummary>> {
    let mut merged: BTreeMap<String, (Measures, u64, u64)> = BTreeMap::new();
    for (family, is_run) in [
        (Family::RunsByModel, true),
        (Family::ExecutionsByModel, false),
    ] {
        for (key, m) in by_key(reader, family, filter)? {
            // Executions without a model roll up under code 0, which names no model.
            let Some(name) = key.name else { continue };
            let entry = merged.entry(name).or_default();
            entry.0.merge(&m);
            if is_run {
                entry.1 += m.n;
            } else {
                entry.2 += m.n;
            }
        }
    }
    let total_cost: i128 = merged.values().map(|(m, _, _)| m.cost_nusd).sum();
    let mut out: Vec<ModelSummary> = merged
        .into_iter()
        .map(|(model_name, (m, runs, executions))| ModelSummary {
            model_name,
            total_tokens: m.tokens(),
            total_cost: dollars(m.cost_nusd),
            usage_count: runs + executions,
            cost_share: ratio(m.cost_nusd as f64, total_cost as f64),
            input_tokens: m.input_tokens,
            output_tokens: m.output_tokens,
            cache_read_tokens: m.cache_read_tokens,
            cache_write_tokens: m.cache_write_tokens,
            reasoning_tokens: m.reasoning_tokens,
            computed_cost: dollars(m.computed_cost_nusd),
            runs,
            executions,
            priced: true,
        })
        .collect();
    out.sort_by(|a, b| {
        b.total_cost
            .total_cmp(&a.total_cost)
            .then_with(|| a.model_name.cmp(&b.model_name))
    });
    Ok(out)
}
