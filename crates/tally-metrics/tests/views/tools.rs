//! Tool profiles and where their failures concentrate.

use tally_metrics::{Confidence, RiskPattern, risks, tools};
use tally_models::Event;
use tally_store::rollup::Facet;
use tally_store_contract::events::Exec;

use crate::support::{close, exec, failed, filter, oct, ok, options, store};

fn tool(name: &str, x: Exec) -> Exec {
    Exec {
        tool: name.to_owned(),
        ..x
    }
}

#[test]
fn profiles_the_busiest_first() {
    let events = [
        exec(
            "a",
            "p1",
            oct(1, 10, 0),
            tool(
                "web_search",
                Exec {
                    duration_ms: 100.0,
                    ..ok()
                },
            ),
        ),
        exec(
            "b",
            "p1",
            oct(1, 11, 0),
            tool(
                "web_search",
                Exec {
                    duration_ms: 200.0,
                    ..ok()
                },
            ),
        ),
        exec(
            "c",
            "p1",
            oct(2, 9, 0),
            tool(
                "web_search",
                Exec {
                    duration_ms: 300.0,
                    error: Some("timeout".to_owned()),
                    ..failed()
                },
            ),
        ),
        exec(
            "d",
            "p2",
            oct(2, 10, 0),
            tool(
                "code_edit",
                Exec {
                    duration_ms: 50.0,
                    ..ok()
                },
            ),
        ),
    ];
    let store = store(&events);
    let profiles = tools(&store, &filter(None, None, None), &options()).unwrap();
    let summary: Vec<_> = profiles
        .iter()
        .map(|p| {
            (
                p.tool_name.as_str(),
                p.total_executions,
                p.successful_executions,
                p.failed_executions,
                p.success_rate,
                p.avg_duration_seconds,
                p.total_cost,
                p.avg_tokens,
                p.last_used.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "web_search",
                3,
                2,
                1,
                2.0 / 3.0,
                0.6 / 3.0,
                0.006,
                15.0,
                "2026-10-02T09:00:00.000Z"
            ),
            (
                "code_edit",
                1,
                1,
                0,
                1.0,
                0.05,
                0.002,
                15.0,
                "2026-10-02T10:00:00.000Z"
            ),
        ]
    );
    assert_eq!(profiles[1].confidence_level, Confidence::Low);
    // Percentiles come from the sketch (within its 1 % error) at rank floor(q (n - 1)):
    // of 100, 200 and 300 ms, rank 1 for both.
    assert!(close(profiles[0].p50_duration_ms, 200.0, 0.01));
    assert!(close(profiles[0].p99_duration_ms, 200.0, 0.01));
    // The only failure is a timeout: all of web_search's failures.
    assert_eq!(
        profiles[0].risk_patterns,
        vec![RiskPattern {
            tool_name: "web_search".to_owned(),
            facet: Facet::ErrorClass,
            value: "timeout".to_owned(),
            executions: 1,
            failures: 1,
            failure_rate: 1.0,
            lift: None,
            share_of_failures: 1.0,
            description: "100 % of web_search's failures are `timeout` (1 of 1)".to_owned(),
        }]
    );
    assert!(profiles[1].risk_patterns.is_empty());
}

/// run_tests: five runs at 14:00, four failing (three timeouts), five at 09:00 passing.
fn afternoon_failures() -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..5 {
        let x = match i {
            0..3 => Exec {
                error: Some("timeout".to_owned()),
                ..failed()
            },
            3 => failed(),
            _ => ok(),
        };
        events.push(exec(
            &format!("pm{i}"),
            "p1",
            oct(1, 14, i),
            tool("run_tests", x),
        ));
        events.push(exec(
            &format!("am{i}"),
            "p1",
            oct(1, 9, i),
            tool("run_tests", ok()),
        ));
    }
    events
}

#[test]
fn risks_the_strongest_first() {
    let store = store(&afternoon_failures());
    let found = risks(&store, &filter(None, None, None), &options()).unwrap();
    assert_eq!(
        found,
        vec![
            // 4 of 5 at 14:00 against 4 of 10 overall: twice the usual rate.
            RiskPattern {
                tool_name: "run_tests".to_owned(),
                facet: Facet::HourOfDay,
                value: "14:00 UTC".to_owned(),
                executions: 5,
                failures: 4,
                failure_rate: 0.8,
                lift: Some(2.0),
                share_of_failures: 1.0,
                description:
                    "run_tests fails 80 % of the time at 14:00 UTC (4 of 5), 2.0× its usual 40 %"
                        .to_owned(),
            },
            RiskPattern {
                tool_name: "run_tests".to_owned(),
                facet: Facet::ErrorClass,
                value: "timeout".to_owned(),
                executions: 3,
                failures: 3,
                failure_rate: 1.0,
                lift: None,
                share_of_failures: 0.75,
                description: "75 % of run_tests's failures are `timeout` (3 of 4)".to_owned(),
            },
        ]
    );
}

#[test]
fn profiles_cover_the_last_thirty_days_by_default() {
    let events = [
        exec(
            "old",
            "p1",
            oct(1, 10, 0) - chrono::Duration::days(40),
            ok(),
        ),
        exec("new", "p1", oct(1, 10, 0), ok()),
    ];
    let store = store(&events);
    let profiles = tools(&store, &filter(None, None, None), &options()).unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].total_executions, 1);
}
