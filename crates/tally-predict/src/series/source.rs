//! The series tally analyses: which metrics there are, how each is read (rollup tier,
//! raw tables, or a `timestamp,value` CSV), and how gaps are filled.
//!
//! Counts and sums are zero-filled (an hour without executions had 0 of them); rates
//! and latencies are marked missing where they have no denominator (no executions, no
//! success rate).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use tally_store::rollup::{Family, Measures, ProjectScope, Resolution, RollupQuery};
use tally_store::{Filter, RawMeasure, RawSeriesQuery, RollupReader, SeriesReader};

use crate::{Error, Result};

/// The most points a series may have (more than a year of hours, 27 years of days):
/// every analysis of it then stays within a few MiB and about a second.
pub const MAX_POINTS: usize = 10_000;

/// Refuses `points` past [`MAX_POINTS`].
fn check_points(points: i64, step_seconds: i64) -> Result<()> {
    if points > MAX_POINTS as i64 {
        return Err(Error::TooManyPoints {
            points: points as u64,
            step_seconds,
            limit: MAX_POINTS,
        });
    }
    Ok(())
}

/// How long one point of a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    #[default]
    Day,
}

impl Granularity {
    pub fn step_seconds(self) -> i64 {
        match self {
            Granularity::Hour => 3600,
            Granularity::Day => 86_400,
        }
    }

    fn resolution(self) -> Resolution {
        match self {
            Granularity::Hour => Resolution::Hour,
            Granularity::Day => Resolution::Day,
        }
    }

    /// Points in the default window: the last 14 days of hours, or 90 days.
    fn default_points(self) -> i64 {
        match self {
            Granularity::Hour => 24 * 14,
            Granularity::Day => 90,
        }
    }
}

/// Whether a rise of the metric is good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    HigherIsBetter,
    LowerIsBetter,
}

/// Every metric a series can be read of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Executions per period (zero-filled).
    Executions,
    /// Successful executions / executions (missing without executions).
    SuccessRate,
    /// Failed executions / executions (missing without executions).
    ErrorRate,
    /// USD of executions and runs (zero-filled; executions only with a tool or model).
    Cost,
    /// Input plus output tokens of executions and runs (zero-filled).
    Tokens,
    /// 95th percentile of execution `duration_ms` (missing without executions).
    LatencyP95,
    /// `request` events (zero-filled).
    Requests,
    /// Requests answered with status 500 or above / requests.
    RequestErrorRate,
    /// 95th percentile of request `latency_ms`.
    RequestLatencyP95,
    /// `run` events (zero-filled).
    Runs,
    /// `error` events (zero-filled).
    Errors,
    /// Learning sessions (raw tables; zero-filled).
    Sessions,
    /// Mean session quality (raw tables; missing without a rated session).
    SessionQuality,
    /// Completed skill events / skill events (raw tables).
    SkillCompletionRate,
}

impl Metric {
    /// Whether a period without events counts 0 (counts and sums) rather than
    /// missing (rates and latencies, which need a denominator).
    pub fn zero_filled(self) -> bool {
        matches!(
            self,
            Metric::Executions
                | Metric::Cost
                | Metric::Tokens
                | Metric::Requests
                | Metric::Runs
                | Metric::Errors
                | Metric::Sessions
        )
    }

    /// Whether the metric counts events, so that its noise is at least Poisson's
    /// (a standard deviation of √expected).
    pub fn counts_events(self) -> bool {
        matches!(
            self,
            Metric::Executions
                | Metric::Requests
                | Metric::Runs
                | Metric::Errors
                | Metric::Sessions
        )
    }

