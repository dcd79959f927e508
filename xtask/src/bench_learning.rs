//! `cargo xtask bench learning`: the learner views over one learner with five years of
//! daily sessions among 10,000 other learners.
//!
//! The database (`target/bench/learning.db`, rebuilt each run) gets deterministic
//! sessions: the long-time learner practises daily at varying hours, sometimes twice a
//! day, on a few topics; the others start on a random day of the last year and practise
//! in bursts with gaps (1 to 150 sessions each). Each question is timed in process
//! through the `Analytics` facade (median and p99 of repeated calls after one cold call)
//! while raw rows are all kept, then again after retention removed those older than 30
//! days (the learner summary answers for them), then the learner dashboard's data route
//! over HTTP on the in-process server.

use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{Duration as Span, Utc};
use tally_api::{Analytics, IngestOptions, Input, LearningPeriod};

use crate::{flag, target_dir};

/// The learner with five years of daily sessions.
const STAR: &str = "learner-star";
const TOPICS: [&str; 30] = [
    "algebra",
    "geometry",
    "calculus",
    "statistics",
    "probability",
    "rust",
    "python",
    "sql",
    "go",
    "typescript",
    "spanish",
    "french",
    "german",
    "japanese",
    "chemistry",
    "physics",
    "biology",
    "history",
    "economics",
    "writing",
    "grammar",
    "vocabulary",
    "reading",
    "networks",
    "security",
    "databases",
    "compilers",
    "design",
    "music",
    "art",
];

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn line(id: &str, user: &str, ts: chrono::DateTime<Utc>, rng: &mut Rng) -> String {
    let topics: Vec<String> = (0..1 + rng.below(2))
        .map(|_| format!("\"{}\"", TOPICS[rng.below(TOPICS.len() as u64) as usize]))
        .collect();
    let quality = if rng.below(10) == 0 {
        String::new()
    } else {
        format!(",\"quality\":{:.2}", 0.4 + 0.6 * rng.unit())
    };
    format!(
        "{{\"kind\":\"session\",\"id\":\"{id}\",\"ts\":\"{}\",\"user_id\":\"{user}\",\"duration_s\":{},\"exchanges\":{}{quality},\"topics\":[{}]}}",
        ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        300 + rng.below(3000),
        1 + rng.below(30),
        topics.join(",")
    )
}

/// The sessions, as JSON Lines, in chunks of about 50,000.
fn sessions(learners: u64) -> Vec<String> {
    let mut rng = Rng(0x5eed_1ea7);
    let now = Utc::now();
    let today = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let mut lines = Vec::new();
    for day in 1..=5 * 365 + 1 {
        let times = 1 + u64::from(rng.below(5) == 0);
        for k in 0..times {
            let ts = today - Span::days(day) + Span::minutes(6 * 60 + rng.below(15 * 60) as i64);
            lines.push(line(&format!("star-{day}-{k}"), STAR, ts, &mut rng));
        }
    }
    for learner in 0..learners {
        let user = format!("learner-{learner:05}");
        let start = 1 + rng.below(365) as i64;
        let count = 1 + rng.below(150);
        let mut day = start;
        for n in 0..count {
            if day < 1 {
                break;
            }
            let ts = today - Span::days(day) + Span::minutes(rng.below(24 * 60) as i64);
            lines.push(line(&format!("{user}-{n}"), &user, ts, &mut rng));
            // Mostly the next day or two, sometimes a gap of up to three weeks.
            day -= if rng.below(8) == 0 {
                3 + rng.below(19) as i64
            } else {
                rng.below(3) as i64
            };
        }
    }
    lines.chunks(50_000).map(|c| c.join("\n")).collect()
}

/// One timed question: its name and the call.
type Question<'a> = (&'static str, Box<dyn Fn() -> anyhow::Result<()> + 'a>);

struct Timing {
    cold_ms: f64,
    median_ms: f64,
    p99_ms: f64,
}

