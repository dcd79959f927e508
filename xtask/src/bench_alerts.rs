//! `cargo xtask bench alerts`: from an ingest that crosses a budget threshold to the
//! webhook being received. Each run starts the release `tally serve` on a fresh
//! database with a budget rule at 70 % of $100 and a webhook channel pointing at a
//! receiver in this process, ingests $60 of spend (quiet), waits for the server to
//! settle, then times one `POST` of $20 (to 80 %) until the `firing` webhook arrives.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use axum::http::HeaderMap;

use crate::bench_http::{Served, agent};
use crate::{flag, tally_binary, target_dir};

/// A webhook as the receiver saw it: when, and which event.
struct Received {
    at: Instant,
    event: String,
}

/// An HTTP receiver on a loopback port, on its own runtime thread; every `POST /hook`
/// is sent down the channel with its arrival instant.
fn receiver() -> anyhow::Result<(u16, mpsc::Receiver<Received>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let (sender, received) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the webhook receiver");
        runtime.block_on(async move {
            let listener =
                tokio::net::TcpListener::from_std(listener).expect("the receiver's listener");
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(move |headers: HeaderMap| {
                    let at = Instant::now();
                    let event = headers
                        .get("x-tally-event")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let _ = sender.send(Received { at, event });
                    async { "ok" }
                }),
            );
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok((port, received))
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn spend(id: &str, cost: f64) -> String {
    format!(
        r#"{{"kind":"execution","id":"{id}","ts":{},"tool":"web_search","model":"gpt-4o","duration_ms":840,"success":true,"input_tokens":1200,"output_tokens":300,"cost_usd":{cost}}}"#,
        now_ms()
    )
}

fn post(url: &str, body: &str) -> anyhow::Result<()> {
    let response = agent()
        .post(url)
        .header("Content-Type", "application/x-ndjson")
        .send(body)?;
    if response.status() != 200 {
        bail!("{url}: status {}", response.status());
    }
    Ok(())
}

fn serve(
    tally: &std::path::Path,
    dir: &std::path::Path,
    config: &std::path::Path,
) -> anyhow::Result<Served> {
    let db = dir.join("alerts.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let child = Command::new(tally)
        .arg("--db")
        .arg(&db)
        .arg("--config")
        .arg(config)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting tally serve")?;
    Served::from_child(child)
}

pub fn alerts(args: &[&str]) -> anyhow::Result<()> {
    let runs: usize = flag(args, "--runs").unwrap_or("10").parse()?;
    let tally = tally_binary()?;
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let (port, received) = receiver()?;
    let config = dir.join("alerts.toml");
    std::fs::write(
        &config,
        format!(
            "[analytics]\nmonthly_budget = 100.0\n\n[[alerts]]\nname = \"budget-70\"\nrule = \"budget\"\n\
             threshold = 0.7\nchannels = [\"bench\"]\n\n[channels.bench]\nwebhook = \"http://127.0.0.1:{port}/hook\"\n"
        ),
    )?;
    let mut latencies = Vec::with_capacity(runs);
    for run in 0..runs {
        let served = serve(&tally, &dir, &config)?;
        let url = format!("{}/api/analytics/events", served.base);
        post(&url, &spend(&format!("quiet-{run}"), 60.0))?;
        // Let the evaluation the quiet ingest triggered finish: nothing may fire.
        std::thread::sleep(Duration::from_millis(1500));
        if let Ok(early) = received.try_recv() {
            bail!(
                "run {run}: a webhook ({}) arrived before the threshold was crossed",
                early.event
            );
        }
        let sent = Instant::now();
        post(&url, &spend(&format!("cross-{run}"), 20.0))?;
        let hook = received
            .recv_timeout(Duration::from_secs(60))
            .with_context(|| {
                format!("run {run}: no webhook within 60 s of crossing the threshold")
            })?;
        if hook.event != "firing" {
            bail!("run {run}: expected a firing webhook, got {:?}", hook.event);
        }
        latencies.push(hook.at - sent);
        drop(served);
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "budget threshold crossed → webhook received ({runs} runs, release tally serve, loopback receiver): \
         median {:.0} ms, max {:.0} ms (target < 2000 ms)",
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() - 1]),
    );
    Ok(())
}
