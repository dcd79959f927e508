//! Daily and hourly series, every period present.

use tally_metrics::{Granularity, TimeSeriesPoint, timeseries};
use tally_models::{Event, QaStatus};

use crate::support::{exec, failed, filter, oct, ok, options, run, store};

fn events() -> Vec<Event> {
    vec![
        exec("x1", "p1", oct(1, 10, 0), ok()),
        exec("x2", "p1", oct(2, 9, 0), failed()),
        exec("x3", "p1", oct(2, 9, 20), ok()),
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
            "r3",
            "p1",
            oct(2, 8, 0),
            30.0,
            None,
            QaStatus::Warning,
            None,
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn point(
    date: Option<&str>,
    hour: Option<&str>,
    runs: u64,
    tokens: u128,
    cost: f64,
    qa: (u64, u64, u64),
    executions: u64,
    failed: u64,
) -> TimeSeriesPoint {
    TimeSeriesPoint {
        date: date.map(str::to_owned),
        hour: hour.map(str::to_owned),
        runs,
        tokens,
        cost,
        qa_passed: qa.0,
        qa_warning: qa.1,
        qa_failed: qa.2,
        executions,
        failed_executions: failed,
        success_rate: if executions == 0 {
            0.0
        } else {
            (executions - failed) as f64 / executions as f64
        },
    }
}

#[test]
fn daily() {
    let store = store(&events());
    let series = timeseries(
        &store,
        &filter(None, Some(oct(1, 0, 0)), Some(oct(3, 0, 0))),
        Granularity::Day,
        &options(),
    )
    .unwrap();
    assert_eq!(
        series.points(),
        [
            point(
                Some("2026-10-01"),
                None,
                1,
                15 + 1500,
                0.032,
                (1, 0, 0),
                1,
                0
            ),
            point(Some("2026-10-02"), None, 1, 30, 0.004, (0, 1, 0), 2, 1),
        ]
    );
    assert!(series.hourly.is_none());
}

#[test]
fn hourly() {
    let store = store(&events());
    let series = timeseries(
        &store,
        &filter(None, Some(oct(2, 8, 0)), Some(oct(2, 10, 0))),
        Granularity::Hour,
        &options(),
    )
    .unwrap();
    assert_eq!(
        series.points(),
        [
            point(
                None,
                Some("2026-10-02T08:00:00Z"),
                1,
                0,
                0.0,
                (0, 1, 0),
                0,
                0
            ),
            point(
                None,
                Some("2026-10-02T09:00:00Z"),
                0,
                30,
                0.004,
                (0, 0, 0),
                2,
                1
            ),
        ]
    );
}

#[test]
fn the_last_days_when_no_range_is_given() {
    let store = store(&events());
    let series = timeseries(
        &store,
        &filter(Some("p1"), None, None),
        Granularity::Day,
        &options(),
    )
    .unwrap();
    // Thirty days up to today, zero-filled.
    let points = series.points();
    assert_eq!(points.len(), 30);
    assert_eq!(points[0].date.as_deref(), Some("2026-09-03"));
    assert_eq!(points[29].date.as_deref(), Some("2026-10-02"));
    assert_eq!(points[28].executions, 1);
    assert_eq!(points[29].executions, 2);
    let busy = points.iter().filter(|p| p.runs + p.executions > 0).count();
    assert_eq!(busy, 2);
}