    pub const ALL: [Metric; 14] = [
        Metric::Executions,
        Metric::SuccessRate,
        Metric::ErrorRate,
        Metric::Cost,
        Metric::Tokens,
        Metric::LatencyP95,
        Metric::Requests,
        Metric::RequestErrorRate,
        Metric::RequestLatencyP95,
        Metric::Runs,
        Metric::Errors,
        Metric::Sessions,
        Metric::SessionQuality,
        Metric::SkillCompletionRate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Executions => "executions",
            Metric::SuccessRate => "success_rate",
            Metric::ErrorRate => "error_rate",
            Metric::Cost => "cost",
            Metric::Tokens => "tokens",
            Metric::LatencyP95 => "p95_latency",
            Metric::Requests => "requests",
            Metric::RequestErrorRate => "request_error_rate",
            Metric::RequestLatencyP95 => "request_p95_latency",
            Metric::Runs => "runs",
            Metric::Errors => "errors",
            Metric::Sessions => "sessions",
            Metric::SessionQuality => "quality",
            Metric::SkillCompletionRate => "completion_rate",
        }
    }

    /// The metric of a name (see [`Metric::name`]).
    ///
    /// # Errors
    /// The name is none of them.
    pub fn parse(name: &str) -> Result<Metric> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                Error::UnknownMetric(name.to_owned(), names.join(", "))
            })
    }

    pub fn polarity(self) -> Polarity {
        match self {
            Metric::Executions
            | Metric::SuccessRate
            | Metric::Requests
            | Metric::Runs
            | Metric::Sessions
            | Metric::SessionQuality
            | Metric::SkillCompletionRate => Polarity::HigherIsBetter,
            Metric::ErrorRate
            | Metric::Cost
            | Metric::Tokens
            | Metric::LatencyP95
            | Metric::RequestErrorRate
            | Metric::RequestLatencyP95
            | Metric::Errors => Polarity::LowerIsBetter,
        }
    }

    /// The raw measure behind a metric the rollup tier does not keep.
    fn raw_measure(self) -> Option<RawMeasure> {
        match self {
            Metric::Sessions => Some(RawMeasure::Sessions),
            Metric::SessionQuality => Some(RawMeasure::SessionQuality),
            Metric::SkillCompletionRate => Some(RawMeasure::SkillCompletion),
            _ => None,
        }
    }

    /// Whether the metric is read from execution rows (and so takes a tool or model).
    fn of_executions(self) -> bool {
        matches!(
            self,
            Metric::Executions
                | Metric::SuccessRate
                | Metric::ErrorRate
                | Metric::Cost
                | Metric::Tokens
                | Metric::LatencyP95
        )
    }
}

/// One period: its start and its value (`None`: missing).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Start of the period, epoch seconds UTC.
    pub timestamp: i64,
    pub value: Option<f64>,
}

impl Point {
    /// The start as RFC 3339.
    pub fn time(&self) -> String {
        rfc3339(self.timestamp)
    }
}

pub(crate) fn rfc3339(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Evenly spaced points in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The metric's name, or `csv`.
    pub metric: String,
    pub step_seconds: i64,
    pub polarity: Polarity,
    pub points: Vec<Point>,
    /// Whether the first period is only partly covered (recording began, or the range
    /// starts, inside it); anomaly detection leaves it out.
    pub partial_first: bool,
    /// Whether the last period is only partly covered (the range ends inside it).
    pub partial_last: bool,
}

impl Series {
    /// A series of whole periods.
    pub fn new(metric: &str, step_seconds: i64, polarity: Polarity, points: Vec<Point>) -> Series {
        Series {
            metric: metric.to_owned(),
            step_seconds,
            polarity,
            points,
            partial_first: false,
            partial_last: false,
        }
    }

    /// Marks the first and last periods partial when what was covered, `[from, to)`
    /// in epoch seconds, starts after the first period's start or ends before the last
    /// period's end.
    pub fn mark_partial(&mut self, from: i64, to: i64) {
        if let (Some(first), Some(last)) = (self.points.first(), self.points.last()) {
            self.partial_first =
                first.timestamp < from && from < first.timestamp + self.step_seconds;
            self.partial_last = last.timestamp < to && to < last.timestamp + self.step_seconds;
        }
    }

    /// The points with a value as `(step index from the first point, value)`.
    pub fn present_xy(&self) -> (Vec<f64>, Vec<f64>) {
        let start = self.points.first().map_or(0, |p| p.timestamp);
        self.points
            .iter()
            .filter_map(|p| {
                p.value
                    .map(|v| ((p.timestamp - start) as f64 / self.step_seconds as f64, v))
            })
            .unzip()
    }

