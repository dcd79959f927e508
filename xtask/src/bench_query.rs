//! `cargo xtask bench query`: the dashboard's questions over 1M and 10M events (the
//! reference executions with 5000 users and their daily sessions, every tenth record a
//! request), answered by tally (from its rollups and engagement tables, in process) and
//! by DuckDB (SQL over the same file loaded into a table), timed in the same run.
//!
//! Questions: the overall summary, the per-model breakdown, the daily series over the
//! data's month, the per-tool p95 duration, engagement per day and per week (active and
//! new users, sessions and their length percentiles), the weekly cohorts, and the
//! per-endpoint requests. Each is timed as the median of repeated runs after one
//! warm-up; DuckDB's load time is not counted. Flat in N: the engagement questions read
//! a row per user and day and per session, which the data keeps the same at every size.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use tally_api::{Analytics, EngagementGranularity, Filter, Granularity};

use crate::bench::reference_file_with_users;
use crate::bench_backend::Backends;
use crate::{flag, run, tally_binary, target_dir};

const QUESTIONS: [&str; 8] = [
    "summary",
    "per-model",
    "daily series",
    "per-tool p95",
    "engagement/day",
    "engagement/wk",
    "cohorts",
    "endpoints",
];

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

fn tally_times(db: &Path) -> anyhow::Result<[f64; 8]> {
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
        median_ms(20, || {
            let days = analytics.engagement(&month, EngagementGranularity::Day)?;
            if days.periods.iter().all(|p| p.active_users == 0) {
                bail!("no active users: the reference data has no users");
            }
            Ok(())
        })?,
        median_ms(20, || {
            analytics.engagement(&month, EngagementGranularity::Week)?;
            Ok(())
        })?,
        median_ms(20, || {
            analytics.engagement_cohorts(&month)?;
            Ok(())
        })?,
        median_ms(50, || {
            let requests = analytics.requests(&month)?;
            if requests.endpoints.is_empty() {
                bail!("no endpoints: the reference data has no requests");
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
con.execute("SET TimeZone = 'UTC'")
x = "from ev where kind = 'execution'"
questions = [
    f"select count(*), sum(success::int), sum(input_tokens + output_tokens), sum(cost_usd), avg(duration_ms) {x}",
    f"select model, count(*), sum(input_tokens + output_tokens), sum(cost_usd) {x} group by model",
    f"select ts::DATE::VARCHAR as day, count(*), sum(input_tokens + output_tokens), sum(cost_usd) {x} group by day order by day",
    f"select tool, quantile_cont(duration_ms, 0.95) {x} group by tool",
]
for unit in ["day", "week"]:
    questions.append(f"""
        with a as (select project, user_id, ts::DATE as day from ev where user_id is not null),
        f as (select project, user_id, min(day) as first from a group by all),
        s as (select project, session_id, min(ts) as start, max(ts) as last from ev
              where session_id is not null group by all),
        u as (select date_trunc('{unit}', a.day) as p, count(distinct (a.project, a.user_id)) as active,
                     count(distinct (a.project, a.user_id)) filter (
                         where date_trunc('{unit}', f.first) = date_trunc('{unit}', a.day)) as new
              from a join f using (project, user_id) group by 1),
        l as (select date_trunc('{unit}', start::DATE) as p, count(*) as sessions,
                     quantile_cont(epoch(last - start), [0.5, 0.9, 0.99]) as q from s group by 1)
        select * from u full join l using (p) order by p""")
questions.append("""
    with a as (select distinct project, user_id, date_trunc('week', ts::DATE) as week from ev where user_id is not null),
    f as (select project, user_id, min(week) as cohort from a group by all)
    select cohort, date_diff('week', cohort, week) as k, count(*) from a join f using (project, user_id)
    group by 1, 2 order by 1, 2""")
questions.append("""
    select endpoint, count(*), count(*) filter (where status >= 500),
           quantile_cont(latency_ms, [0.5, 0.95, 0.99])
    from ev where kind = 'request' group by endpoint""")
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

fn duckdb_times(file: &Path) -> anyhow::Result<Option<[f64; 8]>> {
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
    let times: [f64; 8] = times
        .try_into()
        .map_err(|t| anyhow::anyhow!("duckdb timed {t:?}, not 8 questions"))?;
    Ok(Some(times))
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
        let file = reference_file_with_users(&dir, events)?;
        let theirs = duckdb_times(&file)?;
        for &backend in &backends.list {
            let db = backends.kept(backend, &dir, &format!("tally_bench_query_users_{events}"))?;
            let stored = Analytics::open(&db)?.stats()?.events == events;
            if !stored {
                let db =
                    backends.fresh(backend, &dir, &format!("tally_bench_query_users_{events}"))?;
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
