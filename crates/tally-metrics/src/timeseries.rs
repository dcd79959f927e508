//! Daily or hourly time series (the seed's `TimeSeriesPoint`), zero-filled.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration};
use serde::Serialize;
use tally_models::QaStatus;
use tally_store::rollup::{Family, Measures, Resolution, RunMode};
use tally_store::{Filter, RollupReader};

use crate::Result;
use crate::fold::{ViewOptions, by_period, dollars, ratio};

/// How long a time series point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    #[default]
    Day,
    Hour,
}

impl Granularity {
    fn resolution(self) -> Resolution {
        match self {
            Granularity::Day => Resolution::Day,
            Granularity::Hour => Resolution::Hour,
        }
    }
}

/// One period. Tokens and cost add executions and runs; QA counts are runs'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeSeriesPoint {
    /// `YYYY-MM-DD` for days, RFC 3339 (`...T14:00:00Z`) for hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hour: Option<String>,
    pub runs: u64,
    pub tokens: u128,
    pub cost: f64,
    pub qa_passed: u64,
    pub qa_warning: u64,
    pub qa_failed: u64,
    pub executions: u64,
    pub failed_executions: u64,
    pub success_rate: f64,
}

/// The series: `{"daily": [...]}` or `{"hourly": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeSeries {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily: Option<Vec<TimeSeriesPoint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly: Option<Vec<TimeSeriesPoint>>,
}

impl TimeSeries {
    pub fn points(&self) -> &[TimeSeriesPoint] {
        self.daily
            .as_deref()
            .or(self.hourly.as_deref())
            .unwrap_or_default()
    }
}

/// The periods a series covers: the filter's range when it has one, else the last
/// `timeseries_days` days (days) or the last 24 hours (hours), ending with the current
/// period.
fn window(filter: &Filter, granularity: Granularity, options: &ViewOptions) -> (i64, i64) {
    let resolution = granularity.resolution();
    let end = filter.to.unwrap_or(options.now + Duration::seconds(1));
    let end_bucket = resolution.bucket((end - Duration::milliseconds(1)).timestamp_millis());
    let start = match (filter.from, granularity) {
        (Some(from), _) => resolution.bucket(from.timestamp_millis()),
        (None, Granularity::Day) => {
            end_bucket - 86_400 * (i64::from(options.timeseries_days.max(1)) - 1)
        }
        (None, Granularity::Hour) => end_bucket - 3600 * 23,
    };
    (start, resolution.next(end_bucket))
}

/// The series of the filter's project over its range (or the default window).
///
/// # Errors
/// A storage failure.
pub fn timeseries(
    reader: &dyn RollupReader,
    filter: &Filter,
    granularity: Granularity,
    options: &ViewOptions,
) -> Result<TimeSeries> {
    let resolution = granularity.resolution();
    let (start, end) = window(filter, granularity, options);
    let range = Filter {
        project: filter.project.clone(),
        from: DateTime::from_timestamp(start, 0),
        to: DateTime::from_timestamp(end, 0),
    };
    let mut runs: BTreeMap<i64, (Measures, [u64; QaStatus::ALL.len()])> = BTreeMap::new();
    for ((period, key), m) in by_period(reader, Family::Runs, &range, resolution)? {
        let entry = runs.entry(period).or_default();
        entry.0.merge(&m);
        let (status, _) = RunMode::split_key(key);
        if let Some(slot) = entry.1.get_mut(usize::from(status)) {
            *slot += m.n;
        }
    }
    let mut executions: BTreeMap<i64, Measures> = BTreeMap::new();
    for ((period, _), m) in by_period(reader, Family::Executions, &range, resolution)? {
        executions.entry(period).or_default().merge(&m);
    }
    let mut points = Vec::new();
    let mut period = start;
    let empty = (Measures::default(), [0; QaStatus::ALL.len()]);
    let no_executions = Measures::default();
    while period < end {
        let (r, qa) = runs.get(&period).unwrap_or(&empty);
        let x = executions.get(&period).unwrap_or(&no_executions);
        let at = DateTime::from_timestamp(period, 0).unwrap_or_default();
        let qa = |s: QaStatus| qa[usize::from(s.code())];
        points.push(TimeSeriesPoint {
            date: (granularity == Granularity::Day).then(|| at.format("%Y-%m-%d").to_string()),
            hour: (granularity == Granularity::Hour)
                .then(|| at.format("%Y-%m-%dT%H:00:00Z").to_string()),
            runs: r.n,
            tokens: r.tokens() + x.tokens(),
            cost: dollars(r.cost_nusd + x.cost_nusd),
            qa_passed: qa(QaStatus::Passed),
            qa_warning: qa(QaStatus::Warning),
            qa_failed: qa(QaStatus::Failed),
            executions: x.n,
            failed_executions: x.n - x.ok,
            success_rate: ratio(x.ok as f64, x.n as f64),
        });
        period = resolution.next(period);
    }
    Ok(match granularity {
        Granularity::Day => TimeSeries {
            daily: Some(points),
            hourly: None,
        },
        Granularity::Hour => TimeSeries {
            daily: None,
            hourly: Some(points),
        },
    })
}
