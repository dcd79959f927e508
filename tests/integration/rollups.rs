//! The rollup tier answers exactly what the raw events say: for random event sets
//! ingested in random batch splits and orders, every view computed from rollups equals
//! the same view recomputed from the events themselves (percentiles within the
//! sketch's 1 % relative error), and retention leaves the kept range's answers alone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use tally_api::{Analytics, Filter, Granularity, IngestOptions, Input};

use crate::support::TestDb;

const PROJECTS: [&str; 3] = ["alpha", "beta", "gamma"];
const TOOLS: [&str; 4] = ["web_search", "code_edit", "run_tests", "file_read"];
const MODELS: [&str; 3] = ["gpt-4o", "claude-haiku-4", "local-llm"];
const AGENTS: [&str; 3] = ["agent-a", "agent-b", "agent-c"];
const QA: [&str; 5] = ["passed", "warning", "failed", "error", "not_run"];
const JOB_STATUS: [&str; 5] = ["queued", "running", "completed", "failed", "cancelled"];

/// Events from 2026-09-29 to 2026-10-03: a month boundary and several days.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 29, 0, 0, 0).unwrap()
}

/// The instant the views are computed at.
fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 4, 0, 0, 0).unwrap()
}

#[derive(Debug, Clone)]
enum Body {
    Execution {
        tool: usize,
        model: Option<usize>,
        agent: Option<usize>,
        duration_ms: f64,
        success: bool,
        input: u64,
        output: u64,
        cost: Option<f64>,
    },
    Run {
        duration_s: f64,
        mode: usize,
        qa: usize,
        models: Vec<(usize, u64, u64, Option<f64>)>,
    },
    Job {
        job: usize,
        status: usize,
    },
}

#[derive(Debug, Clone)]
struct Generated {
    id: usize,
    project: usize,
    /// Seconds after [`start`].
    offset: i64,
    body: Body,
}

fn cost() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        (1u32..5000).prop_map(|c| Some(f64::from(c) / 1e5))
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => (0..TOOLS.len(), prop::option::of(0..MODELS.len()), prop::option::of(0..AGENTS.len()),
              1u32..200_000, any::<bool>(), 0u64..5000, 0u64..2000, cost())
            .prop_map(|(tool, model, agent, d, success, input, output, cost)| Body::Execution {
                tool, model, agent, duration_ms: f64::from(d) / 10.0, success, input, output, cost,
            }),
        2 => (1u32..10_000, 0usize..3, 0..QA.len(),
              prop::collection::vec((0..MODELS.len(), 0u64..5000, 0u64..2000, cost()), 0..3))
            .prop_map(|(d, mode, qa, models)| Body::Run { duration_s: f64::from(d) / 10.0, mode, qa, models }),
        1 => (0usize..6, 0..JOB_STATUS.len()).prop_map(|(job, status)| Body::Job { job, status }),
    ]
}

fn events() -> impl Strategy<Value = Vec<Generated>> {
    prop::collection::vec((0..PROJECTS.len(), 0i64..5 * 86_400, body()), 1..120).prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(id, (project, offset, body))| Generated {
                id,
                project,
                offset,
                body,
            })
            .collect()
    })
}

