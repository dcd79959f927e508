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

#[test]
fn the_trend_compares_with_the_previous_period_of_the_same_length() {
    let events = [
        // The previous day: 2 requests of /a (one a server error), 1 of /gone.
        request("p1", "shop", oct(1, 1, 0), "/a", 200, 10.0, None),
        request("p2", "shop", oct(1, 2, 0), "/a", 500, 10.0, None),
        request("p3", "shop", oct(1, 3, 0), "/gone", 200, 10.0, None),
        // This day: 4 requests of /a, none failed, slower; 1 of /new.
        request("c1", "shop", oct(2, 1, 0), "/a", 200, 20.0, None),
        request("c2", "shop", oct(2, 2, 0), "/a", 200, 20.0, None),
        request("c3", "shop", oct(2, 3, 0), "/a", 200, 20.0, None),
        request("c4", "shop", oct(2, 4, 0), "/a", 200, 20.0, None),
        request("c5", "shop", oct(2, 5, 0), "/new", 200, 5.0, None),
    ];
    let store = store(&events);
    let day = filter(Some("shop"), Some(oct(2, 0, 0)), Some(oct(3, 0, 0)));
    let view = requests(&store, &day, &options()).unwrap();
    let previous = view.previous.as_ref().unwrap();
    assert_eq!(previous.from, "2026-10-01T00:00:00.000Z");
    assert_eq!(previous.to, "2026-10-02T00:00:00.000Z");
    assert_eq!((previous.total_requests, previous.server_errors), (3, 1));
    assert!((previous.requests_change.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert!((previous.error_rate_change.unwrap() + 1.0 / 3.0).abs() < 1e-12);

    let a = view.endpoints.iter().find(|e| e.endpoint == "/a").unwrap();
    let trend = a.trend.as_ref().unwrap();
    assert_eq!(trend.previous_requests, 2);
    assert_eq!(trend.previous_error_rate, 0.5);
    assert_eq!(trend.requests_change, Some(1.0));
    assert_eq!(trend.error_rate_change, Some(-0.5));
    assert!(close(trend.p95_latency_change, 1.0, 0.03), "{trend:?}");
    let new = view
        .endpoints
        .iter()
        .find(|e| e.endpoint == "/new")
        .unwrap();
    let trend = new.trend.as_ref().unwrap();
    assert_eq!((trend.previous_requests, trend.requests_change), (0, None));
    assert_eq!(trend.error_rate_change, None);

    // The default window (the last 30 days) compares with the 30 days before; a range
    // without a start has no previous period.
    let default = requests(&store, &filter(Some("shop"), None, None), &options()).unwrap();
    assert_eq!(default.previous.unwrap().total_requests, 0);
    let open = requests(
        &store,
        &filter(Some("shop"), None, Some(oct(3, 0, 0))),
        &options(),
    );
    let open = open.unwrap();
    assert!(open.previous.is_none() && open.endpoints.iter().all(|e| e.trend.is_none()));
}
