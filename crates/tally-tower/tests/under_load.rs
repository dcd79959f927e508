//! The layer inside a real axum server on a loopback port, driven by concurrent HTTP
//! clients: every request is recorded once into a real tally (an embedded SQLite one, or
//! a real tally server over HTTP), and when the tally server stops mid-run the host
//! keeps answering every request while the events it cannot deliver are dropped and
//! counted.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tally_api::Analytics;
use tally_api::http::{Server, ServerOptions};
use tally_tower::{Config, EmbeddedSink, HttpSink, Recorder, Sink, Stats};

/// The host application: a route with an id, one that fails, and whatever else 404s.
fn app(recorder: &Recorder) -> Router {
    Router::new()
        .route("/users/{id}", get(|| async { "a user" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .layer(recorder.layer())
}

/// Serves `app` on a loopback port from a runtime of its own thread; the address and
/// the runtime (dropping it stops the server).
fn host(app: Router) -> (SocketAddr, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    (addr, runtime)
}

fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// The path, the status the host answers it with, and the endpoint recorded, of request
/// `i` of client `c`.
fn request_of(c: u64, i: u64) -> (String, u16, &'static str) {
    match i % 4 {
        0 | 1 => (format!("/users/{}", c * 1000 + i), 200, "/users/{id}"),
        2 => ("/fail".to_owned(), 503, "/fail"),
        _ => (format!("/nothing/{i}"), 404, "(no route)"),
    }
}

/// The stored `request` events, from the event export.
fn stored_requests(analytics: &Analytics) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    analytics
        .export(
            tally_api::ExportFormat::JsonLines,
            &tally_api::Filter::default(),
            &mut out,
        )
        .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| event["kind"] == "request")
        .collect()
}

#[test]
fn every_request_is_recorded_once_into_an_embedded_tally() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = Analytics::open(dir.path().join("tally.db")).unwrap();
    let config = Config {
        batch_size: 50,
        flush_interval: Duration::from_millis(20),
        ..Config::for_project("shop")
            .user_header(http::HeaderName::from_static("x-user"))
            .session_header(http::HeaderName::from_static("x-session"))
    };
    let recorder = Recorder::start(config, EmbeddedSink::new(analytics.clone()));
    let (addr, runtime) = host(app(&recorder));
    let clients: u64 = 6;
    let per_client: u64 = 100;
    let mut expected: BTreeMap<(&str, u16), u64> = BTreeMap::new();
    std::thread::scope(|scope| {
        for c in 0..clients {
            scope.spawn(move || {
                let agent = client();
                for i in 0..per_client {
                    let (path, status, _) = request_of(c, i);
                    let answer = agent
                        .get(format!("http://{addr}{path}"))
                        .header("x-user", format!("u{c}"))
                        .header("x-session", format!("s{c}"))
                        .call()
                        .unwrap();
                    assert_eq!(answer.status().as_u16(), status);
                }
            });
        }
    });
    for c in 0..clients {
        for i in 0..per_client {
            let (_, status, endpoint) = request_of(c, i);
            *expected.entry((endpoint, status)).or_default() += 1;
        }
    }
    let stats = recorder.shutdown();
    drop(runtime);
    let total = clients * per_client;
    assert_eq!(
        stats,
        Stats {
            queued: total,
            sent: total,
            ..Stats::default()
        }
    );
    let stored = stored_requests(&analytics);
    let mut got: BTreeMap<(&str, u16), u64> = BTreeMap::new();
    for event in &stored {
        let endpoint = event["endpoint"].as_str().unwrap();
        let endpoint = ["/users/{id}", "/fail", "(no route)"]
            .into_iter()
            .find(|e| *e == endpoint)
            .unwrap_or_else(|| panic!("unexpected endpoint in {event}"));
        *got.entry((endpoint, event["status"].as_u64().unwrap() as u16))
            .or_default() += 1;
        assert_eq!(event["project"], "shop");
        assert_eq!(event["method"], "GET");
        assert!(event["latency_ms"].as_f64().unwrap() >= 0.0);
        let user = event["user_id"].as_str().unwrap();
        assert_eq!(
            event["session_id"].as_str().unwrap()[1..],
            user[1..],
            "{event}"
        );
    }
    assert_eq!(got, expected);
    // The request analytics see them by route template.
    let view = analytics.requests(&tally_api::Filter::default()).unwrap();
    assert_eq!(view.total_requests, total);
    assert_eq!(view.server_errors, expected[&("/fail", 503)]);
}

/// A sink that counts the batches it was handed before passing them on.
struct Counting<S> {
    inner: S,
    attempts: Arc<AtomicU64>,
}

impl<S: Sink> Sink for Counting<S> {
    fn send(&mut self, records: &[u8]) -> Result<tally_tower::Delivery, tally_tower::SinkError> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.inner.send(records)
    }
}

#[test]
fn a_tally_server_stopped_mid_run_costs_the_host_nothing_and_drops_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = Analytics::open(dir.path().join("tally.db")).unwrap();
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
    let base = format!("http://{}", server.addr());
    let attempts = Arc::new(AtomicU64::new(0));
    let config = Config {
        queue_capacity: 64,
        batch_size: 16,
        flush_interval: Duration::from_millis(10),
        max_attempts: 3,
        retry_backoff: Duration::from_millis(20),
        ..Config::for_project("shop")
    };
    let recorder = Recorder::start(
        config,
        Counting {
            inner: HttpSink::with_timeout(&base, Duration::from_secs(5)),
            attempts: attempts.clone(),
        },
    );
    let (addr, runtime) = host(app(&recorder));
    let clients: u64 = 8;
    let per_client: u64 = 250;
    let total = clients * per_client;
    let answered = AtomicU64::new(0);
    let mut server = Some(server);
    std::thread::scope(|scope| {
        for c in 0..clients {
            let answered = &answered;
            scope.spawn(move || {
                let agent = client();
                for i in 0..per_client {
                    let (path, status, _) = request_of(c, i);
                    let answer = agent.get(format!("http://{addr}{path}")).call().unwrap();
                    assert_eq!(
                        answer.status().as_u16(),
                        status,
                        "the host failed a request"
                    );
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // Tally stops once some events have been delivered and while the load goes on.
        while recorder.stats().sent == 0 || answered.load(Ordering::Relaxed) < total / 4 {
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Some(server) = server.take() {
            server.stop().unwrap();
        }
    });
    assert_eq!(
        answered.load(Ordering::Relaxed),
        total,
        "every request answered"
    );
    let stats = recorder.shutdown();
    drop(runtime);
    // Every answered request is accounted for, once.
    assert_eq!(
        stats.queued + stats.dropped_queue_full + stats.dropped_closed,
        total,
        "{stats:?}"
    );
    assert_eq!(
        stats.queued,
        stats.sent + stats.dropped_send_failed,
        "{stats:?}"
    );
    assert!(stats.sent > 0, "{stats:?}");
    assert!(
        stats.dropped_send_failed + stats.dropped_queue_full > 0,
        "events after the stop cannot be delivered: {stats:?}"
    );
    assert!(stats.failed_attempts > 0, "{stats:?}");
    assert_eq!(stats.rejected, 0, "{stats:?}");
    assert!(attempts.load(Ordering::Relaxed) > stats.failed_attempts);
    // What tally acknowledged is stored exactly once; nothing else is.
    let stored = stored_requests(&analytics);
    let ids: HashSet<&str> = stored.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), stored.len(), "an event stored twice");
    assert_eq!(stored.len() as u64, stats.sent, "{stats:?}");
}
