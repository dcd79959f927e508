//! tally's own operation figures for Prometheus: events accepted, duplicate and
//! rejected by kind and source, HTTP requests by route, method and status with their
//! durations, and the gauge of firing alerts. One [`Telemetry`] per facade (clones
//! share it); `scrape.rs` adds what is read at scrape time (writer, database size,
//! business gauges) and writes the OpenMetrics text (`docs/http.md`, "Prometheus").
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: it writes
//! the OpenMetrics text format natively (`_total`, units, `# EOF`), keeps no global
//! registry (each facade and each test has its own), and its counters are plain atomics.

mod business;
mod scrape;

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use tally_ingest::{BatchCommitted, Progress};
use tally_models::Event;
use tally_store::WriteOutcome;

pub use business::{MAX_MODEL_SERIES, MAX_TOOL_SERIES, OTHER};
pub use scrape::CONTENT_TYPE;

/// Where accepted records came from: the `source` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestSource {
    /// `POST /api/analytics/events` and the `track`/`session` routes.
    Json,
    /// `POST /v1/traces`.
    Otlp,
    /// `tally ingest` and programs ingesting through the library.
    File,
    /// `tally demo`.
    Demo,
}

impl IngestSource {
    pub fn as_str(self) -> &'static str {
        match self {
            IngestSource::Json => "json",
            IngestSource::Otlp => "otlp",
            IngestSource::File => "file",
            IngestSource::Demo => "demo",
        }
    }
}

/// The `kind` label of the records whose kind is not known for certain: rejected
/// records (they failed validation), and the accepted and duplicate records of a batch
/// of several kinds that held both (the store counts them, not which were which).
pub const UNKNOWN_KIND: &str = "unknown";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    kind: &'static str,
    source: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The request-duration buckets, in seconds.
const REQUEST_SECONDS_BOUNDS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_SECONDS_BOUNDS)
}

/// The process's operation series. Counters start at 0 when the process starts, as
/// Prometheus counters do.
#[derive(Debug)]
pub struct Telemetry {
    registry: Registry,
    accepted: Family<EventLabels, Counter>,
    duplicates: Family<EventLabels, Counter>,
    rejected: Family<EventLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    alerts_firing: Gauge<i64, std::sync::atomic::AtomicI64>,
}

impl Default for Telemetry {
    fn default() -> Self {
        let mut registry = Registry::default();
        let accepted = Family::<EventLabels, Counter>::default();
        let duplicates = Family::<EventLabels, Counter>::default();
        let rejected = Family::<EventLabels, Counter>::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                request_histogram,
            );
        let alerts_firing = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        registry.register(
            "tally_events_accepted",
            "Events stored for the first time by this process, by kind and source",
            accepted.clone(),
        );
        registry.register(
            "tally_events_duplicate",
            "Events this process received that were stored already (same project and id), by kind and source",
            duplicates.clone(),
        );
        registry.register(
            "tally_events_rejected",
            "Records this process rejected (quarantined), by source; kind is unknown",
            rejected.clone(),
        );
        registry.register(
            "tally_http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "tally_http_request_duration",
            "Time from a request's arrival to its answer's headers, by route template",
            Unit::Seconds,
            request_seconds.clone(),
        );
        registry.register(
            "tally_alerts_firing",
            "Alert rules in the firing state (set by the alerts engine; 0 without rules)",
            alerts_firing.clone(),
        );
        Telemetry {
            registry,
            accepted,
            duplicates,
            rejected,
            requests,
            request_seconds,
            alerts_firing,
        }
    }
}

impl Telemetry {
    /// Counts one HTTP request: `route` is the route template (`/api/analytics/{name}`)
    /// or `(no route)`, never the path a client sent.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The gauge of alert rules in the firing state: the alerts engine sets it on every
    /// transition; it stays 0 while no rule fires.
    pub fn alerts_firing(&self) -> &Gauge<i64, std::sync::atomic::AtomicI64> {
        &self.alerts_firing
    }

    /// Counts a committed batch: its new and duplicate events by kind, and the
    /// rejections it added to `rejected_so_far` (the input's running total).
    fn count_batch(&self, source: IngestSource, batch: &BatchCommitted<'_>, new_rejects: u64) {
        let source = source.as_str();
        for split in split_by_kind(batch.events, batch.outcome) {
            let labels = EventLabels {
                kind: split.kind,
                source,
            };
            if split.accepted > 0 {
                self.accepted.get_or_create(&labels).inc_by(split.accepted);
            }
            if split.duplicates > 0 {
                self.duplicates
                    .get_or_create(&labels)
                    .inc_by(split.duplicates);
            }
        }
        if new_rejects > 0 {
            self.rejected
                .get_or_create(&EventLabels {
                    kind: UNKNOWN_KIND,
                    source,
                })
                .inc_by(new_rejects);
        }
    }

    /// A progress hook that counts every committed batch of one input, then tells
    /// `inner`.
    pub(crate) fn counting<'a>(
        &'a self,
        source: IngestSource,
        inner: &'a mut dyn Progress,
    ) -> CountingProgress<'a> {
        CountingProgress {
            telemetry: self,
            source,
            inner,
            rejected_seen: 0,
        }
    }

    /// The registry of the series kept between scrapes.
    fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// Counts what an ingest commits into [`Telemetry`].
pub(crate) struct CountingProgress<'a> {
    telemetry: &'a Telemetry,
    source: IngestSource,
    inner: &'a mut dyn Progress,
    /// The input's rejections already counted.
    rejected_seen: u64,
}

impl Progress for CountingProgress<'_> {
    fn started(&mut self, source: &str, total_bytes: Option<u64>) {
        self.rejected_seen = 0;
        self.inner.started(source, total_bytes);
    }

    fn committed(&mut self, batch: &BatchCommitted<'_>) {
        let new_rejects = batch.report.rejected.saturating_sub(self.rejected_seen);
        self.rejected_seen = batch.report.rejected;
        self.telemetry.count_batch(self.source, batch, new_rejects);
        self.inner.committed(batch);
    }

    fn finished(&mut self, source: &str) {
        self.inner.finished(source);
    }
}

/// One kind's share of a batch's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KindSplit {
    kind: &'static str,
    accepted: u64,
    duplicates: u64,
}

/// A batch's new and duplicate events by kind. The store counts how many were new,
/// not which: when a batch of several kinds held both, its counts go to
/// [`UNKNOWN_KIND`] rather than be guessed.
fn split_by_kind(events: &[Event], outcome: WriteOutcome) -> Vec<KindSplit> {
    let mut counts: Vec<(&'static str, u64)> = Vec::new();
    for event in events {
        let kind = event.kind().as_str();
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let exact = total == outcome.accepted + outcome.duplicates;
    match counts.as_slice() {
        _ if exact && outcome.duplicates == 0 => counts
            .iter()
            .map(|&(kind, n)| KindSplit {
                kind,
                accepted: n,
                duplicates: 0,
            })
            .collect(),
        _ if exact && outcome.accepted == 0 => counts
            .iter()
            .map(|&(kind, n)| KindSplit {
                kind,
                accepted: 0,
                duplicates: n,
            })
            .collect(),
        [(kind, _)] if exact => vec![KindSplit {
            kind,
            accepted: outcome.accepted,
            duplicates: outcome.duplicates,
        }],
        _ => vec![KindSplit {
            kind: UNKNOWN_KIND,
            accepted: outcome.accepted,
            duplicates: outcome.duplicates,
        }],
    }
}

#[cfg(test)]
mod tests;
