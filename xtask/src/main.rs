//! `cargo xtask`: tally's developer tasks (the test suite with what it needs, benchmarks
//! against peers, demo data, reports, tidy).

#[cfg(feature = "bench")]
mod bench;
#[cfg(feature = "bench")]
mod bench_alerts;
#[cfg(feature = "bench")]
mod bench_backend;
#[cfg(feature = "bench")]
mod bench_events;
#[cfg(feature = "bench")]
mod bench_http;
#[cfg(feature = "bench")]
mod bench_learning;
#[cfg(feature = "bench")]
mod bench_metrics;
#[cfg(feature = "bench")]
mod bench_otlp;
#[cfg(feature = "bench")]
mod bench_predict;
#[cfg(feature = "bench")]
mod bench_query;
#[cfg(feature = "bench")]
mod bench_tower;
mod postgres;
mod provision;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  test [ARGS...]                     the whole test suite: provisions what it needs first
                                     (a Python virtual environment with the oracles under
                                     the target directory, Debian's Chromium and Prometheus, a throwaway
                                     PostgreSQL server unless TALLY_TEST_POSTGRES_URL names
                                     one), then runs `cargo test --workspace ARGS`
  bench ingest [--events N[,N...]]   ingest the reference execution file into a fresh DB;
                                     events/s, bytes per stored event, peak memory, and the
                                     ratio to DuckDB's read_json_auto
  bench query [--events N[,N...]]    summary, per-model, daily series and per-tool p95 over
                                     1M and 10M events: tally (rollups) and DuckDB (SQL over
                                     the same file), median ms and ratio
  bench events [--events N[,N...]] [--no-duckdb]
                                     the events explorer's first page of four filtered
                                     queries over 1M and 10M events (reusing bench query's
                                     database): tally and DuckDB, median ms and ratio
  bench http [--rate R] [--seconds S] [--clients C] [--batches B]
                                     release `tally serve` on a fresh DB: single-record POSTs
                                     paced at R/s (1000) for S s (10), p50/p99 latency; then
                                     B (50) JSON Lines bodies of 10,000 events, events/s
  bench predict [--train N] [--test N] [--trees T] [--min-samples-leaf L]
                                     the success predictor's random forest on gen_skills.py
                                     data (100000/50000 rows, 100 trees, leaf 5): fit time,
                                     test AUC, one-row latency, against scikit-learn n_jobs=1
  bench learning [--learners N] [--runs R]
                                     one learner with 5 years of daily sessions among N
                                     (10,000) others: progress, streak, achievements, the
                                     learner dashboard's data in process and over HTTP,
                                     cold / median / p99 ms, raw rows kept and after retention
  bench otlp [--requests N]          release `tally serve`: N (200) gzip protobuf OTLP requests
                                     of 512 GenAI spans to /v1/traces against the same
                                     executions as JSON Lines to /api/analytics/events, spans/s
  bench alerts [--runs N]            release `tally serve` with a budget rule and a webhook:
                                     from the ingest that crosses 70 % of the budget to the
                                     webhook received by a loopback receiver, N (10) runs
  bench metrics [--events N[,N...]]  one Prometheus scrape of /metrics over the query bench's
                                     1M and 10M databases: median ms in process and over HTTP
  bench tower [--requests N]         a trivial axum handler with and without the tally-tower
                                     layer (storing into a tally in process), alternating,
                                     in process and over loopback: p50, p99, p99 added
  demo-data [--events N] [--out F]   write a demo database (default target/demo.db)
  report [--db D] [--kind K] [--out F]
                                     an HTML report (executive, technical, learning, experiments)
                                     (default target/demo.db, made when missing)
  tidy                               cargo fmt --check, clippy -D warnings, the tidy tests";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["test", rest @ ..] => provision::test(rest),
        ["bench", rest @ ..] => bench(rest),
        ["demo-data", rest @ ..] => demo_data(rest),
        ["report", rest @ ..] => report(rest),
        ["tidy"] => tidy(),
        _ => {
            println!("{USAGE}");
            Ok(())
        }
    }
}

