//! The overall summary: executions and runs added, jobs by their latest state, the
//! month's cost against the budget.

use tally_metrics::{AnalyticsSummary, QaSummary, ViewOptions, summary, summary_from_raw};
use tally_models::{Event, JobStatus, QaStatus};
use tally_store::Filter;

use crate::support::{exec, failed, filter, job, oct, ok, options, run, store};

/// Executions and runs over three days, one of them September's; three jobs.
fn three_days() -> Vec<Event> {
    vec![
        // $0.002, 15 tokens; $0.002, 15 tokens, failed.
        exec("x1", "p1", oct(1, 10, 0), ok()),
        exec("x2", "p1", oct(2, 9, 0), failed()),
        run(
            "r1",
            "p1",
            oct(1, 11, 0),
            120.0,
            Some("2loop"),
            QaStatus::Passed,
            Some(("gpt-4o", 1000, 500, 30_000_000)),
        ),
        run(
            "r2",
            "p2",
            oct(0, 12, 0),
            60.0,
            Some("3loop"),
            QaStatus::Failed,
            Some(("claude", 200, 100, 10_000_000)),
        ),
        run(
            "r3",
            "p1",
            oct(2, 8, 0),
            30.0,
            None,
            QaStatus::Warning,
            None,
        ),
        job("j1a", "p1", oct(1, 9, 0), "j1", JobStatus::Queued),
        job("j1b", "p1", oct(1, 9, 5), "j1", JobStatus::Running),
        job("j1c", "p1", oct(1, 9, 30), "j1", JobStatus::Completed),
        job("j2", "p2", oct(2, 10, 0), "j2", JobStatus::Queued),
        job("j3", "p1", oct(2, 11, 0), "j3", JobStatus::Failed),
    ]
}

fn check(events: &[Event], filter: Filter, options: ViewOptions, expected: AnalyticsSummary) {
    let store = store(events);
    assert_eq!(summary(&store, &filter, &options).unwrap(), expected);
    // The rollup tier and the raw events agree.
    assert_eq!(
        summary_from_raw(&store, &filter, &options).unwrap(),
        expected
    );
}

fn qa(passed: u64, warning: u64, failed: u64, pass_rate: f64) -> QaSummary {
    QaSummary {
        total_qa_runs: passed + warning + failed,
        qa_passed: passed,
        qa_warning: warning,
        qa_failed: failed,
        qa_error: 0,
        qa_not_run: 0,
        pass_rate,
    }
}

#[test]
fn everything() {
    let options = ViewOptions {
        monthly_budget: Some(1.0),
        ..options()
    };
    check(
        &three_days(),
        Filter::default(),
        options,
        AnalyticsSummary {
            total_runs: 3,
            total_jobs: 3,
            // Executions 15 + 15, runs 1500 + 300.
            total_tokens: 1830,
            // Executions 0.002 + 0.002, runs 0.03 + 0.01.
            total_cost: 0.044,
            avg_cost_per_run: 0.04 / 3.0,
            avg_duration_seconds: (120.0 + 60.0 + 30.0) / 3.0,
            jobs_completed: 1,
            jobs_failed: 1,
            jobs_cancelled: 0,
            jobs_running: 0,
            jobs_queued: 1,
            runs_2loop: 1,
            runs_3loop: 1,
            qa_summary: qa(1, 1, 1, 1.0 / 3.0),
            monthly_budget: Some(1.0),
            // October: x1, x2, r1 (r2 is September's, r3 cost nothing).
            current_month_cost: 0.034,
            budget_remaining: Some(1.0 - 0.034),
            generated_at: "2026-10-02T12:00:00.000Z".to_owned(),
            total_executions: 2,
            success_rate: 0.5,
        },
    );
}

#[test]
fn one_project_from_october() {
    check(
        &three_days(),
        filter(Some("p1"), Some(oct(1, 0, 0)), None),
        options(),
        AnalyticsSummary {
            total_runs: 2,
            // j1 (completed on the 1st) and j3; j2 is p2's.
            total_jobs: 2,
            total_tokens: 15 + 15 + 1500,
            total_cost: 0.034,
            avg_cost_per_run: 0.03 / 2.0,
            avg_duration_seconds: 75.0,
            jobs_completed: 1,
            jobs_failed: 1,
            jobs_cancelled: 0,
            jobs_running: 0,
            jobs_queued: 0,
            runs_2loop: 1,
            runs_3loop: 0,
            qa_summary: qa(1, 1, 0, 0.5),
            monthly_budget: None,
            current_month_cost: 0.034,
            budget_remaining: None,
            generated_at: "2026-10-02T12:00:00.000Z".to_owned(),
            total_executions: 2,
            success_rate: 0.5,
        },
    );
}

#[test]
fn a_job_counts_in_the_range_of_its_latest_change() {
    // j1 was queued on the 1st and completed on the 2nd: only the 2nd counts it.
    let events = [
        job("a", "p1", oct(1, 23, 0), "j1", JobStatus::Queued),
        job("b", "p1", oct(2, 1, 0), "j1", JobStatus::Completed),
    ];
    let first = check_jobs(
        &events,
        filter(None, Some(oct(1, 0, 0)), Some(oct(2, 0, 0))),
    );
    let second = check_jobs(
        &events,
        filter(None, Some(oct(2, 0, 0)), Some(oct(3, 0, 0))),
    );
    assert_eq!((first.total_jobs, first.jobs_queued), (0, 0));
    assert_eq!((second.total_jobs, second.jobs_completed), (1, 1));
}

fn check_jobs(events: &[Event], filter: Filter) -> AnalyticsSummary {
    let store = store(events);
    let summary = summary(&store, &filter, &options()).unwrap();
    assert_eq!(
        summary,
        summary_from_raw(&store, &filter, &options()).unwrap()
    );
    summary
}

#[test]
fn nothing_stored() {
    check(
        &[],
        Filter::default(),
        options(),
        AnalyticsSummary {
            total_runs: 0,
            total_jobs: 0,
            total_tokens: 0,
            total_cost: 0.0,
            avg_cost_per_run: 0.0,
            avg_duration_seconds: 0.0,
            jobs_completed: 0,
            jobs_failed: 0,
            jobs_cancelled: 0,
            jobs_running: 0,
            jobs_queued: 0,
            runs_2loop: 0,
            runs_3loop: 0,
            qa_summary: qa(0, 0, 0, 0.0),
            monthly_budget: None,
            current_month_cost: 0.0,
            budget_remaining: None,
            generated_at: "2026-10-02T12:00:00.000Z".to_owned(),
            total_executions: 0,
            success_rate: 0.0,
        },
    );
}
