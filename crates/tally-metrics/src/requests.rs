//! Request analytics: per endpoint (route template), the requests a host application
//! served, its server errors (status 500 and above) and latency percentiles, over the
//! range or the last 30 days, merged from the request rollups; and their trend: the
//! same figures over the previous period of the same length, and the change.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use serde::Serialize;
use tally_store::rollup::{Family, Measures};
use tally_store::{Filter, RollupReader};

use crate::Result;
use crate::fold::{ViewOptions, by_key, from_millis, ratio, rfc3339};

/// The default window of the requests view.
pub const REQUESTS_WINDOW_DAYS: i64 = 30;

/// The requests view: totals, then one row per endpoint, busiest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requests {
    pub total_requests: u64,
    pub server_errors: u64,
    pub error_rate: f64,
    pub p50_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub p99_latency_ms: Option<f64>,
    /// The period the trend compares with: as long as this one, just before it (`None`
    /// when the range has no start).
    pub previous: Option<PreviousPeriod>,
    pub endpoints: Vec<EndpointSummary>,
}

/// The totals of the previous period of the same length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviousPeriod {
    pub from: String,
    pub to: String,
    pub total_requests: u64,
    pub server_errors: u64,
    pub error_rate: f64,
    pub p95_latency_ms: Option<f64>,
    /// `(requests − previous) / previous`; `None` when the previous period had none.
    pub requests_change: Option<f64>,
    /// `error_rate − previous error_rate` (`None` when the previous period had none).
    pub error_rate_change: Option<f64>,
}

/// One endpoint's figures in the previous period, and the change since.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointTrend {
    pub previous_requests: u64,
    pub previous_error_rate: f64,
    pub previous_p95_latency_ms: Option<f64>,
    /// `(requests − previous) / previous`; `None` when the endpoint had none before.
    pub requests_change: Option<f64>,
    /// `error_rate − previous error_rate`; `None` when the endpoint had none before.
    pub error_rate_change: Option<f64>,
    /// `(p95 − previous p95) / previous p95`; `None` without both.
    pub p95_latency_change: Option<f64>,
}

/// One endpoint's requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointSummary {
    /// The route template (`/users/{id}`), or `(no route)`.
    pub endpoint: String,
    pub requests: u64,
    /// Requests answered with status 500 or above.
    pub server_errors: u64,
    pub error_rate: f64,
    pub avg_latency_ms: f64,
    pub p50_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub p99_latency_ms: Option<f64>,
    pub last_request: String,
    /// The previous period's figures (`None` when the range has no start).
    pub trend: Option<EndpointTrend>,
}

/// The requests of the filter's range (else the last 30 days) and project.
///
/// # Errors
/// The store fails.
pub fn requests(
    reader: &dyn RollupReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<Requests> {
    let mut window = filter.clone();
    if window.from.is_none() && window.to.is_none() {
        window.from = Some(options.now - Duration::days(REQUESTS_WINDOW_DAYS));
    }
    let previous_window = previous_of(&window, options.now);
    let mut before: BTreeMap<String, Measures> = BTreeMap::new();
    let mut previous_total = Measures::default();
    if let Some(previous) = &previous_window {
        for (key, m) in by_key(reader, Family::Requests, previous)? {
            if let Some(name) = key.name {
                previous_total.merge(&m);
                before.insert(name, m);
            }
        }
    }
    let mut total = Measures::default();
    let mut endpoints: Vec<EndpointSummary> = by_key(reader, Family::Requests, &window)?
        .into_iter()
        .filter_map(|(key, m)| key.name.map(|name| (name, m)))
        .map(|(endpoint, m)| {
            total.merge(&m);
            let trend = previous_window
                .as_ref()
                .map(|_| endpoint_trend(&m, before.get(&endpoint).unwrap_or(&Measures::default())));
            EndpointSummary {
                trend,
                ..summary(endpoint, &m)
            }
        })
        .collect();
    endpoints.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });
    let server_errors = total.n - total.ok;
    let previous = previous_window.map(|previous| {
        let errors = previous_total.n - previous_total.ok;
        let had = previous_total.n > 0;
        PreviousPeriod {
            from: rfc3339(previous.from.unwrap_or_default()),
            to: rfc3339(previous.to.unwrap_or_default()),
            total_requests: previous_total.n,
            server_errors: errors,
            error_rate: ratio(errors as f64, previous_total.n as f64),
            p95_latency_ms: previous_total.latency.quantile(0.95),
            requests_change: change(total.n as f64, previous_total.n as f64),
            error_rate_change: had.then(|| {
                ratio(server_errors as f64, total.n as f64)
                    - ratio(errors as f64, previous_total.n as f64)
            }),
        }
    });
    Ok(Requests {
        total_requests: total.n,
        server_errors,
        error_rate: ratio(server_errors as f64, total.n as f64),
        p50_latency_ms: total.latency.quantile(0.5),
        p95_latency_ms: total.latency.quantile(0.95),
        p99_latency_ms: total.latency.quantile(0.99),
        previous,
        endpoints,
    })
}

fn summary(endpoint: String, m: &Measures) -> EndpointSummary {
    let server_errors = m.n - m.ok;
    EndpointSummary {
        endpoint,
        requests: m.n,
        server_errors,
        error_rate: ratio(server_errors as f64, m.n as f64),
        avg_latency_ms: ratio(m.duration_us as f64 / 1000.0, m.n as f64),
        p50_latency_ms: m.latency.quantile(0.5),
        p95_latency_ms: m.latency.quantile(0.95),
        p99_latency_ms: m.latency.quantile(0.99),
        last_request: rfc3339(from_millis(m.last_ts)),
        trend: None,
    }
}

/// The period as long as `window`, just before it; its end is `now` when open-ended.
/// `None` without a start.
fn previous_of(window: &Filter, now: DateTime<Utc>) -> Option<Filter> {
    let from = window.from?;
    let to = window.to.unwrap_or(now);
    Some(Filter {
        project: window.project.clone(),
        from: Some(from - (to - from)),
        to: Some(from),
    })
}

/// `(now − before) / before`, `None` when `before` is 0.
fn change(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| (now - before) / before)
}

fn endpoint_trend(now: &Measures, before: &Measures) -> EndpointTrend {
    let rate = |m: &Measures| ratio((m.n - m.ok) as f64, m.n as f64);
    let p95_now = now.latency.quantile(0.95);
    let p95_before = before.latency.quantile(0.95);
    EndpointTrend {
        previous_requests: before.n,
        previous_error_rate: rate(before),
        previous_p95_latency_ms: p95_before,
        requests_change: change(now.n as f64, before.n as f64),
        error_rate_change: (before.n > 0).then(|| rate(now) - rate(before)),
        p95_latency_change: p95_now.zip(p95_before).and_then(|(n, b)| change(n, b)),
    }
}
