//! Which figures of a view are compared, whether up is better or worse for each, and
//! the change of each from the earlier range to the asked one.

use serde::Serialize;
use serde_json::{Map, Value, json};
use tally_predict::series::{Direction, Outlook, Polarity};

use super::Periods;
use crate::View;

/// One compared figure: its path in the view's answer (`a.b` inside nested objects),
/// whether up is better or worse (`None`: neither, a volume), and the counts whose sum
/// must be above 0 for the figure to have data (a rate or average over nothing is
/// "no data", not 0).
struct Figure {
    path: &'static str,
    polarity: Option<Polarity>,
    base: &'static [&'static str],
}

const fn volume(path: &'static str) -> Figure {
    Figure {
        path,
        polarity: None,
        base: &[],
    }
}

const fn lower(path: &'static str, base: &'static [&'static str]) -> Figure {
    Figure {
        path,
        polarity: Some(Polarity::LowerIsBetter),
        base,
    }
}

const fn higher(path: &'static str, base: &'static [&'static str]) -> Figure {
    Figure {
        path,
        polarity: Some(Polarity::HigherIsBetter),
        base,
    }
}

/// Rows of a table, matched between the ranges by `key`.
struct Rows {
    /// The field of the answer holding the rows; `None`: the answer is the rows.
    field: Option<&'static str>,
    key: &'static str,
    figures: &'static [Figure],
}

/// What is compared of one view.
struct Spec {
    figures: &'static [Figure],
    rows: Option<Rows>,
}

const SUMMARY: &[Figure] = &[
    volume("total_runs"),
    volume("runs_2loop"),
    volume("runs_3loop"),
    volume("total_jobs"),
    higher("jobs_completed", &[]),
    lower("jobs_failed", &[]),
    lower("jobs_cancelled", &[]),
    volume("jobs_running"),
    volume("jobs_queued"),
    volume("total_tokens"),
    lower("total_cost", &[]),
    lower("avg_cost_per_run", &["total_runs"]),
    lower("avg_duration_seconds", &["total_runs"]),
    volume("qa_summary.total_qa_runs"),
    volume("qa_summary.qa_passed"),
    lower("qa_summary.qa_warning", &[]),
    lower("qa_summary.qa_failed", &[]),
    lower("qa_summary.qa_error", &[]),
    volume("qa_summary.qa_not_run"),
    higher(
        "qa_summary.pass_rate",
        &[
            "qa_summary.qa_passed",
            "qa_summary.qa_warning",
            "qa_summary.qa_failed",
        ],
    ),
    volume("total_executions"),
    higher("success_rate", &["total_executions"]),
];

const QA: &[Figure] = &[
    volume("total_qa_runs"),
    volume("qa_passed"),
    lower("qa_warning", &[]),
    lower("qa_failed", &[]),
    lower("qa_error", &[]),
    volume("qa_not_run"),
    higher("pass_rate", &["qa_passed", "qa_warning", "qa_failed"]),
];

const PROJECTS: &[Figure] = &[
    volume("runs_count"),
    volume("total_tokens"),
    lower("total_cost", &[]),
    lower("avg_duration_seconds", &["runs_count"]),
    volume("qa_passed"),
    lower("qa_warning", &[]),
    lower("qa_failed", &[]),
    volume("qa_not_run"),
    higher("qa_pass_rate", &["qa_passed", "qa_warning", "qa_failed"]),
    volume("total_executions"),
    higher("success_rate", &["total_executions"]),
];

const MODELS: &[Figure] = &[
    volume("total_tokens"),
    lower("total_cost", &[]),
    volume("usage_count"),
    volume("cost_share"),
    volume("input_tokens"),
    volume("output_tokens"),
    volume("runs"),
    volume("executions"),
];

const TOOLS: &[Figure] = &[
    volume("total_executions"),
    volume("successful_executions"),
    lower("failed_executions", &[]),
    higher("success_rate", &["total_executions"]),
    lower("avg_duration_seconds", &["total_executions"]),
    lower("avg_cost", &["total_executions"]),
    volume("avg_tokens"),
    lower("total_cost", &[]),
];

const AGENTS: &[Figure] = &[
    volume("executions"),
    volume("successful_executions"),
    higher("success_rate", &["executions"]),
    lower("avg_duration_seconds", &["executions"]),
    lower("total_cost", &[]),
];

const REQUESTS: &[Figure] = &[
    volume("total_requests"),
    lower("server_errors", &[]),
    lower("error_rate", &["total_requests"]),
    lower("p50_latency_ms", &[]),
    lower("p95_latency_ms", &[]),
    lower("p99_latency_ms", &[]),
];

const ENDPOINTS: &[Figure] = &[
    volume("requests"),
    lower("server_errors", &[]),
    lower("error_rate", &["requests"]),
    lower("avg_latency_ms", &["requests"]),
    lower("p50_latency_ms", &[]),
    lower("p95_latency_ms", &[]),
    lower("p99_latency_ms", &[]),
];

fn spec(view: View) -> Option<Spec> {
    let table = |key, figures| {
        Some(Spec {
            figures: &[],
            rows: Some(Rows {
                field: None,
                key,
                figures,
            }),
        })
    };
    match view {
        View::Summary => Some(Spec {
            figures: SUMMARY,
            rows: None,
        }),
        View::Qa => Some(Spec {
            figures: QA,
            rows: None,
        }),
        View::Projects => table("project_name", PROJECTS),
        View::Models => table("model_name", MODELS),
        View::Tools => table("tool_name", TOOLS),
        View::Agents => table("agent_id", AGENTS),
        View::Requests => Some(Spec {
            figures: REQUESTS,
            rows: Some(Rows {
                field: Some("endpoints"),
                key: "endpoint",
                figures: ENDPOINTS,
            }),
        }),
        _ => None,
    }
}

/// Whether `compare=` applies to the view.
pub fn comparable(view: View) -> bool {
    spec(view).is_some()
}

/// Whether a figure has data in both ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureStatus {
    Compared,
    /// The earlier range has no data for it (its row is absent, or the count a rate or
    /// average is over is 0 there).
    NoPreviousData,
    /// The asked range has no data for it.
    NoCurrentData,
    NoData,
}

/// One figure's change from the earlier range to the asked one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The figure on the asked range (null: no data).
    pub value: Value,
    /// The figure on the earlier range (null: no data).
    pub previous: Value,
    /// `value - previous` (exact for counts).
    pub change: Value,
    /// `(value - previous) / previous`, a ratio (0.25 is +25 %); null when `previous`
    /// is 0 or either side has no data.
    pub relative_change: Option<f64>,
    pub direction: Option<Direction>,
    /// Better or worse for the figure (cost up is worse, a success rate up better);
    /// null for volumes, which are neither.
    pub outlook: Option<Outlook>,
    pub status: FigureStatus,
}

fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, name| v.get(name))
}

/// The figure's number, or `None` when it has no data.
fn figure_value(object: Option<&Value>, figure: &Figure) -> Option<Value> {
    let object = object?;
    if !figure.base.is_empty() {
        let base: f64 = figure
            .base
            .iter()
            .filter_map(|path| at(object, path).and_then(Value::as_f64))
            .sum();
        if base <= 0.0 {
            return None;
        }
    }
    at(object, figure.path).filter(|v| v.is_number()).cloned()
}

fn difference(value: &Value, previous: &Value) -> Option<(Value, f64, f64)> {
    let (v, p) = (value.as_f64()?, previous.as_f64()?);
    let exact = match (value.as_i64(), previous.as_i64()) {
        (Some(a), Some(b)) => json!(i128::from(a) - i128::from(b)),
        _ => match (value.as_u64(), previous.as_u64()) {
            (Some(a), Some(b)) => json!(i128::from(a) - i128::from(b)),
            _ => json!(v - p),
        },
    };
    Some((exact, v, p))
}

fn change(figure: &Figure, current: Option<&Value>, previous: Option<&Value>) -> Change {
    let value = figure_value(current, figure);
    let before = figure_value(previous, figure);
    let status = match (&value, &before) {
        (Some(_), Some(_)) => FigureStatus::Compared,
        (Some(_), None) => FigureStatus::NoPreviousData,
        (None, Some(_)) => FigureStatus::NoCurrentData,
        (None, None) => FigureStatus::NoData,
    };
    let compared = value
        .as_ref()
        .zip(before.as_ref())
        .and_then(|(v, p)| difference(v, p));
    let (change, relative_change, direction, outlook) = match compared {
        Some((exact, v, p)) => {
            let direction = if v > p {
                Direction::Rising
            } else if v < p {
                Direction::Falling
            } else {
                Direction::Flat
            };
            let relative = (p != 0.0).then(|| (v - p) / p.abs());
            let outlook = figure
                .polarity
                .map(|polarity| Outlook::of(direction, polarity));
            (exact, relative, Some(direction), outlook)
        }
        None => (Value::Null, None, None, None),
    };
    Change {
        value: value.unwrap_or(Value::Null),
        previous: before.unwrap_or(Value::Null),
        change,
        relative_change,
        direction,
        outlook,
        status,
    }
}

fn figures(list: &[Figure], current: Option<&Value>, previous: Option<&Value>) -> Value {
    let mut out = Map::new();
    for figure in list {
        let change = change(figure, current, previous);
        out.insert(
            figure.path.to_owned(),
            serde_json::to_value(change).unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

fn comparison(periods: &Periods, figures: Value) -> Value {
    json!({
        "mode": periods.mode,
        "range": periods.range,
        "previous_range": periods.previous_range,
        "figures": figures,
    })
}

/// Gives every row of `current` its `comparison`, matching rows of `previous` by key.
fn annotate_rows(rows: &Rows, current: &mut Value, previous: Option<&Value>, periods: &Periods) {
    let earlier: Vec<&Value> = previous
        .and_then(Value::as_array)
        .map(|rows| rows.iter().collect())
        .unwrap_or_default();
    let Some(list) = current.as_array_mut() else {
        return;
    };
    for row in list {
        let key = row.get(rows.key).cloned();
        let before = earlier
            .iter()
            .find(|r| key.is_some() && r.get(rows.key) == key.as_ref())
            .copied();
        let compared = comparison(periods, figures(rows.figures, Some(row), before));
        if let Some(object) = row.as_object_mut() {
            object.insert("comparison".into(), compared);
        }
    }
}

/// `current` (the view on the asked range) with its comparison against `previous`
/// (the same view on the earlier range): an object view gains `comparison`
/// (`mode`, `range`, `previous_range`, `figures`), and so does every row of a table.
pub(super) fn annotate(
    view: View,
    mut current: Value,
    previous: &Value,
    periods: &Periods,
) -> Value {
    let Some(spec) = spec(view) else {
        return current;
    };
    if let Some(rows) = &spec.rows {
        match rows.field {
            None => annotate_rows(rows, &mut current, Some(previous), periods),
            Some(field) => {
                if let Some(list) = current.get_mut(field) {
                    annotate_rows(rows, list, previous.get(field), periods);
                }
            }
        }
    }
    if !spec.figures.is_empty() {
        let compared = comparison(
            periods,
            figures(spec.figures, Some(&current), Some(previous)),
        );
        if let Some(object) = current.as_object_mut() {
            object.insert("comparison".into(), compared);
        }
    }
    current
}
