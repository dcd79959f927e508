//! Costs by project, model, day and hour, and the budget.

use tally_metrics::{
    Budget, BudgetStatus, CostPoint, CostShare, STORAGE_USD_PER_GB_MONTH, ViewOptions, budget,
    costs,
};
use tally_models::{Event, QaStatus};
use tally_store_contract::events::Exec;

use crate::support::{exec, filter, oct, ok, options, run, store};

fn spending() -> Vec<Event> {
    vec![
        // $0.002 with 15 tokens each, unless said.
        exec("x1", "p1", oct(1, 10, 0), ok()),
        exec(
            "x2",
            "p1",
            oct(2, 9, 0),
            Exec {
                cost_nanos: Some(8_000_000),
                input: 100,
                output: 50,
                ..ok()
            },
        ),
        exec(
            "x3",
            "p2",
            oct(2, 9, 30),
            Exec {
                model: Some("claude".to_owned()),
                ..ok()
            },
        ),
        run(
            "r1",
            "p1",
            oct(1, 11, 0),
            120.0,
            None,
            QaStatus::Passed,
            Some(("gpt-4o", 1000, 500, 30_000_000)),
        ),
        run(
            "r2",
            "p2",
            oct(0, 12, 0),
            60.0,
            None,
            QaStatus::Passed,
            Some(("claude", 200, 100, 10_000_000)),
        ),
    ]
}

fn point(period: &str, cost: f64, tokens: u128) -> CostPoint {
    CostPoint {
        period: period.to_owned(),
        cost,
        tokens,
    }
}

fn share(name: &str, cost: f64, share: f64) -> CostShare {
    CostShare {
        name: name.to_owned(),
        cost,
        share,
    }
}

#[test]
fn costs_of_october() {
    let store = store(&spending());
    let costs = costs(
        &store,
        &filter(None, Some(oct(1, 0, 0)), Some(oct(2, 12, 0))),
        5_000,
        &options(),
    )
    .unwrap();
    // x1 0.002 + x2 0.008 + x3 0.002 + r1 0.03 (r2 is September's).
    assert_eq!(costs.total_cost, 0.042);
    assert_eq!(costs.computed_cost, 0.0);
    assert_eq!(costs.total_tokens, 15 + 150 + 15 + 1500);
    assert_eq!(
        costs.by_project,
        vec![
            share("p1", 0.04, 40.0 / 42.0),
            share("p2", 0.002, 2.0 / 42.0)
        ]
    );
    assert_eq!(
        costs.by_model,
        vec![
            share("gpt-4o", 0.04, 40.0 / 42.0),
            share("claude", 0.002, 2.0 / 42.0)
        ]
    );
    assert_eq!(
        costs.daily,
        vec![
            point("2026-10-01", 0.032, 15 + 1500),
            point("2026-10-02", 0.01, 150 + 15)
        ]
    );
    // The 24 hours before the range's end, within the range: from 2026-10-01 12:00.
    assert_eq!(costs.hourly.len(), 24);
    assert_eq!(costs.hourly[0].period, "2026-10-01T12:00:00Z");
    let spent: Vec<_> = costs
        .hourly
        .iter()
        .filter(|p| p.cost > 0.0)
        .cloned()
        .collect();
    assert_eq!(spent, vec![point("2026-10-02T09:00:00Z", 0.01, 150 + 15)]);
    // Five events stored in all, whatever the range.
    assert_eq!(costs.storage.events_stored, 5);
    assert_eq!(costs.storage.bytes_per_event, 1000.0);
    assert_eq!(
        costs.storage.estimated_monthly_cost,
        5_000.0 / 1e9 * STORAGE_USD_PER_GB_MONTH
    );
}

#[test]
fn costs_without_a_range_cover_the_last_days() {
    let store = store(&spending());
    let options = ViewOptions {
        timeseries_days: 3,
        ..options()
    };
    let costs = costs(&store, &filter(Some("p2"), None, None), 0, &options).unwrap();
    assert_eq!(costs.total_cost, 0.012);
    assert_eq!(
        costs.daily,
        vec![
            point("2026-09-30", 0.01, 300),
            point("2026-10-01", 0.0, 0),
            point("2026-10-02", 0.002, 15)
        ]
    );
    assert_eq!(costs.by_project, vec![share("p2", 0.012, 1.0)]);
    assert_eq!(costs.storage.bytes_per_event, 0.0);
}

fn check_budget(monthly_budget: Option<f64>, expected: Budget) {
    let store = store(&spending());
    let options = ViewOptions {
        monthly_budget,
        ..options()
    };
    assert_eq!(
        budget(&store, &filter(None, None, None), &options).unwrap(),
        expected
    );
}

/// October so far: 0.042 in a day and a half of 31 days.
fn october(monthly_budget: Option<f64>, percent_used: Option<f64>, status: BudgetStatus) -> Budget {
    let projected = 0.042 / 1.5 * 31.0;
    Budget {
        monthly_budget,
        current_month_cost: 0.042,
        budget_remaining: monthly_budget.map(|b| b - 0.042),
        percent_used,
        status,
        projected_month_end_cost: projected,
        projected_percent: monthly_budget.map(|b| projected / b * 100.0),
        month: "2026-10".to_owned(),
        days_elapsed: 1.5,
        days_in_month: 31,
        generated_at: "2026-10-02T12:00:00.000Z".to_owned(),
    }
}

#[test]
fn budget_green() {
    check_budget(
        Some(1.0),
        october(Some(1.0), Some(0.042 / 1.0 * 100.0), BudgetStatus::Green),
    );
}

#[test]
fn budget_yellow_from_seventy_percent() {
    check_budget(
        Some(0.05),
        october(Some(0.05), Some(0.042 / 0.05 * 100.0), BudgetStatus::Yellow),
    );
}

#[test]
fn budget_red_from_ninety_percent() {
    check_budget(
        Some(0.042),
        october(Some(0.042), Some(100.0), BudgetStatus::Red),
    );
}

#[test]
fn no_budget() {
    check_budget(None, october(None, None, BudgetStatus::None));
}
