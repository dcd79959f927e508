//! Plain-text rendering of a view's JSON for people: objects as aligned `key  value`
//! lines, arrays of objects as tables of their scalar fields. Numbers carry thousands
//! separators; a table's number columns are right-aligned with the same decimals down the
//! column (money with 2, or 4 where a cost would otherwise read 0.00).

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

/// The text form of a view.
pub fn render(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, "");
    out
}

/// A value's serialized name as plain words: `use_with_review` → "use with review".
pub fn words<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name.replace('_', " "),
        Ok(other) => scalar(&other).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// An integer with thousands separators: 1234567 → "1,234,567".
pub fn grouped_integer(n: u128) -> String {
    group_digits(&n.to_string())
}

fn group_digits(whole: &str) -> String {
    let mut out = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `digits` decimals and thousands separators: 1234567.891 → "1,234,567.89".
pub fn grouped(x: f64, digits: usize) -> String {
    let text = format!("{:.*}", digits, x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    out.push_str(&group_digits(whole));
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

fn is_money(key: &str) -> bool {
    ["cost", "usd", "budget", "spend"]
        .iter()
        .any(|word| key.contains(word))
        && !["share", "rate", "ratio", "source", "pct"]
            .iter()
            .any(|word| key.contains(word))
}

/// The decimals a column of numbers (or one number) is shown with.
fn decimals(key: &str, numbers: &[&serde_json::Number]) -> usize {
    let floats: Vec<f64> = numbers
        .iter()
        .filter(|n| n.is_f64())
        .filter_map(|n| n.as_f64())
        .collect();
    if floats.is_empty() {
        return 0;
    }
    if is_money(key) {
        // Averages per event are cents' fractions: 4 decimals, as are columns that
        // would otherwise show a cost as $0.00.
        let tiny = floats.iter().any(|f| *f != 0.0 && f.abs() < 0.005);
        return if tiny || key.starts_with("avg_") {
            4
        } else {
            2
        };
    }
    let largest = numbers
        .iter()
        .filter_map(|n| n.as_f64())
        .fold(0.0_f64, |max, f| max.max(f.abs()));
    if largest >= 100.0 { 1 } else { 4 }
}

fn number(key: &str, n: &serde_json::Number, digits: usize) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) if !n.is_f64() => {
            let digits = grouped_integer(u128::from(i.unsigned_abs()));
            if i < 0 { format!("-{digits}") } else { digits }
        }
        (_, Some(u), _) if !n.is_f64() => grouped_integer(u128::from(u)),
        (_, _, Some(f)) => {
            let text = grouped(f, digits);
            if is_money(key) {
                format!("${text}").replacen("$-", "-$", 1)
            } else {
                text
            }
        }
        _ => n.to_string(),
    }
}

fn scalar(value: &Value) -> Option<String> {
    scalar_of("", value)
}

/// A scalar as one line's value (its own decimals), or None for arrays and objects.
fn scalar_of(key: &str, value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("-".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number(key, n, decimals(key, &[n]))),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn write_value(out: &mut String, value: &Value, indent: &str) {
    match value {
        Value::Object(map) => {
            let width = map.keys().map(String::len).max().unwrap_or(0);
            for (key, field) in map {
                match scalar_of(key, field) {
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

/// One column of a table: its cells, right-aligned when every value in it is a number.
fn column(key: &str, items: &[Value]) -> (Vec<String>, bool) {
    let values: Vec<Option<&Value>> = items.iter().map(|item| item.get(key)).collect();
    let numbers: Vec<&serde_json::Number> = values
        .iter()
        .filter_map(|v| match v {
            Some(Value::Number(n)) => Some(n),
            _ => None,
        })
        .collect();
    let numeric = !numbers.is_empty()
        && values
            .iter()
            .all(|v| matches!(v, None | Some(Value::Null) | Some(Value::Number(_))));
    let digits = decimals(key, &numbers);
    let cells = values
        .iter()
        .map(|v| match v {
            Some(Value::Number(n)) if numeric => number(key, n, digits),
            Some(v) => scalar_of(key, v).unwrap_or_default(),
            None => String::new(),
        })
        .collect();
    (cells, numeric)
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
    let mut keys: Vec<&str> = Vec::new();
    for item in items {
        if let Value::Object(map) = item {
            for (key, field) in map {
                if scalar(field).is_some() && !keys.contains(&key.as_str()) {
                    keys.push(key);
                }
            }
        }
    }
    let columns: Vec<(Vec<String>, bool)> = keys.iter().map(|key| column(key, items)).collect();
    let widths: Vec<usize> = keys
        .iter()
        .zip(&columns)
        .map(|(key, (cells, _))| {
            cells
                .iter()
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
                .max(key.len())
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .zip(&columns)
            .map(|((cell, width), (_, numeric))| {
                if *numeric {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:width$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "{indent}{}", line(keys.clone()).trim_end());
    for row in 0..items.len() {
        let cells = columns
            .iter()
            .map(|(cells, _)| cells[row].as_str())
            .collect();
        let _ = writeln!(out, "{indent}{}", line(cells).trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_tables() {
        let value = serde_json::json!({"total": 3, "rows": [{"name": "a", "ratio": 1.5}, {"name": "bb", "ratio": null}]});
        assert_eq!(
            render(&value),
            "total  3\nrows:\n  name   ratio\n  a     1.5000\n  bb         -\n"
        );
    }

    #[test]
    fn number_columns_are_right_aligned_with_thousands_separators_and_one_format() {
        let value = serde_json::json!([
            {"model": "opus", "total_tokens": 1234567, "total_cost": 105.7826, "rate": 0.5},
            {"model": "haiku", "total_tokens": 12, "total_cost": 87.57, "rate": 0.3},
            {"model": "mini", "total_tokens": 0, "total_cost": 1234.5, "rate": 150.0},
        ]);
        assert_eq!(
            render(&value),
            "model  total_tokens  total_cost   rate\n\
             opus      1,234,567     $105.78    0.5\n\
             haiku            12      $87.57    0.3\n\
             mini              0   $1,234.50  150.0\n"
        );
    }

    #[test]
    fn tiny_costs_keep_four_decimals_down_the_whole_column() {
        let value = serde_json::json!([
            {"total_cost": 0.0012, "avg_cost": 0.5, "cost_share": 0.25},
            {"total_cost": 2.5, "avg_cost": 0.25, "cost_share": 0.75},
        ]);
        assert_eq!(
            render(&value),
            "total_cost  avg_cost  cost_share\n   $0.0012   $0.5000      0.2500\n   $2.5000   $0.2500      0.7500\n"
        );
    }

    #[test]
    fn grouping() {
        assert_eq!(grouped(1234567.891, 2), "1,234,567.89");
        assert_eq!(grouped(-1234.0, 0), "-1,234");
        assert_eq!(grouped(-0.001, 2), "0.00");
        assert_eq!(grouped(999.0, 1), "999.0");
    }

    #[test]
    fn words_of_a_serialized_name() {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Advice {
            UseWithReview,
        }
        assert_eq!(words(&Advice::UseWithReview), "use with review");
    }
}
