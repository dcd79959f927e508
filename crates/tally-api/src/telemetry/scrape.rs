//! One scrape: the series kept between scrapes, then those read now (the writer's
//! queue and commit times, the database size, the business gauges), as OpenMetrics
//! text.

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use tally_store::{COMMIT_SECONDS_BOUNDS, CommitHistogram};

use crate::{Analytics, Error, Result};

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Analytics {
    /// The `/metrics` answer: this process's operation series and the figures read
    /// from the store now, in the OpenMetrics text format. The business gauges are
    /// left out while `[analytics] enabled = false`.
    ///
    /// # Errors
    /// The store fails.
    pub fn prometheus_text(&self) -> Result<String> {
        let mut now = Registry::default();
        if let Some(writer) = self.store.writer_stats() {
            now.register(
                "tally_writer_queue_depth",
                "Small write batches waiting for the writer to commit them together",
                ConstGauge::new(writer.queue_depth),
            );
            now.register_with_unit(
                "tally_writer_commit_duration",
                "Time of each write transaction of the store since it opened",
                Unit::Seconds,
                CommitDurations(writer.commit_times),
            );
        }
        now.register_with_unit(
            "tally_database_size",
            "Bytes the database takes (SQLite: the file and its write-ahead log)",
            Unit::Bytes,
            ConstGauge::new(self.store.health()?.file_bytes),
        );
        if self.config().analytics.enabled {
            super::business::register(self, &mut now)?;
        }
        let mut text = String::new();
        encode_registry(&mut text, self.telemetry.registry())
            .and_then(|()| encode_registry(&mut text, &now))
            .and_then(|()| encode_eof(&mut text))
            .map_err(|_| Error::Server("the metrics text could not be written".to_owned()))?;
        Ok(text)
    }
}

/// The store's commit histogram as an OpenMetrics histogram.
#[derive(Debug)]
struct CommitDurations(CommitHistogram);

impl EncodeMetric for CommitDurations {
    fn encode(&self, mut encoder: MetricEncoder) -> std::fmt::Result {
        // Per-bucket counts; the encoder adds them up. `f64::MAX` is written `+Inf`.
        let buckets: Vec<(f64, u64)> = COMMIT_SECONDS_BOUNDS
            .iter()
            .copied()
            .chain(std::iter::once(f64::MAX))
            .zip(self.0.counts)
            .collect();
        encoder.encode_histogram::<NoLabelSet>(
            self.0.total_seconds,
            self.0.commits(),
            &buckets,
            None,
        )
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// Gauges read at scrape time, one per label set.
#[derive(Debug)]
pub(super) struct Gauges<S>(pub(super) Vec<(S, f64)>);

impl<S: EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static> EncodeMetric for Gauges<S> {
    fn encode(&self, mut encoder: MetricEncoder) -> std::fmt::Result {
        for (labels, value) in &self.0 {
            encoder.encode_family(labels)?.encode_gauge(value)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}
