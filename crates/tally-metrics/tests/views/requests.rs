//! Request analytics: per endpoint, requests, server errors and latency percentiles.

use tally_metrics::requests;
use tally_store_contract::events::request;

use crate::support::{close, filter, oct, options, store};

#[test]
fn endpoints_by_requests_with_server_errors_and_latencies() {
    let events = [
        request(
            "a",
            "shop",
            oct(2, 9, 0),
            "/users/{id}",
            200,
            10.0,
            Some("u1"),
        ),
        request("b", "shop", oct(2, 9, 1), "/users/{id}", 404, 30.0, None),
        request("c", "shop", oct(2, 9, 2), "/users/{id}", 503, 20.0, None),
        request("d", "shop", oct(1, 23, 0), "/orders", 500, 100.0, None),
        request("e", "blog", oct(2, 9, 0), "/posts", 200, 5.0, None),
        // Older than the default 30-day window.
        request(
            "f",
            "shop",
            oct(0, 0, 0) - chrono::Duration::days(40),
            "/old",
            200,
            1.0,
            None,
        ),
    ];
    let store = store(&events);
    let view = requests(&store, &filter(Some("shop"), None, None), &options()).unwrap();
    assert_eq!((view.total_requests, view.server_errors), (4, 2));
    assert_eq!(view.error_rate, 0.5);
    let names: Vec<&str> = view.endpoints.iter().map(|e| e.endpoint.as_str()).collect();
    assert_eq!(names, ["/users/{id}", "/orders"]);
    let users = &view.endpoints[0];
    assert_eq!((users.requests, users.server_errors), (3, 1));
    assert!((users.error_rate - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(users.avg_latency_ms, 20.0);
    assert!(close(users.p50_latency_ms, 20.0, 0.01), "{users:?}");
    // The value at rank floor(0.99 × (3 − 1)) = 1 of 10, 20, 30.
    assert!(close(users.p99_latency_ms, 20.0, 0.01), "{users:?}");
    assert_eq!(users.last_request, "2026-10-02T09:02:00.000Z");
    assert_eq!(view.endpoints[1].server_errors, 1);

    let all = requests(&store, &filter(None, None, None), &options()).unwrap();
    assert_eq!(all.total_requests, 5);
    let ranged = requests(
        &store,
        &filter(None, Some(oct(0, 0, 0) - chrono::Duration::days(41)), None),
        &options(),
    )
    .unwrap();
    assert_eq!(
        ranged.total_requests, 6,
        "a range replaces the default window"
    );

    let empty = requests(&store, &filter(Some("none"), None, None), &options()).unwrap();
    assert_eq!((empty.total_requests, empty.error_rate), (0, 0.0));
    assert!(empty.endpoints.is_empty() && empty.p95_latency_ms.is_none());
}
