//! `tally serve`'s evaluation of the alert rules: on a timer, and soon after data
//! arrives (ingest routes poke [`AlertTrigger`]), at most once a second, off the async
//! threads.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::AlertEngine;
use super::wiring::observe_rule;
use crate::Analytics;

/// The shortest time between the starts of two evaluations: a stream of ingests makes
/// one evaluation a second, not one per request.
pub const MIN_ALERT_INTERVAL: Duration = Duration::from_secs(1);

/// Asks for an evaluation soon (data arrived). Pokes while an evaluation runs are
/// remembered: one more evaluation follows it.
#[derive(Debug, Clone, Default)]
pub struct AlertTrigger(Arc<tokio::sync::Notify>);

impl AlertTrigger {
    pub fn poke(&self) {
        self.0.notify_one();
    }
}

/// Evaluates now, then every `every` and after each poke, until the task is dropped.
pub async fn evaluate_alerts(
    analytics: Analytics,
    engine: AlertEngine,
    every: Duration,
    trigger: AlertTrigger,
) {
    // No store call here: this runs on an async thread (the stored rules are read by
    // each evaluation, on a blocking thread).
    tracing::info!(
        config_rules = analytics.config().alerts.len(),
        every_secs = every.as_secs_f64(),
        "alert rules evaluated on a timer and as data arrives"
    );
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {},
            () = trigger.0.notified() => {},
        }
        let started = tokio::time::Instant::now();
        let analytics = analytics.clone();
        let engine = engine.clone();
        let round = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            engine.evaluate_all(now, |rule| observe_rule(&analytics, rule, now))?;
            // What every server on the database sees firing, for `tally_alerts_firing`.
            let firing = analytics.firing_alerts(None)?.len();
            analytics
                .telemetry()
                .alerts_firing()
                .set(i64::try_from(firing).unwrap_or(i64::MAX));
            Ok::<_, crate::Error>(())
        })
        .await;
        match round {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "evaluating the alert rules failed"),
            Err(error) => tracing::error!(%error, "evaluating the alert rules failed"),
        }
        tokio::time::sleep_until(started + MIN_ALERT_INTERVAL).await;
    }
}
