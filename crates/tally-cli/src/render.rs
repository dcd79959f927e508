//! Plain-text rendering of a view's JSON for people: objects as aligned `key  value`
//! lines, arrays of objects as tables of their scalar fields.

use std::fmt::Write;

use serde_json::Value;

/// The text form of a view.
pub fn render(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, "");
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("-".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if n.is_f64() => format_float(f),
            _ => n.to_string(),
        }),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn format_float(f: f64) -> String {
    if f.abs() >= 100.0 {
        format!("{f:.1}")
    } else {
        format!("{f:.4}")
    }
}

fn write_value(out: &mut String, value: &Value, indent: &str) {
    match value {
        Value::Object(map) => {
            let width = map.keys().map(String::len).max().unwrap_or(0);
            for (key, field) in map {
                match scalar(field) {
                    Some(text) => {
                        let _ = writeln!(out, "{indent}{key:width$}  {text}");
                    }
                    None => {
                        let _ = writeln!(out, "{indent}{key}:");
                        write_value(out, field, &format!("{indent}  "));
                    }
                }
            }
        }
        Value::Array(items) => write_table(out, items, indent),
        other => {
            let _ = writeln!(out, "{indent}{}", scalar(other).unwrap_or_default());
        }
    }
}

fn write_table(out: &mut String, items: &[Value], indent: &str) {
    if items.is_empty() {
        let _ = writeln!(out, "{indent}(none)");
        return;
    }
    if !items.iter().all(Value::is_object) {
        for item in items {
            write_value(out, item, indent);
        }
        return;
    }
    let mut columns: Vec<&str> = Vec::new();
    for item in items {
        if let Value::Object(map) = item {
            for (key, field) in map {
                if scalar(field).is_some() && !columns.contains(&key.as_str()) {
                    columns.push(key);
                }
            }
        }
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(*c).and_then(scalar).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].len())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "{indent}{}", line(columns.clone()).trim_end());
    for row in &rows {
        let _ = writeln!(
            out,
            "{indent}{}",
            line(row.iter().map(String::as_str).collect()).trim_end()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_tables() {
        let value = serde_json::json!({"total": 3, "rows": [{"name": "a", "cost": 1.5}, {"name": "bb", "cost": null}]});
        assert_eq!(
            render(&value),
            "total  3\nrows:\n  name  cost\n  a     1.5000\n  bb    -\n"
        );
    }
}