    /// Every value, missing ones interpolated linearly between their neighbours (and
    /// carried from the nearest value at either end); `None` when no value is present.
    pub fn filled_values(&self) -> Option<Vec<f64>> {
        let known: Vec<(usize, f64)> = self
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.value.map(|v| (i, v)))
            .collect();
        let (&(first_index, first_value), &(last_index, last_value)) =
            (known.first()?, known.last()?);
        let mut values = vec![0.0; self.points.len()];
        for value in values.iter_mut().take(first_index + 1) {
            *value = first_value;
        }
        for value in values.iter_mut().skip(last_index) {
            *value = last_value;
        }
        for pair in known.windows(2) {
            let ((a, va), (b, vb)) = (pair[0], pair[1]);
            for (i, value) in values.iter_mut().enumerate().take(b + 1).skip(a) {
                *value = va + (vb - va) * (i - a) as f64 / (b - a) as f64;
            }
        }
        Some(values)
    }

    /// The calendar's season for the step: 24 for hours, 7 for days, 52 for weeks; none
    /// otherwise (forecasts then look for a cycle in the values).
    pub fn season_length(&self) -> Option<usize> {
        match self.step_seconds {
            3600 => Some(24),
            86_400 => Some(7),
            604_800 => Some(52),
            _ => None,
        }
    }
}

/// What series to read from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRequest {
    pub metric: Metric,
    /// Project and range; without a start, the last 90 days (or 14 days of hours),
    /// from the first period with data; without an end, up to the last whole period
    /// before `now`.
    pub filter: Filter,
    pub granularity: Granularity,
    /// Only this tool (execution metrics, day granularity).
    pub tool: Option<String>,
    /// Only this model (execution metrics, day granularity).
    pub model: Option<String>,
    /// Only this skill (`completion_rate`).
    pub skill: Option<String>,
    /// Only this user (`sessions`, `quality`, `completion_rate`).
    pub user: Option<String>,
    pub now: DateTime<Utc>,
}

/// The periods `[start, end)` (epoch seconds) a request covers.
fn window(request: &SeriesRequest) -> (i64, i64) {
    let step = request.granularity.step_seconds();
    let floor = |t: i64| t - t.rem_euclid(step);
    // Without an end, the series stops at the last whole period: the current one is
    // still filling and would read as a drop.
    let end = request.filter.to.unwrap_or_else(|| {
        DateTime::from_timestamp(floor(request.now.timestamp()), 0).unwrap_or(request.now)
    });
    let end_bucket = floor((end - Duration::milliseconds(1)).timestamp());
    let start = match request.filter.from {
        Some(from) => floor(from.timestamp()),
        None => end_bucket - step * (request.granularity.default_points() - 1),
    };
    (start, end_bucket + step)
}

/// Reads a series from the store: the rollup tier for most metrics, the raw tables for
/// sessions, quality and skill completion (as far back as raw retention keeps them).
///
/// # Errors
/// A filter the metric does not take, or a storage failure.
pub fn from_store(
    rollups: &dyn RollupReader,
    raw: &dyn SeriesReader,
    request: &SeriesRequest,
) -> Result<Series> {
    let metric = request.metric;
    if (request.tool.is_some() || request.model.is_some()) && !metric.of_executions() {
        return Err(Error::Input(format!(
            "{} does not take a tool or model; execution metrics do",
            metric.name()
        )));
    }
    if request.tool.is_some() && request.model.is_some() {
        return Err(Error::Input("give a tool or a model, not both".into()));
    }
    if (request.tool.is_some() || request.model.is_some())
        && request.granularity == Granularity::Hour
    {
        return Err(Error::Input(
            "per-tool and per-model series are kept by day only: use granularity day".into(),
        ));
    }
    if request.skill.is_some() && metric != Metric::SkillCompletionRate {
        return Err(Error::Input(
            "a skill filter only applies to completion_rate".into(),
        ));
    }
    if request.user.is_some() && metric.raw_measure().is_none() {
        return Err(Error::Input(
            "a user filter only applies to sessions, quality and completion_rate".into(),
        ));
    }
    let (start, end) = window(request);
    let step = request.granularity.step_seconds();
    check_points((end - start) / step, step)?;
    let range = Filter {
        project: request.filter.project.clone(),
        from: DateTime::from_timestamp(start, 0),
        to: DateTime::from_timestamp(end, 0),
    };
    let values: BTreeMap<i64, Option<f64>> = match metric.raw_measure() {
        Some(measure) => raw
            .raw_series(&RawSeriesQuery {
                measure,
                filter: &range,
                step_seconds: step,
                skill: request.skill.as_deref(),
                user: request.user.as_deref(),
            })?
            .into_iter()
            .map(|row| {
                let value = match measure {
                    RawMeasure::Sessions => Some(row.rows as f64),
                    _ => (row.valued > 0).then(|| row.sum / row.valued as f64),
                };
                (row.bucket, value)
            })
            .collect(),
        None => rollup_values(rollups, request, &range)?,
    };
    let zero_filled = metric.zero_filled();
    // Without an explicit start, the series starts at the first period with data:
    // zeros from before anything was recorded are not a trend.
    let first = match request.filter.from {
        Some(_) => start,
        None => values.keys().next().copied().unwrap_or(start).max(start),
    };
    let mut points = Vec::new();
    let mut period = first;
    while period < end {
        let value = match values.get(&period) {
            Some(value) => *value,
            None if zero_filled => Some(0.0),
            None => None,
        };
        points.push(Point {
            timestamp: period,
            value,
        });
        period += step;
    }
    let mut series = Series::new(metric.name(), step, metric.polarity(), points);
    // What the range and the recording cover: a series that starts where recording
    // began starts inside its first period (an hour series cannot see inside the hour:
    // its first hour counts as partial).
    let covered_from = match request.filter.from {
        Some(from) => from.timestamp(),
        None if first > start => match request.granularity {
            Granularity::Day => first_recorded_hour(rollups, range.project.as_deref(), first)?,
            Granularity::Hour => first + 1,
        },
        None => first,
    };
    let covered_to = request
        .filter
        .to
        .map_or(end, |to| to.timestamp())
        .min(request.now.timestamp());
    series.mark_partial(covered_from, covered_to);
    Ok(series)
}

