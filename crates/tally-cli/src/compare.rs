//! `--compare previous|wow|mom` of `tally summary` and `tally query`: the view's figures
//! beside their values on the earlier range, as a table.

use serde_json::{Map, Value, json};

/// The names `--compare` takes.
pub const NAMES: [&str; 3] = ["previous", "wow", "mom"];

/// The periods line and one table row per compared figure (per row of a table view).
pub fn render(answer: &Value) -> String {
    let mut lines: Vec<Value> = Vec::new();
    let mut periods = None;
    if let Some(comparison) = answer.get("comparison") {
        periods = Some(comparison);
        push_figures(&mut lines, None, comparison);
    }
    let rows = answer
        .as_array()
        .or_else(|| answer.get("endpoints").and_then(Value::as_array));
    for row in rows.into_iter().flatten() {
        let Some(comparison) = row.get("comparison") else {
            continue;
        };
        periods = periods.or(Some(comparison));
        let name = row
            .as_object()
            .and_then(|o| o.values().find_map(Value::as_str))
            .unwrap_or("");
        push_figures(&mut lines, Some(name), comparison);
    }
    let mut out = String::new();
    if let Some(c) = periods {
        let range = |r: &Value| format!("{} to {}", text(&r["from"]), text(&r["to"]));
        out.push_str(&format!(
            "{}: {} against {}\n",
            text(&c["mode"]),
            range(&c["range"]),
            range(&c["previous_range"])
        ));
    }
    if lines.is_empty() {
        out.push_str("no data in this range\n");
    } else {
        out.push_str(&crate::render::render(&Value::Array(lines)));
    }
    out
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn push_figures(lines: &mut Vec<Value>, row: Option<&str>, comparison: &Value) {
    let Some(figures) = comparison.get("figures").and_then(Value::as_object) else {
        return;
    };
    for (name, change) in figures {
        let mut line = Map::new();
        if let Some(row) = row {
            line.insert("row".into(), json!(row));
        }
        line.insert("figure".into(), json!(name));
        let shown = |v: &Value| {
            if v.is_null() {
                json!("no data")
            } else {
                v.clone()
            }
        };
        line.insert("value".into(), shown(&change["value"]));
        line.insert("previous".into(), shown(&change["previous"]));
        line.insert("change".into(), shown(&change["change"]));
        let relative = change["relative_change"]
            .as_f64()
            .map_or_else(|| "–".to_owned(), |r| format!("{:+.1} %", r * 100.0));
        line.insert("relative".into(), json!(relative));
        let outlook = change["outlook"].as_str().unwrap_or("");
        line.insert("outlook".into(), json!(outlook));
        lines.push(Value::Object(line));
    }
}
