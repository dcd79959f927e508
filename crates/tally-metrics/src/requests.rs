//! Request analytics: per endpoint (route template), the requests a host application
//! served, its server errors (status 500 and above) and latency percentiles, over the
//! range or the last 30 days, merged from the request rollups.

use chrono::Duration;
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
    pub endpoints: Vec<EndpointSummary>,
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
    let mut total = Measures::default();
    let mut endpoints: Vec<EndpointSummary> = by_key(reader, Family::Requests, &window)?
        .into_iter()
        .filter_map(|(key, m)| key.name.map(|name| (name, m)))
        .map(|(endpoint, m)| {
            total.merge(&m);
            summary(endpoint, &m)
        })
        .collect();
    endpoints.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });
    let server_errors = total.n - total.ok;
    Ok(Requests {
        total_requests: total.n,
        server_errors,
        error_rate: ratio(server_errors as f64, total.n as f64),
        p50_latency_ms: total.latency.quantile(0.5),
        p95_latency_ms: total.latency.quantile(0.95),
        p99_latency_ms: total.latency.quantile(0.99),
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
    }
}