/// The start of the first hour with an execution, run, request or error in the day
/// starting at `day` (the families rolled up by hour).
fn first_recorded_hour(rollups: &dyn RollupReader, project: Option<&str>, day: i64) -> Result<i64> {
    let mut first = None::<i64>;
    for family in [
        Family::Executions,
        Family::Runs,
        Family::Requests,
        Family::Errors,
    ] {
        let rows = rollups.rollups(&RollupQuery {
            family,
            projects: ProjectScope::from_option(project),
            from: DateTime::from_timestamp(day, 0),
            to: DateTime::from_timestamp(day + 86_400, 0),
            by: Some(Resolution::Hour),
        })?;
        for row in rows {
            let hour = Resolution::Hour.bucket(row.bucket * 1000);
            first = Some(first.map_or(hour, |f| f.min(hour)));
        }
    }
    Ok(first.unwrap_or(day))
}

/// A rollup family's rows over `range`, merged per period, kept when `keep` says so.
fn merged(
    rollups: &dyn RollupReader,
    family: Family,
    request: &SeriesRequest,
    range: &Filter,
    keep: &dyn Fn(Option<&str>) -> bool,
) -> Result<BTreeMap<i64, Measures>> {
    let resolution = request.granularity.resolution();
    let rows = rollups.rollups(&RollupQuery {
        family,
        projects: ProjectScope::from_option(range.project.as_deref()),
        from: range.from,
        to: range.to,
        by: Some(resolution),
    })?;
    let mut out: BTreeMap<i64, Measures> = BTreeMap::new();
    for row in rows.into_iter().filter(|row| keep(row.name.as_deref())) {
        out.entry(resolution.bucket(row.bucket * 1000))
            .or_default()
            .merge(&row.measures);
    }
    Ok(out)
}

