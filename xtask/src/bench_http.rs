//! `cargo xtask bench http`: the release `tally serve` on a fresh database, measured
//! from loopback clients.
//!
//! 1. Single-record latency: one execution per `POST /api/analytics/events`, paced at a
//!    fixed rate (default 1000 requests/s for 10 s) from a bounded pool of client
//!    threads with keep-alive connections. Latency is measured from the moment each
//!    request was due, so a stalled server cannot hide its queue (no coordinated
//!    omission); p50, p99 and max are printed.
//! 2. Batched ingest: JSON Lines bodies of 10,000 executions, back to back; events/s.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

use crate::{flag, tally_binary, target_dir};

/// The server process, killed when dropped.
pub(crate) struct Served {
    child: Child,
    pub(crate) base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(tally: &std::path::Path, db: &std::path::Path) -> anyhow::Result<Served> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let child = Command::new(tally)
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting tally serve")?;
    Served::from_child(child)
}

impl Served {
    /// Waits for a started `tally serve` (stdout piped) to announce its address.
    pub(crate) fn from_child(mut child: Child) -> anyhow::Result<Served> {
        let mut reader = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                let _ = child.wait();
                bail!("tally serve exited before listening");
            }
            if let Some(addr) = line.trim().strip_prefix("listening on ") {
                let base = addr.to_owned();
                std::thread::spawn(move || for _ in reader.lines() {});
                return Ok(Served { child, base });
            }
        }
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(64)
        .build()
        .new_agent()
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn record(id: u64, ts: u128) -> String {
    format!(
        r#"{{"kind":"execution","id":"b{id}","ts":{ts},"tool":"web_search","model":"gpt-4o","duration_ms":840,"success":true,"input_tokens":1200,"output_tokens":300,"cost_usd":0.0045}}"#
    )
}

fn post(agent: &ureq::Agent, url: &str, body: &str) -> anyhow::Result<()> {
    let response = agent
        .post(url)
        .header("Content-Type", "application/x-ndjson")
        .send(body)?;
    if response.status() != 200 {
        bail!("{url}: status {}", response.status());
    }
    let _ = response.into_body().read_to_vec()?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn http(args: &[&str]) -> anyhow::Result<()> {
    let rate: u64 = flag(args, "--rate").unwrap_or("1000").parse()?;
    let seconds: u64 = flag(args, "--seconds").unwrap_or("10").parse()?;
    let clients: usize = flag(args, "--clients").unwrap_or("16").parse()?;
    let batches: u64 = flag(args, "--batches").unwrap_or("50").parse()?;
    let batch_size: u64 = 10_000;
    let tally = tally_binary()?;
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let served = start(&tally, &dir.join("http.db"))?;
    let url = format!("{}/api/analytics/events", served.base);

    // Warm up connections and the server's pools.
    let warm = agent();
    for i in 0..200 {
        post(&warm, &url, &record(10_000_000 + i, now_ms()))?;
    }

    let total = rate * seconds;
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let next = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let service = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let failures = Arc::new(AtomicU64::new(0));
    let start_at = Instant::now() + Duration::from_millis(50);
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (next, latencies, service, failures, url) = (
                Arc::clone(&next),
                Arc::clone(&latencies),
                Arc::clone(&service),
                Arc::clone(&failures),
                url.clone(),
            );
            std::thread::spawn(move || {
                let agent = agent();
                let mut mine = Vec::new();
                let mut served = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let due = start_at + interval * i as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let sent = Instant::now();
                    if post(&agent, &url, &record(i, now_ms())).is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    let done = Instant::now();
                    mine.push(done - due);
                    served.push(done - sent);
                }
                latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(mine);
                service
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(served);
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    let elapsed = start_at.elapsed();
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap_or_else(|e| e.into_inner()));
    let mut service = std::mem::take(&mut *service.lock().unwrap_or_else(|e| e.into_inner()));
    latencies.sort();
    service.sort();
    println!(
        "single-record POST /api/analytics/events: {total} requests at {rate}/s over {:.1} s, {clients} client threads, {} failed",
        elapsed.as_secs_f64(),
        failures.load(Ordering::Relaxed)
    );
    println!(
        "  latency from due time: p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 99.9)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    println!(
        "  service time (send to answer): p50 {:.3} ms, p99 {:.3} ms",
        ms(percentile(&service, 50.0)),
        ms(percentile(&service, 99.0)),
    );
    let p99 = percentile(&latencies, 99.0);
    println!(
        "  target p99 < 5 ms: {}",
        if p99 < Duration::from_millis(5) {
            "met"
        } else {
            "MISSED"
        }
    );

    // Batched ingest.
    let agent = agent();
    let ts = now_ms();
    let bodies: Vec<String> = (0..batches)
        .map(|b| {
            (0..batch_size)
                .map(|i| record(100_000_000 + b * batch_size + i, ts))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let started = Instant::now();
    for body in &bodies {
        post(&agent, &url, body)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let events = batches * batch_size;
    println!(
        "batched POST /api/analytics/events: {batches} bodies of {batch_size} executions ({:.1} MiB each) in {seconds:.2} s: {:.0} events/s",
        bodies[0].len() as f64 / (1024.0 * 1024.0),
        events as f64 / seconds
    );
    drop(served);
    let stored = tally_api::Analytics::open(dir.join("http.db"))?
        .stats()?
        .events;
    let expected = 200 + total + events;
    if stored != expected {
        bail!("stored {stored} events, expected {expected}");
    }
    Ok(())
}
