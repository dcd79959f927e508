//! The comparisons' earlier ranges at month ends, and their figures' changes.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    crate::parse_instant(text, "t", false).unwrap()
}

fn earlier(compare: Compare, from: &str, to: &str) -> (String, String) {
    let range = compare.earlier(at(from), at(to)).unwrap();
    (range.from.to_rfc3339(), range.to.to_rfc3339())
}

fn pair(from: &str, to: &str) -> (String, String) {
    (at(from).to_rfc3339(), at(to).to_rfc3339())
}

#[test]
fn previous_is_the_same_length_ending_where_the_range_starts() {
    assert_eq!(
        earlier(Compare::Previous, "2026-10-08", "2026-10-15"),
        pair("2026-10-01", "2026-10-08")
    );
    assert_eq!(
        earlier(Compare::Previous, "2026-03-01", "2026-03-01T06:30:00Z"),
        pair("2026-02-28T17:30:00Z", "2026-03-01")
    );
    // A whole March is compared with the 31 days before it, not with February.
    assert_eq!(
        earlier(Compare::Previous, "2026-03-01", "2026-04-01"),
        pair("2026-01-29", "2026-03-01")
    );
}

#[test]
fn week_over_week_is_seven_days_earlier() {
    assert_eq!(
        earlier(Compare::WeekOverWeek, "2026-03-02", "2026-03-05T12:00:00Z"),
        pair("2026-02-23", "2026-02-26T12:00:00Z")
    );
    assert_eq!(
        earlier(Compare::WeekOverWeek, "2026-01-03", "2026-01-04"),
        pair("2025-12-27", "2025-12-28")
    );
}

#[test]
fn month_over_month_keeps_the_day_or_takes_the_month_end() {
    // Whole months map onto whole months, whatever their lengths.
    assert_eq!(
        earlier(Compare::MonthOverMonth, "2026-03-01", "2026-04-01"),
        pair("2026-02-01", "2026-03-01")
    );
    assert_eq!(
        earlier(Compare::MonthOverMonth, "2026-01-01", "2026-02-01"),
        pair("2025-12-01", "2026-01-01")
    );
    // A day February lacks becomes its last day: 28 in 2026, 29 in the leap year 2028.
    assert_eq!(
        earlier(Compare::MonthOverMonth, "2026-03-31", "2026-04-01"),
        pair("2026-02-28", "2026-03-01")
    );
    assert_eq!(
        earlier(
            Compare::MonthOverMonth,
            "2028-03-30T08:00:00Z",
            "2028-03-31T08:00:00Z"
        ),
        pair("2028-02-29T08:00:00Z", "2028-02-29T08:00:00Z")
    );
    assert_eq!(
        earlier(Compare::MonthOverMonth, "2026-05-31", "2026-06-30"),
        pair("2026-04-30", "2026-05-30")
    );
    assert_eq!(
        earlier(
            Compare::MonthOverMonth,
            "2026-10-15T10:00:00Z",
            "2026-10-16T10:00:00Z"
        ),
        pair("2026-09-15T10:00:00Z", "2026-09-16T10:00:00Z")
    );
}

#[test]
fn an_earlier_range_before_the_calendar_is_refused() {
    let first = DateTime::<Utc>::MIN_UTC;
    let error = Compare::Previous
        .earlier(first + Duration::days(1), first + Duration::days(3))
        .unwrap_err();
    assert_eq!(error.to_string(), "compare=previous: no earlier range");
    assert!(
        Compare::WeekOverWeek
            .earlier(first, first + Duration::days(1))
            .is_err()
    );
    assert!(
        Compare::MonthOverMonth
            .earlier(first, first + Duration::days(1))
            .is_err()
    );
}

#[test]
fn names_round_trip() {
    for compare in Compare::ALL {
        assert_eq!(Compare::from_name(compare.name()), Some(compare));
    }
    assert_eq!(Compare::from_name("yoy"), None);
}

fn periods() -> Periods {
    Periods {
        mode: "previous",
        range: Range {
            from: at("2026-10-08"),
            to: at("2026-10-15"),
        },
        previous_range: Range {
            from: at("2026-10-01"),
            to: at("2026-10-08"),
        },
    }
}

