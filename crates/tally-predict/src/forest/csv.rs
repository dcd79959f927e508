//! The success predictor's feature CSV (`tally predict fit/score`): a header naming the
//! seven features in order, optionally followed by `label` (0 or 1), then one row per
//! skill invocation. Errors name the line and column at fault.

use std::io::Read;

use ndarray::Array2;

use crate::{Error, Result};

/// The feature columns, in the order a row holds them.
pub const FEATURE_NAMES: [&str; 7] = [
    "hour_of_day",
    "day_of_week",
    "invocation_count_24h",
    "avg_completion_rate_24h",
    "workflow_phase",
    "session_length_minutes",
    "user_skill_familiarity",
];

/// The label column's name.
pub const LABEL: &str = "label";

/// A feature CSV read into memory.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Rows × [`FEATURE_NAMES`], in file order.
    pub x: Array2<f64>,
    /// One label per row when the file has a `label` column.
    pub y: Option<Vec<bool>>,
}

/// Reads a feature CSV. The header must be [`FEATURE_NAMES`] in order, then `label`
/// (required when `require_label`, read when present otherwise); values must be finite
/// numbers, labels `0` or `1`. Surrounding spaces are ignored.
///
/// # Errors
/// [`Error::FeatureCsv`] with the 1-based line and the column's name (or `header`) for a
/// wrong header, a row with the wrong number of fields, a value that is not a finite
/// number, a label other than 0 or 1, or unreadable input.
pub fn read_feature_csv<R: Read>(reader: R, require_label: bool) -> Result<FeatureTable> {
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let header_error = |message: String| Error::FeatureCsv {
        line: 1,
        column: "header".into(),
        message,
    };
    let header = csv
        .headers()
        .map_err(|e| header_error(e.to_string()))?
        .clone();
    let names: Vec<&str> = header.iter().collect();
    let expected = FEATURE_NAMES.join(",");
    let has_label = match names.as_slice() {
        [features @ .., last] if *last == LABEL && features == FEATURE_NAMES => true,
        features if features == FEATURE_NAMES => false,
        _ => {
            return Err(header_error(format!(
                "found {:?}: expected {expected}[,{LABEL}]",
                names.join(",")
            )));
        }
    };
    if require_label && !has_label {
        return Err(header_error(format!(
            "no {LABEL} column: training expects {expected},{LABEL}"
        )));
    }
    let width = FEATURE_NAMES.len() + usize::from(has_label);
    let mut values = Vec::new();
    let mut labels = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        let more = csv
            .read_record(&mut record)
            .map_err(|e| Error::FeatureCsv {
                line: e.position().map_or(0, ::csv::Position::line),
                column: "record".into(),
                message: e.to_string(),
            })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, ::csv::Position::line);
        if record.len() == 1 && record.get(0) == Some("") {
            continue;
        }
        if record.len() != width {
            return Err(Error::FeatureCsv {
                line,
                column: "record".into(),
                message: format!("{} fields: expected {width}", record.len()),
            });
        }
        for (name, field) in FEATURE_NAMES.iter().zip(record.iter()) {
            let value = field
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| Error::FeatureCsv {
                    line,
                    column: (*name).into(),
                    message: format!("{field:?}: expected a finite number"),
                })?;
            values.push(value);
        }
        if has_label {
            let field = record.get(FEATURE_NAMES.len()).unwrap_or_default();
            labels.push(match field {
                "0" => false,
                "1" => true,
                other => {
                    return Err(Error::FeatureCsv {
                        line,
                        column: LABEL.into(),
                        message: format!("{other:?}: expected 0 or 1"),
                    });
                }
            });
        }
    }
    let rows = values.len() / FEATURE_NAMES.len();
    let x = Array2::from_shape_vec((rows, FEATURE_NAMES.len()), values).map_err(|e| {
        Error::FeatureCsv {
            line: 0,
            column: "record".into(),
            message: e.to_string(),
        }
    })?;
    Ok(FeatureTable {
        x,
        y: has_label.then_some(labels),
    })
}
