//! Real-time windows (1, 5 and 15 minutes) from the minute tier, and the system health
//! score.
//!
//! **Health score**: 100, minus up to 60 points for the 5-minute error rate (all of
//! them at 25 % errors or more, in proportion below), minus up to 30 points for the
//! 5-minute p95 latency above 1 s (all of them at 10 s), minus up to 0 points for the
//! 5-minute server error rate of requests (all of them at 25 %); the points are
//! `[health]` weights in `tally.toml` ([`HealthWeights`]). Never below 0. `healthy` at
//! 80 or more, `degraded` from 50, `unhealthy` below; `idle` when nothing arrived in 15
//! minutes.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tally_models::{Kind, LatencySketch};
use tally_store::RollupReader;

use crate::Result;
use crate::fold::{ViewOptions, ratio};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    pub window_minutes: u32,
    pub events: u64,
    pub events_per_minute: f64,
    pub active_users: u64,
    /// Request latency when requests arrived in the window, else execution duration.
    pub p95_latency_ms: Option<f64>,
    pub errors: u64,
    /// Failed executions, 5xx requests and serious `error` events over all events.
    pub error_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
    Idle,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub score: f64,
    pub status: HealthStatus,
    /// The score's formula with its weights.
    pub rule: String,
}

/// The most points each part of the health score takes off 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthWeights {
    /// For the error rate of every event (failed executions, 5xx requests, serious
    /// `error` events), all of them at 25 %.
    pub error_rate: f64,
    /// For the p95 latency above 1 s, all of them at 10 s.
    pub latency: f64,
    /// For the server error rate of requests alone, all of them at 25 %.
    pub request_error_rate: f64,
}

impl Default for HealthWeights {
    /// The score of releases before the weights were configurable.
    fn default() -> Self {
        HealthWeights {
            error_rate: 60.0,
            latency: 30.0,
            request_error_rate: 0.0,
        }
    }
}

impl HealthWeights {
    fn rule(&self) -> String {
        let mut rule = format!(
            "100 - {} x min(1, error_rate_5m / 0.25) - {} x min(1, max(0, p95_latency_5m_ms - 1000) / 9000)",
            self.error_rate, self.latency
        );
        if self.request_error_rate > 0.0 {
            rule.push_str(&format!(
                " - {} x min(1, request_error_rate_5m / 0.25)",
                self.request_error_rate
            ));
        }
        rule.push_str("; healthy >= 80, degraded >= 50");
        rule
    }
}

/// The `realtime` view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Realtime {
    pub windows: Vec<Window>,
    pub health: Health,
    pub generated_at: String,
}

/// The windows ending at `options.now`: each spans the current minute and the ones
/// before it, `window_minutes` in all.
///
/// # Errors
/// A storage failure.
pub fn realtime(
    reader: &dyn RollupReader,
    project: Option<&str>,
    options: &ViewOptions,
) -> Result<Realtime> {
    let now_minute = options.now.timestamp().div_euclid(60) * 60;
    let start = |minutes: u32| now_minute - 60 * (i64::from(minutes) - 1);
    let since = DateTime::<Utc>::from_timestamp(start(15), 0)
        .unwrap_or(options.now - Duration::minutes(15));
    let rows = reader.minutes(project, since)?;
    let mut windows = Vec::new();
    let mut request_error_rate_5m = 0.0;
    for minutes in [1u32, 5, 15] {
        let from = start(minutes);
        let (mut events, mut errors) = (0, 0);
        let (mut request_count, mut request_errors) = (0, 0);
        let (mut requests, mut executions) = (LatencySketch::new(), LatencySketch::new());
        for row in rows
            .iter()
            .filter(|r| r.minute >= from && r.minute <= now_minute)
        {
            events += row.n;
            errors += row.errors;
            match row.kind {
                Kind::Request => {
                    requests.merge(&row.latency);
                    request_count += row.n;
                    request_errors += row.errors;
                }
                Kind::Execution => executions.merge(&row.latency),
                _ => {}
            }
        }
        let latency = if requests.is_empty() {
            &executions
        } else {
            &requests
        };
        if minutes == 5 {
            request_error_rate_5m = ratio(request_errors as f64, request_count as f64);
        }
        let users_since = DateTime::<Utc>::from_timestamp(from, 0).unwrap_or(since);
        windows.push(Window {
            window_minutes: minutes,
            events,
            events_per_minute: events as f64 / f64::from(minutes),
            active_users: reader.active_users(project, users_since)?,
            p95_latency_ms: latency.quantile(0.95),
            errors,
            error_rate: ratio(errors as f64, events as f64),
        });
    }
    Ok(Realtime {
        health: health(
            &windows[1],
            request_error_rate_5m,
            windows[2].events,
            &options.health,
        ),
        windows,
        generated_at: options.generated_at(),
    })
}

fn health(
    five: &Window,
    request_error_rate: f64,
    fifteen_events: u64,
    weights: &HealthWeights,
) -> Health {
    if fifteen_events == 0 {
        return Health {
            score: 100.0,
            status: HealthStatus::Idle,
            rule: weights.rule(),
        };
    }
    let errors = weights.error_rate * (five.error_rate / 0.25).min(1.0);
    let latency = weights.latency
        * (five.p95_latency_ms.map_or(0.0, |p| (p - 1000.0).max(0.0)) / 9000.0).min(1.0);
    let requests = weights.request_error_rate * (request_error_rate / 0.25).min(1.0);
    let score = (100.0 - errors - latency - requests).max(0.0);
    let status = if score >= 80.0 {
        HealthStatus::Healthy
    } else if score >= 50.0 {
        HealthStatus::Degraded
    } else {
        HealthStatus::Unhealthy
    };
    Health {
        score,
        status,
        rule: weights.rule(),
    }
}