fn time(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Timing> {
    let start = Instant::now();
    f()?;
    let cold_ms = start.elapsed().as_secs_f64() * 1000.0;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let p99 = ((times.len() as f64 * 0.99).ceil() as usize).clamp(1, times.len()) - 1;
    Ok(Timing {
        cold_ms,
        median_ms: times[times.len() / 2],
        p99_ms: times[p99],
    })
}

fn row(state: &str, question: &str, t: &Timing) {
    let verdict = if t.p99_ms < 10.0 { "yes" } else { "no" };
    println!(
        "| {state} | {question} | {:.2} | {:.3} | {:.3} | {verdict} |",
        t.cold_ms, t.median_ms, t.p99_ms
    );
}

fn in_process(analytics: &Analytics, state: &str, runs: usize, other: &str) -> anyhow::Result<()> {
    // A fresh facade: the rarity index starts empty, so the first achievements or
    // dashboard call reads every learner (the cold column).
    let questions: [Question<'_>; 6] = [
        (
            "achievements (rarity)",
            Box::new(|| {
                analytics.learning_achievements(STAR, None)?;
                Ok(())
            }),
        ),
        (
            "progress, 5-year learner, weeks",
            Box::new(|| {
                let p = analytics.learning_progress(Some(STAR), LearningPeriod::IsoWeek, None)?;
                if p.overall.sessions < 5 * 365 {
                    bail!("the long-time learner has {} sessions", p.overall.sessions);
                }
                Ok(())
            }),
        ),
        (
            "streak, 5-year learner",
            Box::new(|| {
                let s = analytics.learning_streak(STAR, None)?;
                if s.streak.longest_days < 5 * 365 {
                    bail!(
                        "the long-time learner's longest streak is {}",
                        s.streak.longest_days
                    );
                }
                Ok(())
            }),
        ),
        (
            "dashboard data, 5-year learner",
            Box::new(|| {
                analytics.learner_dashboard(STAR, None)?;
                Ok(())
            }),
        ),
        (
            "dashboard data, another learner",
            Box::new(|| {
                analytics.learner_dashboard(other, None)?;
                Ok(())
            }),
        ),
        (
            "progress, all learners, weeks",
            Box::new(|| {
                analytics.learning_progress(None, LearningPeriod::IsoWeek, None)?;
                Ok(())
            }),
        ),
    ];
    for (name, question) in &questions {
        row(state, name, &time(runs, question)?);
    }
    Ok(())
}

fn http(analytics: &Analytics, runs: usize) -> anyhow::Result<()> {
    let options = tally_api::http::ServerOptions {
        addr: "127.0.0.1:0".parse()?,
        max_body_bytes: 16 * 1024 * 1024,
        max_batch_records: 100_000,
        retention_every: Duration::from_secs(24 * 3600),
        ..tally_api::http::ServerOptions::default()
    };
    let handle = tally_api::http::Server::bind(analytics.clone(), &options)?.spawn()?;
    let agent = ureq::Agent::new_with_defaults();
    let url = format!(
        "http://{}/api/analytics/learning/users/{STAR}/dashboard",
        handle.addr()
    );
    let timing = time(runs, || {
        let mut response = agent.get(&url).call()?;
        let body = response.body_mut().read_to_string()?;
        if !body.contains("\"heatmap\"") {
            bail!("unexpected answer: {body}");
        }
        Ok(())
    })?;
    row("after retention", "dashboard route over HTTP", &timing);
    handle.stop()?;
    Ok(())
}

pub fn learning(args: &[&str]) -> anyhow::Result<()> {
    let learners: u64 = flag(args, "--learners").unwrap_or("10000").parse()?;
    let runs: usize = flag(args, "--runs").unwrap_or("200").parse()?;
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("learning.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let analytics = Analytics::open(&db)?;
    let chunks = sessions(learners);
    let start = Instant::now();
    let mut stored = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        let input = Input::Bytes {
            name: format!("learning-{i}.jsonl"),
            data: chunk.as_bytes().into(),
        };
        let report = analytics.ingest_with(&input, &IngestOptions::default(), &mut ())?;
        if report.rejected > 0 {
            bail!(
                "{} sessions rejected: {:?}",
                report.rejected,
                report.errors.first()
            );
        }
        stored += report.accepted;
    }
    println!(
        "{stored} sessions of {} learners ingested in {:.1} s\n",
        learners + 1,
        start.elapsed().as_secs_f64()
    );
    let other = format!("learner-{:05}", learners / 2);
    println!("| raw rows | question | cold ms | median ms | p99 ms | p99 < 10 ms |");
    println!("|---|---|---|---|---|---|");
    in_process(&Analytics::open(&db)?, "all kept", runs, &other)?;
    let retained = Analytics::open(&db)?;
    let outcome = retained.run_retention()?;
    in_process(&retained, "after retention", runs, &other)?;
    http(&retained, runs)?;
    println!(
        "\nretention deleted {} raw rows (sessions older than 30 days and their topics)",
        outcome.raw_rows_deleted
    );
    Ok(())
}
