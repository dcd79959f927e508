//! Delivery to a real tally server: a batch it refuses for good (no key where keys
//! exist) is dropped after one attempt, counted, never retried; with the key every
//! event is stored once, however the batches are cut.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tally_api::http::{Server, ServerHandle, ServerOptions};
use tally_api::{Analytics, KeyScope, KeySpec};
use tally_tower::{Config, Delivery, HttpSink, Recorder, Sink, SinkError, Stats};
use tower_service::Service;

/// A tally server on a loopback port over a fresh database that has an ingest key.
fn server_with_key(dir: &std::path::Path) -> (ServerHandle, Analytics, String) {
    let analytics = Analytics::open(dir.join("tally.db")).unwrap();
    let key = analytics
        .create_key(&KeySpec {
            scope: KeyScope::Ingest,
            projects: Vec::new(),
            name: None,
        })
        .unwrap()
        .secret;
    let server = Server::bind(
        analytics.clone(),
        &ServerOptions {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..ServerOptions::default()
        },
    )
    .unwrap()
    .spawn()
    .unwrap();
    (server, analytics, key)
}

/// A sink that counts the attempts made through it.
struct Counting {
    inner: HttpSink,
    attempts: Arc<AtomicU64>,
}

impl Sink for Counting {
    fn send(&mut self, records: &[u8]) -> Result<Delivery, SinkError> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.inner.send(records)
    }
}

/// Serves `requests` requests through the layer in process (no sockets), then shuts the
/// recorder down: its final counts and the attempts its sink saw.
fn record(requests: u64, config: Config, sink: HttpSink) -> (Stats, u64) {
    let attempts = Arc::new(AtomicU64::new(0));
    let recorder = Recorder::start(
        config,
        Counting {
            inner: sink,
            attempts: attempts.clone(),
        },
    );
    let mut app = Router::new()
        .route("/items/{id}", get(|| async { "item" }))
        .layer(recorder.layer());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        for i in 0..requests {
            let request = http::Request::get(format!("/items/{i}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.call(request).await.unwrap();
            assert_eq!(response.status(), 200);
        }
    });
    let stats = recorder.shutdown();
    (stats, attempts.load(Ordering::Relaxed))
}

/// One batch for everything, sent at shutdown: the attempts are countable.
fn one_batch() -> Config {
    Config {
        batch_size: 1_000,
        flush_interval: Duration::from_secs(3600),
        max_attempts: 4,
        retry_backoff: Duration::from_millis(1),
        ..Config::for_project("shop")
    }
}

#[test]
fn a_batch_refused_for_good_is_dropped_after_one_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let (server, analytics, _key) = server_with_key(dir.path());
    let base = format!("http://{}", server.addr());
    let (stats, attempts) = record(40, one_batch(), HttpSink::new(&base));
    assert_eq!(attempts, 1, "a 401 is not retried");
    assert_eq!(
        stats,
        Stats {
            queued: 40,
            dropped_send_failed: 40,
            failed_attempts: 1,
            ..Stats::default()
        }
    );
    assert_eq!(analytics.stats().unwrap().events, 0);
}

#[test]
fn with_the_key_every_event_is_stored_once_however_the_batches_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (server, analytics, key) = server_with_key(dir.path());
    let base = format!("http://{}", server.addr());
    for (batch_size, requests) in [(1, 7), (16, 100), (1_000, 250)] {
        let config = Config {
            batch_size,
            ..one_batch()
        };
        let before = analytics.stats().unwrap().events;
        let (stats, attempts) = record(requests, config, HttpSink::new(&base).key(&key));
        assert_eq!(
            stats,
            Stats {
                queued: requests,
                sent: requests,
                ..Stats::default()
            }
        );
        assert_eq!(attempts, requests.div_ceil(batch_size as u64));
        assert_eq!(analytics.stats().unwrap().events - before, requests);
    }
    let view = analytics.requests(&tally_api::Filter::default()).unwrap();
    assert_eq!(view.endpoints.len(), 1);
    assert_eq!(view.endpoints[0].endpoint, "/items/{id}");
    assert_eq!(view.total_requests, 357);
}