fn json(e: &Generated) -> String {
    let ts = (start() + Duration::seconds(e.offset)).to_rfc3339();
    let envelope = format!(
        r#""id":"e{}","ts":"{ts}","project":"{}""#,
        e.id, PROJECTS[e.project]
    );
    let opt = |name: &str, value: Option<String>| {
        value.map_or(String::new(), |v| format!(r#","{name}":{v}"#))
    };
    match &e.body {
        Body::Execution {
            tool,
            model,
            agent,
            duration_ms,
            success,
            input,
            output,
            cost,
        } => format!(
            r#"{{"kind":"execution",{envelope},"tool":"{}","duration_ms":{duration_ms},"success":{success},"input_tokens":{input},"output_tokens":{output}{}{}{}}}"#,
            TOOLS[*tool],
            opt("model", model.map(|m| format!("\"{}\"", MODELS[m]))),
            opt("agent_id", agent.map(|a| format!("\"{}\"", AGENTS[a]))),
            opt("cost_usd", cost.map(|c| c.to_string())),
        ),
        Body::Run {
            duration_s,
            mode,
            qa,
            models,
        } => {
            let models: Vec<String> = models
                .iter()
                .map(|(m, i, o, c)| {
                    format!(
                        r#"{{"model":"{}","input_tokens":{i},"output_tokens":{o}{}}}"#,
                        MODELS[*m],
                        opt("cost_usd", c.map(|c| c.to_string()))
                    )
                })
                .collect();
            format!(
                r#"{{"kind":"run",{envelope},"duration_s":{duration_s},"mode":"{}","qa_status":"{}","models":[{}]}}"#,
                ["2loop", "3loop", "solo"][*mode],
                QA[*qa],
                models.join(",")
            )
        }
        Body::Job { job, status } => format!(
            r#"{{"kind":"job",{envelope},"job_id":"job-{job}","status":"{}"}}"#,
            JOB_STATUS[*status]
        ),
    }
}

fn nanos(usd: f64) -> i64 {
    (usd * 1e9).round() as i64
}

/// tally's list price for the models of these tests, in nanodollars; `local-llm` has none.
fn computed_nanos(model: usize, input: u64, output: u64) -> Option<i64> {
    let (per_in, per_out) = match MODELS[model] {
        "gpt-4o" => (2.5, 10.0),
        "claude-haiku-4" => (1.0, 5.0),
        _ => return None,
    };
    Some(nanos(
        (input as f64 * per_in + output as f64 * per_out) / 1e6,
    ))
}

fn in_range(e: &Generated, filter: &Filter) -> bool {
    let ts = start() + Duration::seconds(e.offset);
    filter
        .project
        .as_deref()
        .is_none_or(|p| PROJECTS[e.project] == p)
        && filter.from.is_none_or(|f| ts >= f)
        && filter.to.is_none_or(|t| ts < t)
}

/// The figures every view is checked against, recomputed from the events.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    executions: u64,
    successes: u64,
    runs: u64,
    tokens: u64,
    cost_nanos: i64,
    qa: BTreeMap<&'static str, u64>,
    /// project → (runs, executions, tokens, cost)
    projects: BTreeMap<&'static str, (u64, u64, u64, i64)>,
    /// model → (usage, tokens, cost)
    models: BTreeMap<&'static str, (u64, u64, i64)>,
    /// tool → (executions, successes, durations)
    tools: BTreeMap<&'static str, (u64, u64, Vec<f64>)>,
    /// agent → executions
    agents: BTreeMap<&'static str, u64>,
    /// day → (runs, executions, cost)
    daily: BTreeMap<String, (u64, u64, i64)>,
}

fn expected(events: &[Generated], filter: &Filter) -> Expected {
    let mut x = Expected::default();
    for e in events.iter().filter(|e| in_range(e, filter)) {
        let project = PROJECTS[e.project];
        let day = (start() + Duration::seconds(e.offset))
            .format("%Y-%m-%d")
            .to_string();
        match &e.body {
            Body::Execution {
                tool,
                model,
                agent,
                duration_ms,
                success,
                input,
                output,
                cost,
            } => {
                let cost = cost
                    .map(nanos)
                    .or_else(|| model.and_then(|m| computed_nanos(m, *input, *output)))
                    .unwrap_or(0);
                x.executions += 1;
                x.successes += u64::from(*success);
                x.tokens += input + output;
                x.cost_nanos += cost;
                let p = x.projects.entry(project).or_default();
                p.1 += 1;
                p.2 += input + output;
                p.3 += cost;
                if let Some(m) = model {
                    let entry = x.models.entry(MODELS[*m]).or_default();
                    entry.0 += 1;
                    entry.1 += input + output;
                    entry.2 += cost;
                }
                let t = x.tools.entry(TOOLS[*tool]).or_default();
                t.0 += 1;
                t.1 += u64::from(*success);
                t.2.push(*duration_ms);
                if let Some(a) = agent {
                    *x.agents.entry(AGENTS[*a]).or_default() += 1;
                }
                let d = x.daily.entry(day).or_default();
                d.1 += 1;
                d.2 += cost;
            }
            Body::Run { qa, models, .. } => {
                x.runs += 1;
                *x.qa.entry(QA[*qa]).or_default() += 1;
                let p = x.projects.entry(project).or_default();
                p.0 += 1;
                let d = x.daily.entry(day).or_default();
                d.0 += 1;
                for (m, input, output, cost) in models {
                    let cost = cost
                        .map(nanos)
                        .or_else(|| computed_nanos(*m, *input, *output))
                        .unwrap_or(0);
                    x.tokens += input + output;
                    x.cost_nanos += cost;
                    p.2 += input + output;
                    p.3 += cost;
                    d.2 += cost;
                    let entry = x.models.entry(MODELS[*m]).or_default();
                    entry.0 += 1;
                    entry.1 += input + output;
                    entry.2 += cost;
                }
            }
            Body::Job { .. } => {}
        }
    }
    x
}

/// What the views answer, in the shape of [`Expected`].
fn answered(analytics: &Analytics, filter: &Filter) -> Expected {
    let summary = analytics.summary(filter).unwrap();
    let qa = analytics.qa(filter).unwrap();
    let mut x = Expected {
        executions: summary.total_executions,
        successes: (summary.success_rate * summary.total_executions as f64).round() as u64,
        runs: summary.total_runs,
        tokens: u64::try_from(summary.total_tokens).unwrap(),
        cost_nanos: nanos(summary.total_cost),
        ..Expected::default()
    };
    for (status, n) in QA.iter().zip([
        qa.qa_passed,
        qa.qa_warning,
        qa.qa_failed,
        qa.qa_error,
        qa.qa_not_run,
    ]) {
        if n > 0 {
            x.qa.insert(status, n);
        }
    }
    for p in analytics.projects(filter).unwrap() {
        let name = PROJECTS.iter().find(|n| **n == p.project_name).unwrap();
        x.projects.insert(
            name,
            (
                p.runs_count,
                p.total_executions,
                u64::try_from(p.total_tokens).unwrap(),
                nanos(p.total_cost),
            ),
        );
    }
    for m in analytics.models(filter).unwrap() {
        let name = MODELS.iter().find(|n| **n == m.model_name).unwrap();
        x.models.insert(
            name,
            (
                m.usage_count,
                u64::try_from(m.total_tokens).unwrap(),
                nanos(m.total_cost),
            ),
        );
    }
    for t in analytics.tools(filter).unwrap() {
        let name = TOOLS.iter().find(|n| **n == t.tool_name).unwrap();
        x.tools.insert(
            name,
            (t.total_executions, t.successful_executions, Vec::new()),
        );
    }
    for a in analytics.agents(filter).unwrap() {
        if a.executions > 0 {
            let name = AGENTS.iter().find(|n| **n == a.agent_id).unwrap();
            x.agents.insert(name, a.executions);
        }
    }
    let series = analytics.timeseries(filter, Granularity::Day).unwrap();
    for point in series.points() {
        if point.runs + point.executions > 0 {
            x.daily.insert(
                point.date.clone().unwrap(),
                (point.runs, point.executions, nanos(point.cost)),
            );
        }
    }
    x
}

fn check(events: &[Generated], analytics: &Analytics, filter: &Filter) {
    let mut want = expected(events, filter);
    // A project none of the events has is refused rather than answered with zeros.
    if let Err(error) = analytics.check_project(filter) {
        assert!(
            matches!(error, tally_api::Error::UnknownProject { .. }),
            "{error}"
        );
        assert_eq!(want, Expected::default(), "{error}");
        return;
    }
    let got = answered(analytics, filter);
    // Percentiles are checked apart: within the sketch's relative error.
    let tools = analytics.tools(filter).unwrap();
    for (name, (_, _, durations)) in &mut want.tools {
        durations.sort_by(f64::total_cmp);
        let profile = tools.iter().find(|t| t.tool_name == *name).unwrap();
        for (q, got) in [
            (0.5, profile.p50_duration_ms),
            (0.95, profile.p95_duration_ms),
            (0.99, profile.p99_duration_ms),
        ] {
            let exact = durations[(q * (durations.len() - 1) as f64).floor() as usize];
            let got = got.unwrap();
            assert!(
                (got - exact).abs() <= 0.01 * exact + 1e-9,
                "{name} p{q}: {got} vs exact {exact}"
            );
        }
        durations.clear();
    }
    assert_eq!(got, want, "filter {filter:?}");
    // The summary also equals the one recomputed from raw rows by SQL.
    assert_eq!(
        analytics.summary(filter).unwrap(),
        analytics.summary_from_raw(filter).unwrap(),
        "raw recompute, filter {filter:?}"
    );
}

/// Filters at day boundaries (tool, model and agent views answer whole days) and one
/// at hour boundaries for the hourly families.
fn filters() -> Vec<Filter> {
    let day = |d: i64| Some(start() + Duration::days(d));
    vec![
        Filter::default(),
        Filter {
            project: Some("beta".into()),
            ..Filter::default()
        },
        Filter {
            project: None,
            from: day(1),
            to: day(3),
        },
        Filter {
            project: Some("alpha".into()),
            from: day(2),
            to: None,
        },
    ]
}

/// Ingests `lines` in batches of `batch_size`; `threaded` sends them through the
/// producer thread, which folds rollups ahead of the writer.
fn ingest(db: &TestDb, lines: &[String], batch_size: usize, threaded: bool) {
    let options = IngestOptions {
        batch_size,
        now: Some(as_of()),
        single_thread_max_bytes: if threaded { 0 } else { u64::MAX },
        ..IngestOptions::default()
    };
    let report = db
        .analytics
        .ingest_with(
            &Input::Bytes {
                name: "events.jsonl".into(),
                data: lines.join("\n").into_bytes().into(),
            },
            &options,
            &mut (),
        )
        .unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn views_from_rollups_equal_views_from_raw_events(
        events in events(),
        order in any::<prop::sample::Index>(),
        batch_size in 1usize..40,
        resend in 0usize..10,
        threaded in any::<bool>(),
    ) {
        let mut lines: Vec<String> = events.iter().map(json).collect();
        // A rotation stands for an arbitrary order; a few lines arrive twice.
        let at = order.index(lines.len());
        lines.rotate_left(at);
        let repeated: Vec<String> = lines.iter().take(resend).cloned().collect();
        lines.extend(repeated);
        let db = TestDb::new();
        ingest(&db, &lines, batch_size, threaded);
        let analytics = db.analytics.as_of(as_of());
        for filter in filters() {
            check(&events, &analytics, &filter);
        }
        // Jobs count by their latest change, whatever the arrival order.
        let mut latest: BTreeMap<(usize, usize), (i64, usize)> = BTreeMap::new();
        for e in &events {
            if let Body::Job { job, status } = e.body {
                let held = latest.entry((e.project, job)).or_insert((e.offset, status));
                *held = (*held).max((e.offset, status));
            }
        }
        let pipeline = analytics.pipeline(&Filter::default()).unwrap();
        let count = |s: usize| latest.values().filter(|(_, status)| *status == s).count() as u64;
        prop_assert_eq!(
            [pipeline.jobs.queued, pipeline.jobs.running, pipeline.jobs.completed, pipeline.jobs.failed, pipeline.jobs.cancelled],
            [count(0), count(1), count(2), count(3), count(4)]
        );
    }
}

#[test]
fn retention_leaves_the_kept_range_as_it_was() {
    let events: Vec<Generated> = (0..400)
        .map(|i| Generated {
            id: i,
            project: i % 3,
            offset: (i as i64) * 1080, // five days
            body: Body::Execution {
                tool: i % 4,
                model: Some(i % 3),
                agent: Some(i % 3),
                duration_ms: 10.0 + (i % 17) as f64 * 31.0,
                success: i % 5 != 0,
                input: 100 + i as u64,
                output: 10,
                cost: None,
            },
        })
        .collect();
    let db = TestDb::new();
    ingest(&db, &events.iter().map(json).collect::<Vec<_>>(), 64, true);
    let analytics = db.analytics.as_of(as_of());
    let kept = Filter {
        from: Some(start() + Duration::days(2)),
        ..Filter::default()
    };
    let everything = Filter::default();
    let before = (
        answered(&analytics, &kept),
        answered(&analytics, &everything),
    );
    // Raw rows go after 2 days, rollups after 3: raw deletion changes no view.
    let config = tally_api::Config {
        retention: tally_api::RetentionConfig {
            raw_days: Some(2),
            hourly_days: Some(3),
        },
        ..tally_api::Config::default()
    };
    let retained = Analytics::open_with(db.path(), config, tally_api::SqliteOptions::default())
        .unwrap()
        .as_of(as_of());
    let outcome = retained.run_retention().unwrap();
    assert!(
        outcome.raw_rows_deleted > 0 && outcome.rollup_rows_deleted > 0,
        "{outcome:?}"
    );
    let after = (answered(&retained, &kept), answered(&retained, &everything));
    assert_eq!(after.0, before.0, "the kept range changed");
    // Everything still includes the months whose rows are kept whole.
    let days: BTreeSet<&String> = after.1.daily.keys().collect();
    assert!(days.iter().all(|d| d.as_str() >= "2026-10-01"), "{days:?}");
}

/// Two stores on one file (as two processes would be) take turns writing: each one's
/// cached rollup rows must notice the other's commits, so no count is lost.
#[test]
fn writers_on_two_connections_keep_rollups_exact() {
    let db = TestDb::new();
    let other = Analytics::open(db.path()).unwrap();
    let events: Vec<Generated> = (0..200)
        .map(|i| Generated {
            id: i,
            project: i % 2,
            offset: (i as i64 % 5) * 3600,
            body: Body::Execution {
                tool: i % 2,
                model: Some(0),
                agent: None,
                duration_ms: 5.0 + i as f64,
                success: i % 3 != 0,
                input: 10,
                output: 1,
                cost: Some(0.001),
            },
        })
        .collect();
    let options = IngestOptions {
        batch_size: 7,
        now: Some(as_of()),
        ..IngestOptions::default()
    };
    for (turn, chunk) in events.chunks(20).enumerate() {
        let writer = if turn % 2 == 0 { &db.analytics } else { &other };
        let body = chunk.iter().map(json).collect::<Vec<_>>().join("\n");
        writer
            .ingest_with(
                &Input::Bytes {
                    name: "turn.jsonl".into(),
                    data: body.into_bytes().into(),
                },
                &options,
                &mut (),
            )
            .unwrap();
    }
    for analytics in [&db.analytics, &other] {
        check(&events, &analytics.as_of(as_of()), &Filter::default());
    }
}

/// Every row of the rollup and state tables, in key order. Minute-tier rows near the
/// 24-hour horizon are left out: whether an event counts there depends on the instant
/// it arrives, and the two stores below are written a moment apart.
fn rollup_tables(path: &std::path::Path, horizon: i64) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let queries = [
        "SELECT * FROM rollup ORDER BY family, resolution, project, bucket".to_owned(),
        "SELECT * FROM job_state ORDER BY project, job_id".to_owned(),
        "SELECT * FROM agent_state ORDER BY project, agent".to_owned(),
        "SELECT * FROM agent_load ORDER BY project, agent, hour".to_owned(),
        format!(
            "SELECT * FROM rollup_minute WHERE minute >= {horizon} ORDER BY minute, project, kind"
        ),
        format!(
            "SELECT * FROM recent_user WHERE minute >= {horizon} ORDER BY minute, project, user"
        ),
    ];
    let mut rows = Vec::new();
    for sql in queries {
        let mut st = conn.prepare(&sql).unwrap();
        let columns = st.column_count();
        let mut found = st.query([]).unwrap();
        while let Some(row) = found.next().unwrap() {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            rows.push(format!("{sql}: {}", values.join(", ")));
        }
    }
    rows
}

