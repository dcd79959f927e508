//! The overall summary: the seed's STAGE 11 `AnalyticsSummary`, plus executions.

use serde::Serialize;
use tally_models::{JobStatus, QaStatus};
use tally_store::rollup::{Family, RunMode};
use tally_store::{
    ExecutionTotals, Filter, JobTotals, RollupReader, RunTotals, Totals, TotalsReader,
};

use crate::Result;
use crate::fold::{ViewOptions, by_key, dollars, ratio, total};

/// QA verdicts across runs. `pass_rate = passed / (passed + warning + failed)`, 0 when
/// no run has one of those verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QaSummary {
    /// Runs whose QA ran (passed, warning, failed or error).
    pub total_qa_runs: u64,
    pub qa_passed: u64,
    pub qa_warning: u64,
    pub qa_failed: u64,
    pub qa_error: u64,
    pub qa_not_run: u64,
    pub pass_rate: f64,
}

/// The overall summary. Tokens and cost add executions and runs; averages per run are
/// over runs; jobs count distinct `job_id`s by the status of their latest record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyticsSummary {
    pub total_runs: u64,
    pub total_jobs: u64,
    pub total_tokens: u128,
    pub total_cost: f64,
    pub avg_cost_per_run: f64,
    pub avg_duration_seconds: f64,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    pub jobs_cancelled: u64,
    pub jobs_running: u64,
    pub jobs_queued: u64,
    pub runs_2loop: u64,
    pub runs_3loop: u64,
    pub qa_summary: QaSummary,
    pub monthly_budget: Option<f64>,
    /// Cost of the calendar month (UTC) that contains `generated_at`, for the filter's
    /// project, whatever the filter's time range.
    pub current_month_cost: f64,
    pub budget_remaining: Option<f64>,
    pub generated_at: String,
    pub total_executions: u64,
    /// Successful executions over all executions, 0 when there are none.
    pub success_rate: f64,
}

/// The raw sums the summary is composed from, read from the rollup tier: executions
/// and runs from their rollups, jobs from the live job state. Equal to what
/// [`tally_store::TotalsReader`] recomputes from raw rows.
///
/// # Errors
/// A storage failure.
pub fn totals(reader: &dyn RollupReader, filter: &Filter) -> Result<Totals> {
    let executions = total(reader, Family::Executions, filter)?;
    let mut runs = RunTotals::default();
    for (key, m) in by_key(reader, Family::Runs, filter)? {
        let (qa, mode) = RunMode::split_key(key.key);
        runs.count += m.n;
        runs.tokens += m.tokens();
        runs.cost_nanos += m.cost_nusd;
        runs.duration_us += m.duration_us;
        match mode {
            RunMode::TwoLoop => runs.mode_2loop += m.n,
            RunMode::ThreeLoop => runs.mode_3loop += m.n,
            RunMode::Other => {}
        }
        if let Some(slot) = runs.qa.get_mut(usize::from(qa)) {
            *slot += m.n;
        }
    }
    let mut jobs = JobTotals::default();
    for job in reader.job_states(filter)? {
        jobs.distinct += 1;
        jobs.by_status[usize::from(job.status.code())] += 1;
    }
    Ok(Totals {
        executions: ExecutionTotals {
            count: executions.n,
            successes: executions.ok,
            tokens: executions.tokens(),
            cost_nanos: executions.cost_nusd,
            duration_us: executions.duration_us,
        },
        runs,
        jobs,
    })
}

/// The cost of the calendar month (UTC) that contains `options.now`, for the filter's
/// project, whatever the filter's time range.
pub(crate) fn current_month_cost(
    reader: &dyn RollupReader,
    project: Option<&str>,
    options: &ViewOptions,
) -> Result<f64> {
    let month = Filter {
        project: project.map(str::to_owned),
        from: Some(options.month_start()),
        to: None,
    };
    let executions = total(reader, Family::Executions, &month)?;
    let runs = total(reader, Family::Runs, &month)?;
    Ok(dollars(executions.cost_nusd + runs.cost_nusd))
}

/// The summary of the events `filter` selects, from the rollup tier.
///
/// # Errors
/// A storage failure.
pub fn summary(
    reader: &dyn RollupReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<AnalyticsSummary> {
    let totals = totals(reader, filter)?;
    let month_cost = current_month_cost(reader, filter.project.as_deref(), options)?;
    Ok(compose(&totals, month_cost, options))
}

/// The summary recomputed from raw rows (slow; the reference the rollups are checked
/// against).
///
/// # Errors
/// A storage failure.
pub fn summary_from_raw(
    reader: &dyn TotalsReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<AnalyticsSummary> {
    let totals = reader.totals(filter)?;
    let month = reader.totals(&Filter {
        project: filter.project.clone(),
        from: Some(options.month_start()),
        to: None,
    })?;
    let month_cost = dollars(month.executions.cost_nanos + month.runs.cost_nanos);
    Ok(compose(&totals, month_cost, options))
}

/// The QA verdicts of the runs `filter` selects.
///
/// # Errors
/// A storage failure.
pub fn qa(reader: &dyn RollupReader, filter: &Filter) -> Result<QaSummary> {
    Ok(qa_summary(&totals(reader, filter)?.runs))
}

fn qa_summary(runs: &RunTotals) -> QaSummary {
    let qa = |status: QaStatus| runs.qa[usize::from(status.code())];
    let (passed, warning, failed) = (
        qa(QaStatus::Passed),
        qa(QaStatus::Warning),
        qa(QaStatus::Failed),
    );
    QaSummary {
        total_qa_runs: passed + warning + failed + qa(QaStatus::Error),
        qa_passed: passed,
        qa_warning: warning,
        qa_failed: failed,
        qa_error: qa(QaStatus::Error),
        qa_not_run: qa(QaStatus::NotRun),
        pass_rate: ratio(passed as f64, (passed + warning + failed) as f64),
    }
}

fn compose(totals: &Totals, current_month_cost: f64, options: &ViewOptions) -> AnalyticsSummary {
    let runs = &totals.runs;
    let executions = &totals.executions;
    let jobs = |status: JobStatus| totals.jobs.by_status[usize::from(status.code())];
    AnalyticsSummary {
        total_runs: runs.count,
        total_jobs: totals.jobs.distinct,
        total_tokens: executions.tokens + runs.tokens,
        total_cost: dollars(executions.cost_nanos + runs.cost_nanos),
        avg_cost_per_run: ratio(dollars(runs.cost_nanos), runs.count as f64),
        avg_duration_seconds: ratio(runs.duration_us as f64 / 1e6, runs.count as f64),
        jobs_completed: jobs(JobStatus::Completed),
        jobs_failed: jobs(JobStatus::Failed),
        jobs_cancelled: jobs(JobStatus::Cancelled),
        jobs_running: jobs(JobStatus::Running),
        jobs_queued: jobs(JobStatus::Queued),
        runs_2loop: runs.mode_2loop,
        runs_3loop: runs.mode_3loop,
        qa_summary: qa_summary(runs),
        monthly_budget: options.monthly_budget,
        current_month_cost,
        budget_remaining: options
            .monthly_budget
            .map(|budget| budget - current_month_cost),
        generated_at: options.generated_at(),
        total_executions: executions.count,
        success_rate: ratio(executions.successes as f64, executions.count as f64),
    }
}