#[test]
fn a_figure_changes_by_its_difference_and_no_data_is_said() {
    let current = json!({"total_runs": 12, "total_cost": 3.0, "avg_duration_seconds": 4.0,
        "avg_cost_per_run": 0.25, "total_executions": 0, "success_rate": 0.0,
        "qa_summary": {"qa_passed": 3, "qa_warning": 0, "qa_failed": 1, "pass_rate": 0.75}});
    let previous = json!({"total_runs": 0, "total_cost": 4.0, "avg_duration_seconds": 0.0,
        "avg_cost_per_run": 0.0, "total_executions": 5, "success_rate": 0.8,
        "qa_summary": {"qa_passed": 1, "qa_warning": 0, "qa_failed": 1, "pass_rate": 0.5}});
    let answer = figures::annotate(View::Summary, current, &previous, &periods());
    let figures = &answer["comparison"]["figures"];
    assert_eq!(answer["comparison"]["mode"], "previous");
    assert_eq!(
        answer["comparison"]["previous_range"]["from"],
        "2026-10-01T00:00:00Z"
    );
    // Previous 0: the change is there, the relative change is null, not infinite.
    assert_eq!(
        figures["total_runs"],
        json!({"value": 12, "previous": 0, "change": 12, "relative_change": null,
               "direction": "rising", "outlook": null, "status": "compared"})
    );
    // Cost down is better.
    assert_eq!(figures["total_cost"]["relative_change"], json!(-0.25));
    assert_eq!(figures["total_cost"]["outlook"], "better");
    // No runs before: an average over nothing is no data, not 0.
    assert_eq!(
        figures["avg_duration_seconds"]["status"],
        "no_previous_data"
    );
    assert_eq!(figures["avg_duration_seconds"]["previous"], json!(null));
    assert_eq!(figures["avg_duration_seconds"]["change"], json!(null));
    // No executions now.
    assert_eq!(figures["success_rate"]["status"], "no_current_data");
    // A pass rate up is better.
    assert_eq!(figures["qa_summary.pass_rate"]["outlook"], "better");
    assert_eq!(
        figures["qa_summary.pass_rate"]["relative_change"],
        json!(0.5)
    );
}

#[test]
fn table_rows_are_matched_by_key() {
    let current = json!([
        {"tool_name": "search", "total_executions": 10, "success_rate": 0.5, "total_cost": 1.0},
        {"tool_name": "edit", "total_executions": 4, "success_rate": 1.0, "total_cost": 0.0}
    ]);
    let previous = json!([
        {"tool_name": "search", "total_executions": 5, "success_rate": 0.8, "total_cost": 1.0},
        {"tool_name": "gone", "total_executions": 9, "success_rate": 1.0, "total_cost": 2.0}
    ]);
    let answer = figures::annotate(View::Tools, current, &previous, &periods());
    let rows = answer.as_array().unwrap();
    assert_eq!(rows.len(), 2, "rows are the asked range's");
    let search = &rows[0]["comparison"]["figures"];
    assert_eq!(search["total_executions"]["change"], json!(5));
    assert_eq!(search["total_executions"]["relative_change"], json!(1.0));
    assert_eq!(search["success_rate"]["outlook"], "worse");
    assert_eq!(search["total_cost"]["outlook"], "unchanged");
    let edit = &rows[1]["comparison"]["figures"];
    assert_eq!(edit["total_executions"]["status"], "no_previous_data");
    assert_eq!(edit["total_executions"]["previous"], json!(null));
}

#[test]
fn a_comparison_needs_a_start_and_takes_now_for_a_missing_end() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = Analytics::open(dir.path().join("t.db"))
        .unwrap()
        .as_of(at("2026-10-15T12:00:00Z"));
    let open = Filter::default();
    let error = analytics
        .compared_periods(&open, Compare::Previous)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "compare=previous needs a range with a start: give from (to defaults to now)"
    );
    let started = Filter {
        from: Some(at("2026-10-14T12:00:00Z")),
        ..Filter::default()
    };
    let periods = analytics
        .compared_periods(&started, Compare::Previous)
        .unwrap();
    assert_eq!(periods.range.to, at("2026-10-15T12:00:00Z"));
    assert_eq!(periods.previous_range.from, at("2026-10-13T12:00:00Z"));
    let error = analytics
        .view_compared(
            View::Timeseries,
            &started,
            Granularity::Day,
            Compare::Previous,
        )
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("compare: the timeseries view takes no comparison (comparable: summary, projects, models, tools, agents, qa"), "{error}");
}
