//! The per-endpoint requests view equals what DuckDB computes over the same events
//! (`tests/oracles/duckdb_requests.py`): counts and server errors exactly, the
//! p50, p95 and p99 latencies within the sketch's 1 %.

use std::fmt::Write;

use chrono::{Duration, TimeZone, Utc};
use tally_api::Filter;

use crate::support::TestDb;

#[test]
fn endpoint_percentiles_equal_duckdb_within_the_sketch_error() {
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let mut state: u64 = 0x5eed_1234;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let endpoints = ["/users/{id}", "/orders", "/search", "/health"];
    let mut text = String::new();
    for i in 0..4000 {
        let endpoint = endpoints[(next() % 4) as usize];
        // Latencies over four orders of magnitude, heavier for /search.
        let scale = if endpoint == "/search" { 100.0 } else { 1.0 };
        let latency = (next() % 100_000) as f64 / 100.0 * scale + 0.05;
        let status = [200, 200, 200, 404, 500, 503][(next() % 6) as usize];
        let ts = (start + Duration::seconds((next() % (20 * 86_400)) as i64)).to_rfc3339();
        let _ = writeln!(
            text,
            r#"{{"kind":"request","id":"q{i}","ts":"{ts}","project":"shop","endpoint":"{endpoint}","method":"GET","status":{status},"latency_ms":{latency}}}"#
        );
    }
    let db = TestDb::new();
    let file = db.dir.path().join("requests.jsonl");
    std::fs::write(&file, &text).unwrap();
    let report = db.ingest("requests.jsonl", &text);
    assert_eq!(report.rejected, 0, "{:?}", report.errors);

    let oracle = crate::support::python_oracle_args("duckdb_requests.py", &[&file]);

    let range = Filter {
        project: None,
        from: Some(start),
        to: Some(start + Duration::days(30)),
    };
    let view = db.analytics.requests(&range).unwrap();
    assert_eq!(view.endpoints.len(), 4);
    for endpoint in &view.endpoints {
        let want = &oracle[&endpoint.endpoint];
        assert_eq!(
            endpoint.requests,
            want["requests"].as_u64().unwrap(),
            "{}",
            endpoint.endpoint
        );
        assert_eq!(
            endpoint.server_errors,
            want["server_errors"].as_u64().unwrap(),
            "{}",
            endpoint.endpoint
        );
        for (got, name) in [
            (endpoint.p50_latency_ms, "p50"),
            (endpoint.p95_latency_ms, "p95"),
            (endpoint.p99_latency_ms, "p99"),
        ] {
            let exact = want[name].as_f64().unwrap();
            let got = got.unwrap_or_else(|| panic!("{} has no {name}", endpoint.endpoint));
            assert!(
                (got - exact).abs() <= 0.01 * exact,
                "{} {name}: {got} vs {exact}",
                endpoint.endpoint
            );
        }
    }
}
