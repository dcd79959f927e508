//! `cargo xtask bench query`: the dashboard's questions over 1M and 10M executions,
//! answered by tally (from its rollups, in process) and by DuckDB (SQL over the same
//! file loaded into a table), timed in the same run.
//!
//! Questions: the overall summary, the per-model breakdown, the daily series over the
//! data's month, and the per-tool p95 duration. Each is timed as the median of repeated
//! runs after one warm-up; DuckDB's load time is not counted.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use tally_api::{Analytics, Filter, Granularity};

use crate::bench::reference_file;
use crate::bench_backend::Backends;
use crate::{flag, run, tally_binary, target_dir};

const QUESTIONS: [&str; 4] = ["summary", "per-model", "daily series", "per-tool p95"];

fn median_ms(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn tally_times(db: &Path) -> anyhow::Result<[f64; 4]> {
    let analytics = Analytics::open(db)?;
    // The reference data spans October 2026.
    let month = Filter {
        project: None,
        from: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).single(),
        to: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single(),
    };
    let all = Filter::default();
    Ok([
        median_ms(50, || {
            analytics.summary(&all)?;
            Ok(())
        })?,
        median_ms(50, || {
            analytics.models(&all)?;
            Ok(())
        })?,
        median_ms(50, || {
            analytics.timeseries(&month, Granularity::Day)?;
            Ok(())
        })?,
        median_ms(50, || {
            let tools = analytics.tools(&month)?;
            if tools.iter().any(|t| t.p95_duration_ms.is_none()) {
                bail!("a tool without p95");
            }
            Ok(())
        })?,
    ])
}

const DUCKDB: &str = r#"
import json, statistics, sys, time
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("create table ev as select * from read_json_auto(?)", [sys.argv[1]])
questions = [
    "select count(*), sum(success::int), sum(input_tokens + output_tokens), sum(cost_usd), avg(duration_ms) from ev",
    "select model, count(*), sum(input_tokens + output_tokens), sum(cost_usd) from ev group by model",
    "select ts::DATE::VARCHAR as day, count(*), sum(input_tokens + output_tokens), sum(cost_usd) from ev group by day order by day",
    "select tool, quantile_cont(duration_ms, 0.95) from ev group by tool",
]
out = []
for q in questions:
    con.execute(q).fetchall()
    times = []
    for _ in range(15):
        t = time.perf_counter()
        con.execute(q).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    out.append(statistics.median(times))
print(json.dumps(out))
"#;

fn duckdb_times(file: &Path) -> anyhow::Result<Option<[f64; 4]>> {
    let available = Command::new(crate::provision::oracle_python()?)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        return Ok(None);
    }
    let output = Command::new(crate::provision::oracle_python()?)
        .args(["-c", DUCKDB])
        .arg(file)
        .output()
        .context("running python3")?;
    if !output.status.success() {
        bail!("duckdb failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    let times: Vec<f64> =
        serde_json::from_str(line).with_context(|| format!("duckdb printed {line:?}"))?;
    Ok(Some([times[0], times[1], times[2], times[3]]))
}

pub fn query(args: &[&str]) -> anyhow::Result<()> {
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
        "{:>10}  {:<9} {:<14} {:>10} {:>11} {:>13}",
        "events", "backend", "question", "tally ms", "duckdb ms", "tally/duckdb"
    );
    for events in sizes {
        let file = reference_file(&dir, events)?;
        let theirs = duckdb_times(&file)?;
        for &backend in &backends.list {
            let db = backends.kept(backend, &dir, &format!("tally_bench_query_{events}"))?;
            let stored = Analytics::open(&db)?.stats()?.events == events;
            if !stored {
                let db = backends.fresh(backend, &dir, &format!("tally_bench_query_{events}"))?;
                eprintln!("ingesting {} into {} ...", file.display(), backend.name());
                run(Command::new(&tally)
                    .arg("--db")
                    .arg(&db)
                    .arg("ingest")
                    .arg(&file))?;
            }
            let ours = tally_times(Path::new(&db))?;
            for (i, question) in QUESTIONS.iter().enumerate() {
                let (duck, ratio) = match theirs {
                    Some(t) => (format!("{:.2}", t[i]), format!("{:.3}", ours[i] / t[i])),
                    None => ("-".to_owned(), "-".to_owned()),
                };
                println!(
                    "{events:>10}  {:<9} {question:<14} {:>10.3} {duck:>11} {ratio:>13}",
                    backend.name(),
                    ours[i]
                );
            }
        }
    }
    println!("(tally/duckdb < 0.1 is the target; duckdb: `pip install duckdb` to include it)");
    Ok(())
}
