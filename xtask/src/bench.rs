//! `cargo xtask bench ingest`: whole-process ingest of the reference execution file.
//!
//! Each run ingests into a fresh database with the release `tally` binary and reports
//! events/s, bytes per stored event (database pages in use, indexes and dictionary
//! included), peak resident memory (the child's `VmHWM`, sampled until it exits) and
//! the CPU seconds it used on all its threads: on a shared host whose speed drifts from
//! run to run, CPU time shows a change in the work per event where wall time hides it.
//! When the Python `duckdb` package is importable, DuckDB's `read_json_auto` loads the
//! same file in the same run and the ratio is printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::bench_backend::Backends;
use crate::{flag, root, run, tally_binary};

struct Measured {
    seconds: f64,
    peak_rss_bytes: u64,
    /// User and system CPU time of all the child's threads, as last sampled (at most
    /// one sampling interval before it exited).
    cpu_seconds: f64,
}

pub fn ingest(args: &[&str]) -> anyhow::Result<()> {
    let sizes: Vec<u64> = flag(args, "--events")
        .unwrap_or("1000000")
        .split(',')
        .map(|n| {
            n.trim()
                .replace('_', "")
                .parse()
                .context("--events takes numbers like 1000000,3000000")
        })
        .collect::<anyhow::Result<_>>()?;
    let backends = Backends::from_args(args)?;
    let tally = tally_binary()?;
    let dir = crate::target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    println!(
        "{:>10} {:<9} {:>12} {:>10} {:>12} {:>8} {:>14} {:>14} {:>12}",
        "events",
        "backend",
        "tally ev/s",
        "bytes/ev",
        "peak MiB",
        "cpu s",
        "ev/cpu-s",
        "duckdb ev/s",
        "tally/duckdb"
    );
    for events in sizes {
        let file = reference_file(&dir, events)?;
        let duck = duckdb_seconds(&file)?;
        for &backend in &backends.list {
            let db = backends.fresh(backend, &dir, &format!("tally_bench_ingest_{events}"))?;
            let measured = measure(
                Command::new(&tally)
                    .arg("--db")
                    .arg(&db)
                    .args(["ingest", "--json"])
                    .arg(&file),
            )?;
            let analytics = tally_api::Analytics::open(&db)?;
            analytics.checkpoint()?;
            let stats = analytics.stats()?;
            if stats.events != events {
                bail!(
                    "{}: stored {} events of {events}",
                    backend.name(),
                    stats.events
                );
            }
            let rate = events as f64 / measured.seconds;
            let (duck_rate, ratio) = match duck {
                Some(s) => (
                    format!("{:.0}", events as f64 / s),
                    format!("{:.2}", s / measured.seconds),
                ),
                None => ("-".to_owned(), "-".to_owned()),
            };
            println!(
                "{events:>10} {:<9} {rate:>12.0} {:>10.1} {:>12.1} {:>8.2} {:>14.0} {duck_rate:>14} {ratio:>12}",
                backend.name(),
                stats.bytes_used as f64 / events as f64,
                measured.peak_rss_bytes as f64 / (1024.0 * 1024.0),
                measured.cpu_seconds,
                events as f64 / measured.cpu_seconds,
            );
        }
    }
    println!(
        "(tally/duckdb > 1 means tally ingests faster; duckdb: `pip install duckdb` to include it)"
    );
    Ok(())
}

/// The generator's file for `events`, made once and reused.
pub fn reference_file(dir: &Path, events: u64) -> anyhow::Result<PathBuf> {
    generated_file(dir, events, false)
}

/// The reference data with users and sessions (`gen_executions.py --users`): 5000
/// users, one session per user and day, every tenth record a request.
pub fn reference_file_with_users(dir: &Path, events: u64) -> anyhow::Result<PathBuf> {
    generated_file(dir, events, true)
}

fn generated_file(dir: &Path, events: u64, users: bool) -> anyhow::Result<PathBuf> {
    let name = if users { "exec-users" } else { "exec" };
    let file = dir.join(format!("{name}-{events}.jsonl"));
    if !file.exists() {
        let generator = root().join("tests/generators/gen_executions.py");
        if !generator.exists() {
            bail!(
                "{} not found: the reference generators live in tests/generators",
                generator.display()
            );
        }
        eprintln!("generating {} ...", file.display());
        run(Command::new(crate::provision::oracle_python()?)
            .arg(&generator)
            .arg(events.to_string())
            .arg(&file)
            .args(users.then_some("--users")))?;
    }
    Ok(file)
}

/// Runs a command, timing it and sampling its peak resident memory and CPU time.
fn measure(command: &mut Command) -> anyhow::Result<Measured> {
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {command:?}"))?;
    let status_file = format!("/proc/{}/status", child.id());
    let stat_file = format!("/proc/{}/stat", child.id());
    let mut peak = 0;
    let mut cpu_seconds = 0.0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            peak = peak.max(vm_hwm(&text));
        }
        if let Some(cpu) = std::fs::read_to_string(&stat_file)
            .ok()
            .and_then(|text| cpu_time(&text))
        {
            cpu_seconds = cpu;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(Measured {
        seconds,
        peak_rss_bytes: peak,
        cpu_seconds,
    })
}

/// `utime + stime` of a `/proc/PID/stat` line, in seconds. The fields after the
/// parenthesized command name are counted from its closing parenthesis (the name may
/// hold spaces); the unit is the kernel's `USER_HZ`, 100 on Linux.
fn cpu_time(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of proc(5); `after_name` starts at field 3.
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    Some((ticks(14)? + ticks(15)?) / 100.0)
}

fn vm_hwm(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Seconds DuckDB takes to load the file into a table, or `None` without duckdb.
fn duckdb_seconds(file: &Path) -> anyhow::Result<Option<f64>> {
    let script = r#"
import sys, time
try:
    import duckdb
except ImportError:
    print("none"); sys.exit(0)
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
con.execute("create table ev as select * from read_json_auto(?)", [sys.argv[1]])
print(time.perf_counter() - t)
"#;
    let output = Command::new(crate::provision::oracle_python()?)
        .args(["-c", script])
        .arg(file)
        .output()
        .context("running python3")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let text = text.lines().last().unwrap_or_default().trim();
    if text == "none" || !output.status.success() {
        return Ok(None);
    }
    Ok(Some(
        text.parse()
            .with_context(|| format!("duckdb printed {text:?}"))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::cpu_time;

    #[test]
    fn cpu_time_reads_utime_and_stime_after_the_command_name() {
        let stat =
            "4242 (tally (worker) x) R 1 4242 4242 0 -1 4194560 9000 0 0 0 350 75 0 0 20 0 3 0";
        assert_eq!(cpu_time(stat), Some(4.25));
        assert_eq!(cpu_time("4242 (tally) R 1"), None);
    }
}