/// Rollups folded ahead of the write (on an ingest's producer thread) are exactly the
/// rollups the writer folds itself, for every kind, for batches of new events only,
/// of duplicates only, and of both.
#[test]
fn rollups_folded_ahead_equal_rollups_folded_by_the_writer() {
    use tally_store::{Batch, EventStore, PreparedRollups};
    use tally_store_sqlite::{SqliteOptions, SqliteStore};

    let config = tally_api::DemoConfig {
        events: 6_000,
        days: 3,
        seed: 5,
        end: Utc::now(),
    };
    let events: Vec<tally_api::Event> = tally_ingest::demo::generate(&config).collect();
    assert!(events.len() > 5_000);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, prepare: bool| {
        let path = dir.path().join(name);
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        let mut accepted = 0;
        // One prepared fold, refolded for each batch, as the ingest pipeline does.
        let mut prepared = PreparedRollups::fold(&[], Utc::now());
        // The first part, then everything: batches of new events, then a batch that
        // mixes duplicates and new events, then duplicates only.
        for part in [&events[..2_300], &events[..]] {
            for chunk in part.chunks(500) {
                prepared.refold(chunk, Utc::now());
                let outcome = store
                    .write_batch(Batch {
                        events: chunk,
                        prepared: prepare.then_some(&prepared),
                        ..Batch::default()
                    })
                    .unwrap();
                accepted += outcome.accepted;
            }
        }
        assert_eq!(accepted, events.len() as u64);
        path
    };
    let horizon = Utc::now().timestamp() - 23 * 3600;
    let by_writer = rollup_tables(&write("writer.db", false), horizon);
    let ahead = rollup_tables(&write("ahead.db", true), horizon);
    assert!(by_writer.len() > 1_000, "{} rows", by_writer.len());
    assert!(by_writer.iter().any(|row| row.contains("agent_state")));
    assert!(by_writer.iter().any(|row| row.contains("rollup_minute")));
    assert_eq!(by_writer.len(), ahead.len());
    for (a, b) in by_writer.iter().zip(&ahead) {
        assert_eq!(a, b);
    }
}
