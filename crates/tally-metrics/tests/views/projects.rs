//! Projects: each one's runs and executions, by name.

use tally_metrics::{ProjectSummary, projects};
use tally_models::QaStatus;

use crate::support::{exec, failed, filter, oct, ok, run, store};

#[test]
fn every_project_by_name() {
    let store = store(&[
        exec("x1", "web", oct(1, 10, 0), ok()),
        exec("x2", "web", oct(1, 11, 0), failed()),
        run(
            "r1",
            "api",
            oct(1, 9, 0),
            100.0,
            None,
            QaStatus::Passed,
            Some(("gpt-4o", 100, 50, 5_000_000)),
        ),
        run(
            "r2",
            "api",
            oct(2, 9, 0),
            50.0,
            None,
            QaStatus::Failed,
            None,
        ),
        run(
            "r3",
            "api",
            oct(2, 10, 0),
            30.0,
            None,
            QaStatus::NotRun,
            None,
        ),
        exec("x3", "api", oct(2, 11, 0), ok()),
    ]);
    assert_eq!(
        projects(&store, &filter(None, None, None)).unwrap(),
        vec![
            ProjectSummary {
                project_name: "api".to_owned(),
                runs_count: 3,
                last_run_time: Some("2026-10-02T10:00:00.000Z".to_owned()),
                // r1 150 tokens and $0.005, x3 15 tokens and $0.002.
                total_tokens: 165,
                total_cost: 0.007,
                avg_duration_seconds: 60.0,
                qa_passed: 1,
                qa_warning: 0,
                qa_failed: 1,
                qa_not_run: 1,
                qa_pass_rate: 0.5,
                total_executions: 1,
                success_rate: 1.0,
            },
            ProjectSummary {
                project_name: "web".to_owned(),
                runs_count: 0,
                last_run_time: None,
                total_tokens: 30,
                total_cost: 0.004,
                avg_duration_seconds: 0.0,
                qa_passed: 0,
                qa_warning: 0,
                qa_failed: 0,
                qa_not_run: 0,
                qa_pass_rate: 0.0,
                total_executions: 2,
                success_rate: 0.5,
            },
        ]
    );
    // A range keeps the projects active in it: the 2nd holds only api's.
    let second = projects(
        &store,
        &filter(None, Some(oct(2, 0, 0)), Some(oct(3, 0, 0))),
    )
    .unwrap();
    let names: Vec<_> = second
        .iter()
        .map(|p| (p.project_name.as_str(), p.runs_count))
        .collect();
    assert_eq!(names, vec![("api", 2)]);
}
