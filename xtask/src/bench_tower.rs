//! `cargo xtask bench tower`: what the `tally-tower` layer adds to a request, against the
//! same trivial axum handler without it, in the same run. The layer stores into a tally
//! opened in the same process (a fresh SQLite file), whose writes compete with the
//! handlers for the same CPUs.
//!
//! 1. In process: the router called as a tower service (no sockets), the two routers
//!    alternating request by request, so both see the same machine state.
//! 2. Over loopback HTTP: both routers served by axum, one keep-alive client
//!    alternating between them.
//!
//! Each prints p50, p99 and max per router and the p99 difference; then the layer's
//! counts (sent, dropped).

use std::time::{Duration, Instant};

use anyhow::bail;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use tally_tower::{Config, EmbeddedSink, Recorder};
use tower_service::Service;

use crate::bench_http::agent;
use crate::{flag, target_dir};

fn router() -> Router {
    Router::new().route("/users/{id}", get(|| async { "ok" }))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Prints the two routers' figures and answers the p99 difference in microseconds.
fn report(title: &str, mut plain: Vec<Duration>, mut layered: Vec<Duration>) -> f64 {
    plain.sort_unstable();
    layered.sort_unstable();
    println!("{title} ({} requests each)", plain.len());
    for (name, sorted) in [("without the layer", &plain), ("with the layer", &layered)] {
        println!(
            "  {name:<18} p50 {:>8.1} µs   p99 {:>8.1} µs   max {:>9.1} µs",
            us(percentile(sorted, 50.0)),
            us(percentile(sorted, 99.0)),
            us(sorted.last().copied().unwrap_or_default()),
        );
    }
    let added = us(percentile(&layered, 99.0)) - us(percentile(&plain, 99.0));
    println!("  p99 added by the layer: {added:.1} µs");
    added
}

pub fn tower(args: &[&str]) -> anyhow::Result<()> {
    let requests: usize = flag(args, "--requests").unwrap_or("50000").parse()?;
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("tower.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let analytics = tally_api::Analytics::open(&db)?;
    let recorder = Recorder::start(Config::for_project("bench"), EmbeddedSink::new(analytics));
    let mut plain = router();
    let mut layered = router().layer(recorder.layer());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    // 1. In process.
    let (in_plain, in_layered) = runtime.block_on(async {
        let one = |router: &mut Router, i: usize| {
            let request = axum::http::Request::get(format!("/users/{i}"))
                .body(Body::empty())
                .map_err(anyhow::Error::from);
            let started = Instant::now();
            let call = request.map(|request| router.call(request));
            async move {
                let response = call?.await?;
                let elapsed = started.elapsed();
                if response.status() != 200 {
                    bail!("status {}", response.status());
                }
                Ok::<_, anyhow::Error>(elapsed)
            }
        };
        for i in 0..requests / 10 {
            one(&mut plain, i).await?;
            one(&mut layered, i).await?;
        }
        let mut a = Vec::with_capacity(requests);
        let mut b = Vec::with_capacity(requests);
        for i in 0..requests {
            a.push(one(&mut plain, i).await?);
            b.push(one(&mut layered, i).await?);
        }
        Ok::<_, anyhow::Error>((a, b))
    })?;
    let in_process = report("in process (tower service calls)", in_plain, in_layered);

    // 2. Over loopback HTTP.
    let serve = |router: Router| -> anyhow::Result<String> {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        runtime.spawn(async move { axum::serve(listener, router).await });
        Ok(format!("http://{addr}"))
    };
    let plain_url = serve(plain)?;
    let layered_url = serve(layered)?;
    let client = agent();
    let get = |url: &str| -> anyhow::Result<Duration> {
        let started = Instant::now();
        let response = client.get(url).call()?;
        let _ = response.into_body().read_to_vec()?;
        Ok(started.elapsed())
    };
    for i in 0..requests / 10 {
        get(&format!("{plain_url}/users/{i}"))?;
        get(&format!("{layered_url}/users/{i}"))?;
    }
    let mut a = Vec::with_capacity(requests);
    let mut b = Vec::with_capacity(requests);
    for i in 0..requests {
        a.push(get(&format!("{plain_url}/users/{i}"))?);
        b.push(get(&format!("{layered_url}/users/{i}"))?);
    }
    let over_http = report("over loopback HTTP (one keep-alive client)", a, b);

    drop(runtime);
    let stats = recorder.shutdown();
    println!(
        "layer: {} events queued, {} stored, {} dropped (queue full), {} dropped (send failed)",
        stats.queued, stats.sent, stats.dropped_queue_full, stats.dropped_send_failed
    );
    println!(
        "p99 added: {in_process:.1} µs in process, {over_http:.1} µs over HTTP (target < 20 µs)"
    );
    Ok(())
}