#[cfg(feature = "bench")]
fn bench(args: &[&str]) -> anyhow::Result<()> {
    match args {
        ["ingest", rest @ ..] => bench::ingest(rest),
        ["http", rest @ ..] => bench_http::http(rest),
        ["query", rest @ ..] => bench_query::query(rest),
        ["events", rest @ ..] => bench_events::events(rest),
        ["predict", rest @ ..] => bench_predict::predict(rest),
        ["learning", rest @ ..] => bench_learning::learning(rest),
        ["otlp", rest @ ..] => bench_otlp::otlp(rest),
        ["alerts", rest @ ..] => bench_alerts::alerts(rest),
        ["metrics", rest @ ..] => bench_metrics::metrics(rest),
        ["tower", rest @ ..] => bench_tower::tower(rest),
        _ => bail!(
            "bench: which benchmark? available: ingest, query, events, http, predict, learning, otlp, metrics, tower\n\n{USAGE}"
        ),
    }
}

/// The benchmarks need the engine in process: run this task runner again, built with it.
#[cfg(not(feature = "bench"))]
fn bench(args: &[&str]) -> anyhow::Result<()> {
    run(Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "run",
            "--release",
            "--package",
            "xtask",
            "--features",
            "bench",
        ])
        .args(["--", "bench"])
        .args(args))
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set, else `target/` at the root.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir().unwrap_or_default().join(dir)
            }
        }
        _ => root().join("target"),
    }
}

/// Runs a command to completion, failing with its name when it fails.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

/// The value after `--name` in `args`, if given.
pub fn flag<'a>(args: &[&'a str], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| *a == name)
        .and_then(|i| args.get(i + 1).copied())
}

/// Builds the release `tally` binary and returns its path.
pub fn tally_binary() -> anyhow::Result<PathBuf> {
    run(Command::new(env!("CARGO")).current_dir(root()).args([
        "build",
        "--release",
        "-p",
        "tally-cli",
    ]))?;
    Ok(target_dir().join("release/tally"))
}

fn demo_data(args: &[&str]) -> anyhow::Result<()> {
    let events = flag(args, "--events").unwrap_or("200000");
    let out = flag(args, "--out").map_or_else(|| target_dir().join("demo.db"), PathBuf::from);
    let tally = tally_binary()?;
    run(Command::new(tally)
        .arg("--db")
        .arg(&out)
        .args(["demo", "--events", events]))
}

fn report(args: &[&str]) -> anyhow::Result<()> {
    let db = flag(args, "--db").map_or_else(|| target_dir().join("demo.db"), PathBuf::from);
    if !db.exists() {
        demo_data(&["--out", &db.to_string_lossy()])?;
    }
    let kind = flag(args, "--kind").unwrap_or("executive");
    let out = flag(args, "--out").map_or_else(
        || target_dir().join(format!("report-{kind}.html")),
        PathBuf::from,
    );
    run(Command::new(tally_binary()?)
        .arg("--db")
        .arg(&db)
        .args(["report", "--kind", kind, "--out"])
        .arg(&out))?;
    println!("wrote {}", out.display());
    Ok(())
}

fn tidy() -> anyhow::Result<()> {
    let cargo = env!("CARGO");
    run(Command::new(cargo)
        .current_dir(root())
        .args(["fmt", "--all", "--", "--check"]))?;
    for features in [&[][..], &["--features", "xtask/bench"]] {
        run(Command::new(cargo)
            .current_dir(root())
            .args(["clippy", "--workspace", "--all-targets"])
            .args(features)
            .args(["--", "-D", "warnings"]))?;
    }
    run(Command::new(cargo).current_dir(root()).args([
        "test",
        "-p",
        "tally-cli",
        "--test",
        "integration",
        "tidy",
    ]))
}
