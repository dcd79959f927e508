//! `cargo xtask bench metrics`: the cost of one Prometheus scrape of `/metrics` over
//! the query benchmark's databases (1M and 10M executions by default, made once and
//! kept), with the month-to-date business gauges read over the data's whole month.
//!
//! Two figures, each the median of repeated scrapes after one warm-up: the text built
//! in process (`Analytics::prometheus_text`), and `GET /metrics` from the HTTP server
//! (in process, on a loopback port), which adds routing, access and the transfer.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use tally_api::Analytics;
use tally_api::http::{Server, ServerOptions};

use crate::bench::reference_file;
use crate::bench_backend::Backends;
use crate::{flag, run, tally_binary, target_dir};

/// Scrapes timed per figure.
const RUNS: usize = 30;

fn median_ms(mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

pub fn metrics(args: &[&str]) -> anyhow::Result<()> {
    let sizes: Vec<u64> = flag(args, "--events")
        .unwrap_or("1000000,10000000")
        .split(',')
        .map(|n| {
            n.trim()
                .replace('_', "")
                .parse()
                .context("--events takes numbers like 1000000,10000000")
        })
        .collect::<anyhow::Result<_>>()?;
    let backends = Backends::from_args(args)?;
    let tally = tally_binary()?;
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    println!(
        "{:>10}  {:<9} {:>10} {:>9} {:>12} {:>9}",
        "events", "backend", "series", "bytes", "in-process", "HTTP"
    );
    for events in sizes {
        for &backend in &backends.list {
            // The query benchmark's database: the reference executions of October 2026.
            let name = format!("tally_bench_query_{events}");
            let mut db = backends.kept(backend, &dir, &name)?;
            if Analytics::open(&db)?.stats()?.events != events {
                let file = reference_file(&dir, events)?;
                db = backends.fresh(backend, &dir, &name)?;
                eprintln!("ingesting {} into {} ...", file.display(), backend.name());
                run(Command::new(&tally)
                    .arg("--db")
                    .arg(&db)
                    .arg("ingest")
                    .arg(&file))?;
            }
            // Scraped on the data's last day, so the month-to-date gauges cover it all.
            let end_of_month = Utc
                .with_ymd_and_hms(2026, 10, 31, 23, 0, 0)
                .single()
                .context("a valid instant")?;
            let analytics = Analytics::open(&db)?.as_of(end_of_month);
            let text = analytics.prometheus_text()?;
            if !text.contains("tally_cost_month_to_date_usd{") {
                bail!("the scrape of {db} holds no month-to-date cost: {text}");
            }
            let series = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .count();
            let in_process = median_ms(|| {
                analytics.prometheus_text()?;
                Ok(())
            })?;
            let server = Server::bind(analytics.clone(), &ServerOptions::default())?.spawn()?;
            let url = format!("http://{}/metrics", server.addr());
            let agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .new_agent();
            let http = median_ms(|| {
                let body = agent.get(&url).call()?.body_mut().read_to_string()?;
                if !body.ends_with("# EOF\n") {
                    bail!("GET /metrics answered an incomplete text");
                }
                Ok(())
            })?;
            server.stop()?;
            println!(
                "{events:>10}  {:<9} {series:>10} {:>9} {in_process:>10.2}ms {http:>7.2}ms",
                backend.name(),
                text.len(),
            );
        }
    }
    println!("(the target: a scrape of a 10M-event database under 50 ms)");
    Ok(())
}
