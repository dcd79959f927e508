//! `cargo xtask bench events`: the events explorer's first page of filtered queries
//! over the reference executions (1M and 10M by default), answered by tally (in
//! process, from the SQLite file `bench query` builds and this reuses) and by DuckDB
//! (the same question in SQL over the same file loaded into a table), timed in the same
//! run as the median of repeated runs after one warm-up.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use tally_api::{Analytics, EventQuery};

use crate::bench::reference_file;
use crate::{flag, run, tally_binary, target_dir};

/// The explorer's parameters, as name and text.
type Params = &'static [(&'static str, &'static str)];

/// The questions: a name, the explorer's parameters and DuckDB's `where` clause.
const QUESTIONS: [(&str, Params, &str); 4] = [
    (
        "project+tool",
        &[("project", "proj_3"), ("tool", "tool_7")],
        "project = 'proj_3' and tool = 'tool_7'",
    ),
    ("failures", &[("success", "false")], "not success"),
    (
        "agent+model+fail",
        &[
            ("agent", "agent_12"),
            ("model", "claude-haiku-4"),
            ("success", "false"),
        ],
        "agent_id = 'agent_12' and model = 'claude-haiku-4' and not success",
    ),
    ("one trace", &[("trace", "t123457")], "task_id = 't123457'"),
];

fn query(pairs: &[(&str, &str)]) -> anyhow::Result<EventQuery> {
    tally_api::parse_event_query(
        |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
        str::to_owned,
    )
    .map_err(|bad| anyhow::anyhow!(bad.message))
}

/// The nanoseconds this thread has run on a CPU (Linux `schedstat`): on a shared host,
/// the time a query took to compute, whatever the waits for a core.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The median wall milliseconds of `runs` runs after one warm-up, and their mean CPU
/// milliseconds (`schedstat` leaves out the slice a thread is running, so only the
/// total over every run is exact to a slice; `NaN` where the host does not say).
fn median_ms(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<(f64, f64)> {
    f()?;
    let mut wall = Vec::with_capacity(runs);
    let cpu_start = thread_cpu_ns();
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        wall.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let cpu = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e6 / runs as f64,
        _ => f64::NAN,
    };
    wall.sort_by(f64::total_cmp);
    Ok((wall[wall.len() / 2], cpu))
}

/// Tally's median first page of each question (wall and CPU ms), and how many events
/// it held.
fn tally_times(db: &Path) -> anyhow::Result<Vec<(f64, f64, usize)>> {
    let analytics = Analytics::open(db)?;
    QUESTIONS
        .iter()
        .map(|(name, pairs, _)| {
            let query = query(pairs)?;
            let mut events = 0;
            let (ms, cpu) = median_ms(30, || {
                events = analytics.events(&query)?.events.len();
                Ok(())
            })?;
            if events == 0 {
                bail!("{name}: the first page is empty");
            }
            Ok((ms, cpu, events))
        })
        .collect()
}

const DUCKDB: &str = r#"
import json, statistics, sys, time
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("create table ev as select * from read_json_auto(?)", [sys.argv[1]])
out = []
for where in json.loads(sys.argv[2]):
    q = f"select * from ev where {where} order by ts desc limit 50"
    con.execute(q).fetchall()
    times = []
    for _ in range(15):
        t = time.perf_counter()
        con.execute(q).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    out.append(statistics.median(times))
print(json.dumps(out))
"#;

fn duckdb_times(file: &Path) -> anyhow::Result<Option<Vec<f64>>> {
    let python = crate::provision::oracle_python()?;
    let available = Command::new(&python)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        return Ok(None);
    }
    let wheres: Vec<&str> = QUESTIONS.iter().map(|(_, _, w)| *w).collect();
    let output = Command::new(&python)
        .args(["-c", DUCKDB])
        .arg(file)
        .arg(serde_json::to_string(&wheres)?)
        .output()
        .context("running python3")?;
    if !output.status.success() {
        bail!("duckdb failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    let times: Vec<f64> =
        serde_json::from_str(line).with_context(|| format!("duckdb printed {line:?}"))?;
    Ok(Some(times))
}

pub fn events(args: &[&str]) -> anyhow::Result<()> {
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
    let peer = !args.contains(&"--no-duckdb");
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    println!(
        "{:>10}  {:<17} {:>7} {:>10} {:>8} {:>11} {:>13}",
        "events", "first page of", "events", "tally ms", "cpu ms", "duckdb ms", "tally/duckdb"
    );
    for events in sizes {
        let file = reference_file(&dir, events)?;
        // The database `bench query` builds, reused when it holds the events.
        let db = dir.join(format!("tally_bench_query_{events}.db"));
        let stored = db.exists() && Analytics::open(&db)?.stats()?.events == events;
        if !stored {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            // The release binary is built only when a database must be made.
            let tally = tally_binary()?;
            eprintln!("ingesting {} ...", file.display());
            run(Command::new(&tally)
                .arg("--db")
                .arg(&db)
                .arg("ingest")
                .arg(&file))?;
        }
        let ours = tally_times(&db)?;
        let theirs = if peer { duckdb_times(&file)? } else { None };
        for (i, (name, _, _)) in QUESTIONS.iter().enumerate() {
            let (ms, cpu, held) = ours[i];
            let (duck, ratio) = match &theirs {
                Some(t) => (format!("{:.2}", t[i]), format!("{:.3}", ms / t[i])),
                None => ("-".to_owned(), "-".to_owned()),
            };
            println!(
                "{events:>10}  {name:<17} {held:>7} {ms:>10.3} {cpu:>8.3} {duck:>11} {ratio:>13}"
            );
        }
    }
    println!(
        "(target: every first page under 50 ms at 10M events; duckdb: `pip install duckdb`, --no-duckdb to leave it out)"
    );
    Ok(())
}
