//! The health score and its weights.

use chrono::{Duration, Utc};
use tally_metrics::{HealthStatus, HealthWeights, ViewOptions, realtime};
use tally_store_contract::events::request;

use crate::support::{exec, ok, store};

#[test]
fn the_health_score_takes_its_weights_and_defaults_to_the_former_rule() {
    let now = Utc::now();
    let at = now - Duration::seconds(30);
    let mut events: Vec<_> = (0..8)
        .map(|i| {
            let status = if i < 4 { 500 } else { 200 };
            request(&format!("r{i}"), "shop", at, "/a", status, 10.0, None)
        })
        .collect();
    events.extend((0..12).map(|i| exec(&format!("x{i}"), "shop", at, ok())));
    let store = store(&events);

    // 4 errors of 20 events: 60 × min(1, 0.2 / 0.25) = 48 points off; fast requests.
    let default = realtime(&store, None, &ViewOptions::at(now)).unwrap();
    assert!(
        (default.health.score - 52.0).abs() < 1e-9,
        "{:?}",
        default.health
    );
    assert_eq!(default.health.status, HealthStatus::Degraded);
    assert_eq!(
        default.health.rule,
        "100 - 60 x min(1, error_rate_5m / 0.25) - 30 x min(1, max(0, p95_latency_5m_ms - 1000) / 9000); healthy >= 80, degraded >= 50"
    );

    // Half the requests failed: a request weight of 20 takes all 20 points.
    let weighted = ViewOptions {
        health: HealthWeights {
            request_error_rate: 20.0,
            ..HealthWeights::default()
        },
        ..ViewOptions::at(now)
    };
    let health = realtime(&store, None, &weighted).unwrap().health;
    assert!((health.score - 32.0).abs() < 1e-9, "{health:?}");
    assert_eq!(health.status, HealthStatus::Unhealthy);
    assert!(
        health
            .rule
            .contains("20 x min(1, request_error_rate_5m / 0.25)")
    );

    let requests_only = ViewOptions {
        health: HealthWeights {
            error_rate: 0.0,
            latency: 0.0,
            request_error_rate: 20.0,
        },
        ..ViewOptions::at(now)
    };
    let health = realtime(&store, None, &requests_only).unwrap().health;
    assert!((health.score - 80.0).abs() < 1e-9, "{health:?}");
    assert_eq!(health.status, HealthStatus::Healthy);
}
