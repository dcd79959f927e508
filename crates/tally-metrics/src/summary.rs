//! The overall summary: the seed's STAGE 11 `AnalyticsSummary`, plus executions.

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};
use serde::Serialize;
use tally_models::{JobStatus, QaStatus, Usd};
use tally_storage::{Filter, Totals, TotalsReader};

use crate::Result;

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
    pub total_tokens: u64,
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

/// What the summary needs besides the data.
#[derive(Debug, Clone, Copy)]
pub struct SummaryOptions {
    pub monthly_budget: Option<f64>,
    pub now: DateTime<Utc>,
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

fn dollars(nanos: i64) -> f64 {
    Usd::from_nanos(nanos).0
}

/// The summary of the events `filter` selects.
///
/// # Errors
/// A storage failure.
pub fn summary(
    reader: &dyn TotalsReader,
    filter: &Filter,
    options: SummaryOptions,
) -> Result<AnalyticsSummary> {
    let totals = reader.totals(filter)?;
    let month_start = Utc
        .with_ymd_and_hms(options.now.year(), options.now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(options.now);
    let month = Filter {
        project: filter.project.clone(),
        from: Some(month_start),
        to: None,
    };
    let month_totals = reader.totals(&month)?;
    Ok(compose(&totals, &month_totals, options))
}

fn compose(totals: &Totals, month: &Totals, options: SummaryOptions) -> AnalyticsSummary {
    let runs = &totals.runs;
    let executions = &totals.executions;
    let qa = |status: QaStatus| runs.qa[usize::from(status.code())];
    let jobs = |status: JobStatus| totals.jobs.by_status[usize::from(status.code())];
    let (passed, warning, failed) = (
        qa(QaStatus::Passed),
        qa(QaStatus::Warning),
        qa(QaStatus::Failed),
    );
    let current_month_cost = dollars(month.executions.cost_nanos + month.runs.cost_nanos);
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
        qa_summary: QaSummary {
            total_qa_runs: passed + warning + failed + qa(QaStatus::Error),
            qa_passed: passed,
            qa_warning: warning,
            qa_failed: failed,
            qa_error: qa(QaStatus::Error),
            qa_not_run: qa(QaStatus::NotRun),
            pass_rate: ratio(passed as f64, (passed + warning + failed) as f64),
        },
        monthly_budget: options.monthly_budget,
        current_month_cost,
        budget_remaining: options
            .monthly_budget
            .map(|budget| budget - current_month_cost),
        generated_at: options.now.to_rfc3339_opts(SecondsFormat::Millis, true),
        total_executions: executions.count,
        success_rate: ratio(executions.successes as f64, executions.count as f64),
    }
}
