//! Models: what runs and executions spent on each, the most expensive first.

use tally_metrics::{ModelSummary, models};
use tally_models::{Event, QaStatus};
use tally_store_contract::events::Exec;

use crate::support::{exec, filter, oct, ok, run, store};

fn check(events: &[Event], project: Option<&str>, expected: Vec<ModelSummary>) {
    let store = store(events);
    assert_eq!(
        models(&store, &filter(project, None, None)).unwrap(),
        expected
    );
}

#[allow(clippy::too_many_arguments)]
fn model(
    name: &str,
    input: u128,
    output: u128,
    cost: f64,
    share: f64,
    runs: u64,
    executions: u64,
) -> ModelSummary {
    ModelSummary {
        model_name: name.to_owned(),
        total_tokens: input + output,
        total_cost: cost,
        usage_count: runs + executions,
        cost_share: share,
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        computed_cost: 0.0,
        runs,
        executions,
        priced: true,
    }
}

fn usage() -> Vec<Event> {
    vec![
        exec("x1", "p1", oct(1, 10, 0), ok()),
        exec(
            "x2",
            "p1",
            oct(1, 11, 0),
            Exec {
                model: None,
                ..ok()
            },
        ),
        exec(
            "x3",
            "p2",
            oct(1, 12, 0),
            Exec {
                model: Some("claude".to_owned()),
                cost_nanos: Some(5_000_000),
                input: 20,
                output: 10,
                ..ok()
            },
        ),
        run(
            "r1",
            "p1",
            oct(1, 13, 0),
            60.0,
            None,
            QaStatus::Passed,
            Some(("gpt-4o", 1000, 500, 30_000_000)),
        ),
        run(
            "r2",
            "p2",
            oct(1, 14, 0),
            60.0,
            None,
            QaStatus::Passed,
            Some(("claude", 200, 100, 10_000_000)),
        ),
    ]
}

#[test]
fn every_model_the_most_expensive_first() {
    // gpt-4o: r1 0.03 + x1 0.002; claude: r2 0.01 + x3 0.005; x2 names no model.
    check(
        &usage(),
        None,
        vec![
            model("gpt-4o", 1010, 505, 0.032, 32.0 / 47.0, 1, 1),
            model("claude", 220, 110, 0.015, 15.0 / 47.0, 1, 1),
        ],
    );
}

#[test]
fn one_projects_models() {
    check(
        &usage(),
        Some("p2"),
        vec![model("claude", 220, 110, 0.015, 1.0, 1, 1)],
    );
}

#[test]
fn equal_costs_by_name() {
    let events = [
        exec(
            "x1",
            "p1",
            oct(1, 10, 0),
            Exec {
                model: Some("b".to_owned()),
                ..ok()
            },
        ),
        exec(
            "x2",
            "p1",
            oct(1, 10, 0),
            Exec {
                model: Some("a".to_owned()),
                ..ok()
            },
        ),
    ];
    check(
        &events,
        None,
        vec![
            model("a", 10, 5, 0.002, 0.5, 0, 1),
            model("b", 10, 5, 0.002, 0.5, 0, 1),
        ],
    );
}