fn rollup_values(
    rollups: &dyn RollupReader,
    request: &SeriesRequest,
    range: &Filter,
) -> Result<BTreeMap<i64, Option<f64>>> {
    let metric = request.metric;
    let everything = |_: Option<&str>| true;
    let (family, wanted): (Family, Option<&str>) = if !metric.of_executions() {
        match metric {
            Metric::Requests | Metric::RequestErrorRate | Metric::RequestLatencyP95 => {
                (Family::Requests, None)
            }
            Metric::Runs => (Family::Runs, None),
            _ => (Family::Errors, None),
        }
    } else if let Some(tool) = request.tool.as_deref() {
        (Family::ExecutionsByTool, Some(tool))
    } else if let Some(model) = request.model.as_deref() {
        (Family::ExecutionsByModel, Some(model))
    } else {
        (Family::Executions, None)
    };
    let named = |name: Option<&str>| name == wanted;
    let keep: &dyn Fn(Option<&str>) -> bool = if wanted.is_some() {
        &named
    } else {
        &everything
    };
    let measures = merged(rollups, family, request, range, keep)?;
    // Cost and tokens of the whole project add runs, as the timeseries view does.
    let runs = if matches!(metric, Metric::Cost | Metric::Tokens) && wanted.is_none() {
        merged(rollups, Family::Runs, request, range, &everything)?
    } else {
        BTreeMap::new()
    };
    let rate = |numerator: u64, denominator: u64| {
        (denominator > 0).then(|| numerator as f64 / denominator as f64)
    };
    let mut out = BTreeMap::new();
    let periods: std::collections::BTreeSet<i64> =
        measures.keys().chain(runs.keys()).copied().collect();
    let empty = Measures::default();
    for period in periods {
        let m = measures.get(&period).unwrap_or(&empty);
        let r = runs.get(&period).unwrap_or(&empty);
        let value = match metric {
            Metric::Executions | Metric::Requests | Metric::Runs | Metric::Errors => {
                Some(m.n as f64)
            }
            Metric::SuccessRate => rate(m.ok, m.n),
            Metric::ErrorRate | Metric::RequestErrorRate => rate(m.n - m.ok.min(m.n), m.n),
            Metric::Cost => Some((m.cost_nusd + r.cost_nusd) as f64 / 1e9),
            Metric::Tokens => Some((m.tokens() + r.tokens()) as f64),
            Metric::LatencyP95 | Metric::RequestLatencyP95 => m.latency.quantile(0.95),
            Metric::Sessions | Metric::SessionQuality | Metric::SkillCompletionRate => None,
        };
        out.insert(period, value);
    }
    Ok(out)
}

/// Reads a `timestamp,value` CSV: a header row is optional; timestamps are RFC 3339,
/// `YYYY-MM-DD` or epoch seconds; an empty value is missing. The step is the smallest
/// gap between timestamps, and absent steps are missing points.
///
/// # Errors
/// A line that is not `timestamp,value`, timestamps out of order or repeated, fewer
/// than two rows, more than [`MAX_POINTS`] steps from the first row to the last.
pub fn from_csv(text: &str) -> Result<Series> {
    let mut rows: Vec<(i64, Option<f64>)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let line_number = index + 1;
        let (time, value) = line.split_once(',').ok_or_else(|| {
            Error::Input(format!(
                "csv line {line_number}: expected timestamp,value, got {line:?}"
            ))
        })?;
        let (time, value) = (
            time.trim().trim_matches('"'),
            value.trim().trim_matches('"'),
        );
        if rows.is_empty() && parse_time(time).is_none() && value.parse::<f64>().is_err() {
            continue; // the header
        }
        let timestamp = parse_time(time).ok_or_else(|| {
            Error::Input(format!(
                "csv line {line_number}: timestamp {time:?}: expected RFC 3339, YYYY-MM-DD or epoch seconds"
            ))
        })?;
        let value = if value.is_empty() {
            None
        } else {
            Some(
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        Error::Input(format!(
                            "csv line {line_number}: value {value:?}: expected a number"
                        ))
                    })?,
            )
        };
        if let Some(&(previous, _)) = rows.last() {
            if timestamp <= previous {
                return Err(Error::Input(format!(
                    "csv line {line_number}: timestamps must increase"
                )));
            }
        }
        rows.push((timestamp, value));
    }
    if rows.len() < 2 {
        return Err(Error::TooShort {
            what: "a CSV series",
            needed: 2,
            got: rows.len(),
        });
    }
    let step = rows
        .windows(2)
        .map(|pair| pair[1].0 - pair[0].0)
        .min()
        .unwrap_or(1);
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        check_points((last.0 - first.0) / step + 1, step)?;
    }
    let mut points = Vec::new();
    for pair in rows.windows(2) {
        let (t, v) = pair[0];
        points.push(Point {
            timestamp: t,
            value: v,
        });
        let mut gap = t + step;
        while gap < pair[1].0 {
            points.push(Point {
                timestamp: gap,
                value: None,
            });
            gap += step;
        }
    }
    if let Some(&(t, v)) = rows.last() {
        points.push(Point {
            timestamp: t,
            value: v,
        });
    }
    Ok(Series::new("csv", step, Polarity::HigherIsBetter, points))
}

fn parse_time(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    text.parse::<i64>().ok()
}
