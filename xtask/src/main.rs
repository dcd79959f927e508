//! `cargo xtask`: tally's developer tasks (benchmarks against peers, demo data, tidy).

mod bench;
mod bench_http;
mod bench_learning;
mod bench_predict;
mod bench_query;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  bench ingest [--events N[,N...]]   ingest the reference execution file into a fresh DB;
                                     events/s, bytes per stored event, peak memory, and the
                                     ratio to DuckDB's read_json_auto when duckdb is installed
  bench query [--events N[,N...]]    summary, per-model, daily series and per-tool p95 over
                                     1M and 10M events: tally (rollups) and DuckDB (SQL over
                                     the same file), median ms and ratio
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
  demo-data [--events N] [--out F]   write a demo database (default target/demo.db)
  report [--db D] [--kind K] [--out F]
                                     an HTML report (executive, technical, learning, experiments)
                                     (default target/demo.db, made when missing)
  tidy                               cargo fmt --check, clippy -D warnings, the tidy tests";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["bench", "ingest", rest @ ..] => bench::ingest(rest),
        ["bench", "http", rest @ ..] => bench_http::http(rest),
        ["bench", "query", rest @ ..] => bench_query::query(rest),
        ["bench", "predict", rest @ ..] => bench_predict::predict(rest),
        ["bench", "learning", rest @ ..] => bench_learning::learning(rest),
        ["bench", ..] => {
            bail!(
                "bench: which benchmark? available: ingest, query, http, predict, learning\n\n{USAGE}"
            )
        }
        ["demo-data", rest @ ..] => demo_data(rest),
        ["report", rest @ ..] => report(rest),
        ["tidy"] => tidy(),
        _ => {
            println!("{USAGE}");
            Ok(())
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
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
    Ok(root().join("target/release/tally"))
}

fn demo_data(args: &[&str]) -> anyhow::Result<()> {
    let events = flag(args, "--events").unwrap_or("200000");
    let out = flag(args, "--out").map_or_else(|| root().join("target/demo.db"), PathBuf::from);
    let tally = tally_binary()?;
    run(Command::new(tally)
        .arg("--db")
        .arg(&out)
        .args(["demo", "--events", events]))
}

fn report(args: &[&str]) -> anyhow::Result<()> {
    let db = flag(args, "--db").map_or_else(|| root().join("target/demo.db"), PathBuf::from);
    if !db.exists() {
        demo_data(&["--out", &db.to_string_lossy()])?;
    }
    let name = flag(args, "--kind").unwrap_or("executive");
    let Some(kind) = tally_api::ReportKind::from_name(name) else {
        bail!("unknown report kind {name:?}: executive, technical, learning or experiments");
    };
    let out = flag(args, "--out").map_or_else(
        || root().join(format!("target/report-{name}.html")),
        PathBuf::from,
    );
    let html = tally_api::Analytics::open(&db)?.report(kind, &tally_api::Filter::default())?;
    std::fs::write(&out, html)?;
    println!("wrote {}", out.display());
    Ok(())
}

fn tidy() -> anyhow::Result<()> {
    let cargo = env!("CARGO");
    run(Command::new(cargo)
        .current_dir(root())
        .args(["fmt", "--all", "--", "--check"]))?;
    run(Command::new(cargo).current_dir(root()).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(Command::new(cargo).current_dir(root()).args([
        "test",
        "-p",
        "tally-cli",
        "--test",
        "integration",
        "tidy",
    ]))
}
