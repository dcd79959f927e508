//! Each rule kind fires on data that should fire it and stays quiet on data that should
//! not, on a real SQLite store.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::observe;
use crate::alerts::{AlertRule, RuleKind};
use crate::{Analytics, AnalyticsConfig, Config, DemoConfig, Error, Input, SqliteOptions};

fn open(monthly_budget: Option<f64>) -> (tempfile::TempDir, Analytics) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        analytics: AnalyticsConfig {
            monthly_budget,
            ..AnalyticsConfig::default()
        },
        ..Config::default()
    };
    let analytics =
        Analytics::open_with(dir.path().join("t.db"), config, SqliteOptions::default()).unwrap();
    (dir, analytics)
}

fn ingest(analytics: &Analytics, events: &[Value]) {
    let body: Vec<String> = events.iter().map(Value::to_string).collect();
    let report = analytics
        .ingest(&Input::Bytes {
            name: "test".into(),
            data: body.join("\n").as_bytes().into(),
        })
        .unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    assert_eq!(report.accepted as usize, events.len());
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A rule of `kind` with `threshold` and the TOML `extra` fields.
fn rule(kind: RuleKind, threshold: f64, extra: &str) -> AlertRule {
    toml::from_str(&format!(
        "name = \"r\"\nrule = \"{}\"\nthreshold = {threshold}\n{extra}",
        kind.as_str()
    ))
    .unwrap()
}

fn execution(id: &str, t: DateTime<Utc>, project: &str, tool: &str, success: bool) -> Value {
    json!({"kind": "execution", "id": id, "ts": ts(t), "project": project, "tool": tool,
           "duration_ms": 20, "success": success})
}

/// The demo's 28 days of every kind, ending at `end`.
fn demo(end: DateTime<Utc>) -> (tempfile::TempDir, Analytics) {
    let (dir, analytics) = open(None);
    let config = DemoConfig {
        events: 20_000,
        days: 28,
        seed: 42,
        end,
    };
    analytics.demo(&config, &mut ()).unwrap();
    (dir, analytics)
}

#[test]
fn the_demo_weekly_rhythm_does_not_fire_a_cost_spike_and_a_tenfold_hour_does() {
    let end = at("2026-11-20T00:00:00Z");
    let (_dir, analytics) = demo(end);
    // Every hour of the demo's last two days, all projects, cost and tokens: quiet (the
    // highest score of these 96 is 8.0, below the threshold of 10).
    for hours_back in 0..48 {
        let now = end - Duration::hours(hours_back);
        for kind in [RuleKind::CostSpike, RuleKind::TokenSpike] {
            let o = observe(&analytics, &rule(kind, 10.0, ""), now).unwrap();
            assert!(o.value.is_some(), "{}", o.summary);
            assert!(!o.firing, "{now}: {}", o.summary);
        }
    }
    // Each project's last ten days, by day: quiet.
    for project in ["support-bot", "code-review", "tutor-app", "research-agent"] {
        let daily = rule(
            RuleKind::CostSpike,
            5.0,
            &format!("project = \"{project}\"\nseries = \"daily\"\n"),
        );
        for days_back in 0..10 {
            let o = observe(&analytics, &daily, end - Duration::days(days_back)).unwrap();
            assert!(!o.firing, "{project}: {}", o.summary);
        }
    }

    // Ten times the last hour's cost: it fires, with the figures in the summary.
    let last_hour = analytics
        .as_of(end)
        .series(&crate::SeriesSource::Store(crate::SeriesQuery {
            metric: "cost".into(),
            granularity: crate::Granularity::Hour,
            ..crate::SeriesQuery::default()
        }))
        .unwrap();
    let last = last_hour.points.last().unwrap();
    assert_eq!(last.time(), "2026-11-19T23:00:00Z");
    let cost = last.value.unwrap();
    assert!(cost > 0.0);
    ingest(
        &analytics,
        &[
            json!({"kind": "execution", "id": "spike", "ts": "2026-11-19T23:30:00Z",
                 "project": "support-bot", "tool": "llm_call", "duration_ms": 900,
                 "success": true, "cost_usd": cost * 9.0}),
        ],
    );
    let o = observe(&analytics, &rule(RuleKind::CostSpike, 10.0, ""), end).unwrap();
    assert!(o.firing, "{}", o.summary);
    assert!(o.value.unwrap() >= 10.0, "{}", o.summary);
    assert!(
        o.summary.starts_with(&format!(
            "all projects: cost of the hour from 2026-11-19T23:00:00Z was ${:.2}",
            cost * 10.0
        )),
        "{}",
        o.summary
    );
    // An hour earlier, the spike is not in the series yet.
    let before = observe(
        &analytics,
        &rule(RuleKind::CostSpike, 10.0, ""),
        end - Duration::hours(1),
    );
    assert!(!before.unwrap().firing);
}

fn cost(id: &str, t: &str, project: &str, model: &str, usd: f64) -> Value {
    json!({"kind": "execution", "id": id, "ts": t, "project": project, "tool": "llm",
           "duration_ms": 900, "success": true, "model": model, "cost_usd": usd})
}

fn budget_events(analytics: &Analytics) {
    ingest(
        analytics,
        &[
            cost("c1", "2026-10-02T09:00:00Z", "support-bot", "small", 50.0),
            cost("c2", "2026-10-14T09:00:00Z", "support-bot", "gpt-4o", 21.2),
            cost("c3", "2026-10-10T09:00:00Z", "other", "gpt-4o", 500.0),
            // Last month: not this month's spend.
            cost(
                "c4",
                "2026-09-30T23:59:00Z",
                "support-bot",
                "gpt-4o",
                1000.0,
            ),
        ],
    );
}

#[test]
fn budget_rules_compare_this_months_spend_and_its_projection_with_the_budget() {
    let (_dir, analytics) = open(Some(100.0));
    budget_events(&analytics);
    // 15 of October's 31 days have passed.
    let now = at("2026-10-16T00:00:00Z");
    let support = "project = \"support-bot\"\n";
    let cases: &[(RuleKind, f64, &str, f64, bool)] = &[
        (RuleKind::Budget, 0.7, support, 0.712, true),
        (RuleKind::Budget, 0.8, support, 0.712, false),
        (RuleKind::Budget, 5.0, "", 5.712, true),
        (RuleKind::Budget, 6.0, "", 5.712, false),
        (
            RuleKind::Budget,
            0.2,
            "project = \"support-bot\"\nmodel = \"gpt-4o\"\n",
            0.212,
            true,
        ),
        (
            RuleKind::Budget,
            0.3,
            "project = \"support-bot\"\nmodel = \"gpt-4o\"\n",
            0.212,
            false,
        ),
        (
            RuleKind::ProjectedBudget,
            1.4,
            support,
            71.2 / 15.0 * 31.0 / 100.0,
            true,
        ),
        (
            RuleKind::ProjectedBudget,
            1.5,
            support,
            71.2 / 15.0 * 31.0 / 100.0,
            false,
        ),
    ];
    for &(kind, threshold, scope, value, firing) in cases {
        let o = observe(&analytics, &rule(kind, threshold, scope), now).unwrap();
        assert!((o.value.unwrap() - value).abs() < 1e-9, "{}", o.summary);
        assert_eq!(o.firing, firing, "{}", o.summary);
        assert_eq!(o.threshold, threshold);
    }
    let o = observe(&analytics, &rule(RuleKind::Budget, 0.7, support), now).unwrap();
    assert_eq!(
        o.summary,
        "support-bot spent $71.20 of $100.00 (71 %) this month; threshold 70 %"
    );
    let o = observe(
        &analytics,
        &rule(RuleKind::ProjectedBudget, 1.0, support),
        now,
    )
    .unwrap();
    assert_eq!(
        o.summary,
        "support-bot is projected to spend $147.15 of $100.00 (147 %) by the end of 2026-10 \
         ($71.20 over 15.0 of 31 days, at the same daily rate); threshold 100 %"
    );
}

#[test]
fn a_budget_rule_without_a_budget_measures_nothing_and_stays_quiet() {
    let (_dir, analytics) = open(None);
    budget_events(&analytics);
    let now = at("2026-10-16T00:00:00Z");
    for kind in [RuleKind::Budget, RuleKind::ProjectedBudget] {
        let o = observe(
            &analytics,
            &rule(kind, 0.0, "project = \"support-bot\"\n"),
            now,
        )
        .unwrap();
        assert_eq!(o.value, None);
        assert!(!o.firing);
        assert_eq!(
            o.summary,
            "support-bot spent $71.20 this month, but no monthly budget is set ([analytics] monthly_budget)"
        );
    }
}

#[test]
fn a_scope_without_data_is_an_error_naming_it() {
    let (_dir, analytics) = open(Some(100.0));
    budget_events(&analytics);
    ingest(
        &analytics,
        &[execution(
            "e1",
            at("2026-10-15T10:00:00Z"),
            "support-bot",
            "browser",
            true,
        )],
    );
    let now = at("2026-10-16T00:00:00Z");
    let unknown_project = observe(
        &analytics,
        &rule(RuleKind::Budget, 0.7, "project = \"suport-bot\"\n"),
        now,
    );
    assert!(
        matches!(&unknown_project, Err(Error::UnknownProject { project, .. }) if project == "suport-bot"),
        "{unknown_project:?}"
    );
    let cases = [
        (
            RuleKind::Budget,
            "model = \"gpt-5\"\n",
            "model: unknown model \"gpt-5\"; models with data: gpt-4o, small",
        ),
        (
            RuleKind::FailureRate,
            "tool = \"brwoser\"\n",
            "tool: unknown tool \"brwoser\"; tools with data: browser, llm",
        ),
        (
            RuleKind::FailureRate,
            "model = \"gpt-5\"\n",
            "model: unknown model \"gpt-5\"",
        ),
        (
            RuleKind::CostSpike,
            "model = \"gpt-5\"\nseries = \"daily\"\n",
            "model: unknown model \"gpt-5\"",
        ),
        (
            RuleKind::AgentSaturation,
            "agent = \"a9\"\n",
            "agent: unknown agent \"a9\": no agent has data yet",
        ),
    ];
    for (kind, scope, message) in cases {
        let error = observe(&analytics, &rule(kind, 0.5, scope), now).unwrap_err();
        assert!(error.to_string().starts_with(message), "{error}");
    }
    // A rule that does not validate is refused with its name and field.
    let error = observe(
        &analytics,
        &rule(RuleKind::CostSpike, 5.0, "model = \"gpt-4o\"\n"),
        now,
    )
    .unwrap_err();
    assert!(
        error.to_string().starts_with("rule r: series: a model's"),
        "{error}"
    );
}

fn run(id: &str, t: DateTime<Utc>, project: &str, qa: &str) -> Value {
    json!({"kind": "run", "id": id, "ts": ts(t), "project": project, "duration_s": 30,
           "qa_status": qa})
}

#[test]
fn qa_failure_rate_counts_failed_and_errored_checks_over_the_window_and_needs_min_events() {
    let (_dir, analytics) = open(None);
    let now = at("2026-10-15T12:30:00Z");
    // The 60-minute window starts at 11:30, rounded down to 11:00 (hourly rollups).
    let window = at("2026-10-15T11:05:00Z");
    let mut events = Vec::new();
    for i in 0..30 {
        let qa = match i {
            0..6 => "failed",
            6..9 => "error",
            9..12 => "warning",
            _ => "passed",
        };
        events.push(run(
            &format!("w{i}"),
            window + Duration::minutes(i),
            "p",
            qa,
        ));
    }
    for i in 0..5 {
        events.push(run(&format!("n{i}"), window, "p", "not_run"));
    }
    // Before the window's first hour: not counted.
    for i in 0..20 {
        events.push(run(
            &format!("old{i}"),
            at("2026-10-15T10:59:00Z"),
            "p",
            "failed",
        ));
    }
    ingest(&analytics, &events);
    let p = "project = \"p\"\n";
    let o = observe(&analytics, &rule(RuleKind::QaFailureRate, 0.3, p), now).unwrap();
    assert_eq!((o.value, o.events, o.firing), (Some(0.3), Some(30), true));
    assert_eq!(
        o.summary,
        "p: 9 of 30 QA checks failed (30 %) since 2026-10-15T11:00:00Z; threshold 30 %"
    );
    let o = observe(&analytics, &rule(RuleKind::QaFailureRate, 0.31, p), now).unwrap();
    assert!(!o.firing);
    // Exactly min_events checks measure; one fewer measures nothing.
    let o = observe(
        &analytics,
        &rule(
            RuleKind::QaFailureRate,
            0.3,
            &format!("{p}min_events = 30\n"),
        ),
        now,
    )
    .unwrap();
    assert_eq!((o.value, o.firing), (Some(0.3), true));
    let o = observe(
        &analytics,
        &rule(
            RuleKind::QaFailureRate,
            0.3,
            &format!("{p}min_events = 31\n"),
        ),
        now,
    )
    .unwrap();
    assert_eq!((o.value, o.firing, o.events), (None, false, Some(30)));
    assert_eq!(
        o.summary,
        "p: only 30 QA checks since 2026-10-15T11:00:00Z, fewer than the 31 the rule needs; threshold 30 %"
    );
    // A window reaching back to 10:00 counts the older failures too: 29 of 50.
    let o = observe(
        &analytics,
        &rule(
            RuleKind::QaFailureRate,
            0.5,
            &format!("{p}window_minutes = 150\n"),
        ),
        now,
    )
    .unwrap();
    assert_eq!(
        (o.value, o.events, o.firing),
        (Some(29.0 / 50.0), Some(50), true)
    );
}

#[test]
fn a_tools_failure_rate_counts_exactly_the_window_from_day_rows_and_raw_edges() {
    let (_dir, analytics) = open(None);
    let now = at("2026-10-15T12:30:00Z");
    let mut events = Vec::new();
    let mut add = |id: String, t: &str, tool: &str, success: bool| {
        events.push(execution(&id, at(t), "p", tool, success));
    };
    // The last hour (from 11:30): 40 browser executions, 12 failing; search's failures
    // and a browser failure a minute before the window are not counted.
    for i in 0..40 {
        add(
            format!("b{i}"),
            &format!("2026-10-15T11:{:02}:00Z", 31 + i % 29),
            "browser",
            i < 28,
        );
    }
    for i in 0..10 {
        add(format!("s{i}"), "2026-10-15T12:00:00Z", "search", false);
        add(
            format!("early{i}"),
            "2026-10-15T11:29:00Z",
            "browser",
            false,
        );
    }
    // Earlier days: in a three-day window (from 2026-10-12T12:30) or not.
    for i in 0..10 {
        add(format!("d12a{i}"), "2026-10-12T12:00:00Z", "browser", false);
        add(format!("d12b{i}"), "2026-10-12T13:00:00Z", "browser", true);
        add(
            format!("d13{i}"),
            "2026-10-13T12:00:00Z",
            "browser",
            i % 2 == 0,
        );
        add(format!("d14{i}"), "2026-10-14T23:59:00Z", "browser", true);
    }
    ingest(&analytics, &events);
    let tool = "project = \"p\"\ntool = \"browser\"\n";
    let o = observe(&analytics, &rule(RuleKind::FailureRate, 0.3, tool), now).unwrap();
    assert_eq!(
        (o.value, o.events, o.firing),
        (Some(0.3), Some(40), true),
        "{}",
        o.summary
    );
    assert_eq!(
        o.summary,
        "tool browser in p: 12 of 40 executions failed (30 %) in the last 1 h; threshold 30 %"
    );
    assert!(
        !observe(&analytics, &rule(RuleKind::FailureRate, 0.35, tool), now)
            .unwrap()
            .firing
    );
    // Three days: 12 + 10 early + 5 of 60 in the whole days' rows and the edges.
    let three_days = format!("{tool}window_minutes = 4320\n");
    let o = observe(
        &analytics,
        &rule(RuleKind::FailureRate, 0.3, &three_days),
        now,
    )
    .unwrap();
    assert_eq!(o.events, Some(40 + 10 + 10 + 10 + 10));
    assert_eq!(o.value, Some(27.0 / 80.0));
    assert!(o.firing);
}

#[test]
fn a_failure_rate_with_a_baseline_fires_only_when_significantly_above_it() {
    let (_dir, analytics) = open(None);
    let now = at("2026-10-15T12:30:00Z");
    let mut events = Vec::new();
    // Window: 40 executions, 12 failing, in each project; baselines of 200 executions
    // in the week before: 5 % failing in q, 30 % in r, none in s.
    for project in ["q", "r", "s"] {
        for i in 0..40 {
            events.push(execution(
                &format!("{project}w{i}"),
                at("2026-10-15T12:00:00Z"),
                project,
                "browser",
                i >= 12,
            ));
        }
    }
    for (project, failing) in [("q", 10), ("r", 60)] {
        for i in 0..200 {
            events.push(execution(
                &format!("{project}b{i}"),
                at("2026-10-10T08:00:00Z") + Duration::minutes(i),
                project,
                "browser",
                i >= failing,
            ));
        }
    }
    ingest(&analytics, &events);
    let scope =
        |project: &str| format!("project = \"{project}\"\ntool = \"browser\"\nbaseline_days = 7\n");
    let q = observe(
        &analytics,
        &rule(RuleKind::FailureRate, 0.2, &scope("q")),
        now,
    )
    .unwrap();
    let test = q.test.clone().unwrap();
    assert_eq!(test.name, crate::alerts::BINOMIAL_TEST);
    assert_eq!(test.baseline_rate, 0.05);
    assert_eq!(test.p_value, crate::alerts::binomial_p_value(12, 40, 0.05));
    assert!(test.p_value < 1e-5);
    assert!(q.firing, "{}", q.summary);
    assert!(
        q.summary
            .contains("baseline 5 % (10 of 200 from 2026-10-08T00:00:00Z to 2026-10-15T00:00:00Z)"),
        "{}",
        q.summary
    );
    // Over the threshold, but at its own usual rate: quiet.
    let r = observe(
        &analytics,
        &rule(RuleKind::FailureRate, 0.2, &scope("r")),
        now,
    )
    .unwrap();
    assert_eq!(r.value, Some(0.3));
    assert!(r.test.unwrap().p_value > 0.4);
    assert!(!r.firing, "{}", r.summary);
    // No baseline: no rise above it can be shown.
    let s = observe(
        &analytics,
        &rule(RuleKind::FailureRate, 0.2, &scope("s")),
        now,
    )
    .unwrap();
    assert_eq!(
        (s.value, s.test.clone(), s.firing),
        (Some(0.3), None, false)
    );
    assert!(s.summary.ends_with("no executions in the 7 d baseline before 2026-10-15T00:00:00Z, so no rise above it can be shown"), "{}", s.summary);
    // Significant, but under the threshold: quiet.
    let q_high = observe(
        &analytics,
        &rule(RuleKind::FailureRate, 0.5, &scope("q")),
        now,
    )
    .unwrap();
    assert!(!q_high.firing);
}

fn request(id: &str, t: DateTime<Utc>, project: &str, status: u16, latency_ms: f64) -> Value {
    json!({"kind": "request", "id": id, "ts": ts(t), "project": project, "endpoint": "/api",
           "method": "GET", "status": status, "latency_ms": latency_ms})
}

/// Recent events, for the minute tier (which takes events that arrive within a day of
/// their time).
#[test]
fn request_and_execution_rates_over_minutes_read_the_minute_tier() {
    let (_dir, analytics) = open(None);
    let now = DateTime::from_timestamp(Utc::now().timestamp().div_euclid(60) * 60 + 30, 0).unwrap();
    let mut events = Vec::new();
    for i in 0..30 {
        let status = if i < 6 { 503 } else { 200 };
        let latency = if i < 25 { 100.0 } else { 2000.0 };
        events.push(request(
            &format!("r{i}"),
            now - Duration::minutes(3),
            "live",
            status,
            latency,
        ));
        // Outside a 15-minute window.
        events.push(request(
            &format!("old{i}"),
            now - Duration::minutes(20),
            "live",
            500,
            9000.0,
        ));
    }
    // The window's first minute counts; the second before it does not.
    let first_minute = DateTime::from_timestamp(now.timestamp() - 30 - 14 * 60, 0).unwrap();
    for i in 0..20 {
        events.push(request(&format!("in{i}"), first_minute, "edge", 200, 10.0));
        events.push(request(
            &format!("out{i}"),
            first_minute - Duration::seconds(1),
            "edge",
            500,
            10.0,
        ));
    }
    for i in 0..25 {
        events.push(execution(
            &format!("x{i}"),
            now - Duration::minutes(2),
            "live",
            "browser",
            i >= 15,
        ));
        events.push(execution(
            &format!("y{i}"),
            now - Duration::minutes(40),
            "live",
            "browser",
            false,
        ));
    }
    ingest(&analytics, &events);
    let live = "project = \"live\"\n";
    let o = observe(
        &analytics,
        &rule(RuleKind::RequestErrorRate, 0.2, live),
        now,
    )
    .unwrap();
    assert_eq!(
        (o.value, o.events, o.firing),
        (Some(0.2), Some(30), true),
        "{}",
        o.summary
    );
    assert_eq!(
        o.summary,
        "live: 6 of 30 requests answered 5xx (20 %) in the last 15 min; threshold 20 %"
    );
    assert!(
        !observe(
            &analytics,
            &rule(RuleKind::RequestErrorRate, 0.25, live),
            now
        )
        .unwrap()
        .firing
    );
    let o = observe(
        &analytics,
        &rule(
            RuleKind::RequestErrorRate,
            0.2,
            &format!("{live}window_minutes = 30\n"),
        ),
        now,
    )
    .unwrap();
    assert_eq!((o.value, o.events), (Some(36.0 / 60.0), Some(60)));

    let edge = rule(RuleKind::RequestErrorRate, 0.1, "project = \"edge\"\n");
    let o = observe(&analytics, &edge, now).unwrap();
    assert_eq!(
        (o.value, o.events, o.firing),
        (Some(0.0), Some(20), false),
        "{}",
        o.summary
    );

    // p95 of 25 requests at 100 ms and 5 at 2000 ms: 2000 ms, within the sketch's 1 %.
    let o = observe(&analytics, &rule(RuleKind::RequestP95, 1500.0, live), now).unwrap();
    assert!((o.value.unwrap() - 2000.0).abs() <= 20.0, "{}", o.summary);
    assert!(o.firing);
    assert!(
        !observe(&analytics, &rule(RuleKind::RequestP95, 2500.0, live), now)
            .unwrap()
            .firing
    );
    let o = observe(
        &analytics,
        &rule(
            RuleKind::RequestP95,
            1500.0,
            &format!("{live}min_events = 31\n"),
        ),
        now,
    )
    .unwrap();
    assert_eq!((o.value, o.firing), (None, false));
    assert!(
        o.summary
            .ends_with("fewer than the 31 the rule needs; threshold 1500 ms"),
        "{}",
        o.summary
    );

    // Executions of every tool: 15 of 25 failed in the last 15 minutes; 40 of 50 in the
    // last hour (the default window).
    let quarter = format!("{live}window_minutes = 15\n");
    let o = observe(&analytics, &rule(RuleKind::FailureRate, 0.6, &quarter), now).unwrap();
    assert_eq!(
        (o.value, o.events, o.firing),
        (Some(0.6), Some(25), true),
        "{}",
        o.summary
    );
    assert!(
        !observe(&analytics, &rule(RuleKind::FailureRate, 0.7, &quarter), now)
            .unwrap()
            .firing
    );
    let o = observe(&analytics, &rule(RuleKind::FailureRate, 0.8, live), now).unwrap();
    assert_eq!(
        (o.value, o.events, o.firing),
        (Some(0.8), Some(50), true),
        "{}",
        o.summary
    );
}

#[test]
fn request_rates_over_days_read_the_hourly_rollups() {
    let (_dir, analytics) = open(None);
    let now = at("2026-10-15T12:30:00Z");
    let mut events = Vec::new();
    for i in 0..20 {
        events.push(request(
            &format!("r{i}"),
            at("2026-10-14T10:00:00Z"),
            "h",
            if i < 10 { 503 } else { 200 },
            50.0,
        ));
        // Before the two-day window's first hour (2026-10-13T12:00).
        events.push(request(
            &format!("old{i}"),
            at("2026-10-13T11:59:00Z"),
            "h",
            500,
            50.0,
        ));
    }
    ingest(&analytics, &events);
    let scope = "project = \"h\"\nwindow_minutes = 2880\n";
    let o = observe(
        &analytics,
        &rule(RuleKind::RequestErrorRate, 0.4, scope),
        now,
    )
    .unwrap();
    assert_eq!(
        (o.value, o.events, o.firing),
        (Some(0.5), Some(20), true),
        "{}",
        o.summary
    );
    assert!(
        !observe(
            &analytics,
            &rule(RuleKind::RequestErrorRate, 0.6, scope),
            now
        )
        .unwrap()
        .firing
    );
}

fn agent(t: DateTime<Utc>, project: &str, id: &str, active: u64) -> Value {
    json!({"kind": "agent_status", "ts": ts(t), "project": project, "agent_id": id,
           "active_tasks": active, "queued_tasks": 0, "capacity": 10})
}

#[test]
fn agent_saturation_fires_when_the_soonest_agent_saturates_within_the_threshold() {
    let (_dir, analytics) = open(None);
    let now = at("2026-10-15T12:00:00Z");
    let mut events = Vec::new();
    // a1 rises 10 % an hour to 70 %: 3 h to saturation; a2 is flat; a3 is full.
    for h in 0..6 {
        let t = at("2026-10-15T06:10:00Z") + Duration::hours(h);
        events.push(agent(t, "ag", "a1", 2 + h as u64));
        events.push(agent(t, "ag", "a2", 5));
        events.push(agent(t, "full", "a3", 10));
    }
    ingest(&analytics, &events);
    let o = observe(
        &analytics,
        &rule(RuleKind::AgentSaturation, 4.0, "project = \"ag\"\n"),
        now,
    )
    .unwrap();
    assert!((o.value.unwrap() - 3.0).abs() < 1e-9, "{}", o.summary);
    assert!(o.firing);
    assert!(
        o.summary
            .starts_with("ag: agent a1 saturates in 3.0 h (70 % of capacity now"),
        "{}",
        o.summary
    );
    assert!(
        !observe(
            &analytics,
            &rule(RuleKind::AgentSaturation, 2.0, "project = \"ag\"\n"),
            now
        )
        .unwrap()
        .firing
    );
    let flat = observe(
        &analytics,
        &rule(
            RuleKind::AgentSaturation,
            4.0,
            "project = \"ag\"\nagent = \"a2\"\n",
        ),
        now,
    )
    .unwrap();
    assert_eq!((flat.value, flat.firing), (None, false));
    let full = observe(
        &analytics,
        &rule(RuleKind::AgentSaturation, 1.0, "project = \"full\"\n"),
        now,
    )
    .unwrap();
    assert_eq!((full.value, full.firing), (Some(0.0), true));
    // Unscoped: the soonest of every project's agents.
    let all = observe(&analytics, &rule(RuleKind::AgentSaturation, 1.0, ""), now).unwrap();
    assert_eq!(all.value, Some(0.0));
}

#[test]
fn silence_counts_minutes_since_the_projects_last_event() {
    let (_dir, analytics) = open(None);
    ingest(
        &analytics,
        &[
            execution("q1", at("2026-10-15T09:00:00Z"), "quiet", "browser", true),
            run("q2", at("2026-10-15T10:30:00Z"), "quiet", "passed"),
            execution("b1", at("2026-10-15T11:55:00Z"), "busy", "browser", true),
        ],
    );
    let now = at("2026-10-15T12:00:00Z");
    let quiet = "project = \"quiet\"\n";
    let o = observe(&analytics, &rule(RuleKind::Silence, 90.0, quiet), now).unwrap();
    assert_eq!((o.value, o.firing), (Some(90.0), true));
    assert_eq!(
        o.summary,
        "quiet: last event at 2026-10-15T10:30:00Z, 90 min before 2026-10-15T12:00:00Z; threshold 90 min"
    );
    assert!(
        !observe(&analytics, &rule(RuleKind::Silence, 91.0, quiet), now)
            .unwrap()
            .firing
    );
    // Any project: the latest event of all, 5 minutes ago.
    let o = observe(&analytics, &rule(RuleKind::Silence, 10.0, ""), now).unwrap();
    assert_eq!((o.value, o.firing), (Some(5.0), false));
    // A project never seen: nothing measured, not silent zeros.
    let o = observe(
        &analytics,
        &rule(RuleKind::Silence, 10.0, "project = \"never\"\n"),
        now,
    )
    .unwrap();
    assert_eq!((o.value, o.firing), (None, false));
    assert_eq!(
        o.summary,
        "project never has never sent an event, so it cannot fall silent"
    );
    let (_empty_dir, empty) = open(None);
    let o = observe(&empty, &rule(RuleKind::Silence, 10.0, ""), now).unwrap();
    assert_eq!((o.value, o.firing), (None, false));
}

#[test]
fn a_spike_rule_without_enough_history_measures_nothing() {
    let (_dir, analytics) = open(None);
    ingest(
        &analytics,
        &[
            cost("c1", "2026-10-15T09:10:00Z", "p", "gpt-4o", 1.0),
            cost("c2", "2026-10-15T10:10:00Z", "p", "gpt-4o", 50.0),
        ],
    );
    let now = at("2026-10-15T11:30:00Z");
    let cases = [
        (
            "project = \"p\"\n",
            "p: not enough cost history to score the last hour before 2026-10-15T11:30:00Z",
        ),
        // The whole days before today hold no cost of the model.
        (
            "model = \"gpt-4o\"\nseries = \"daily\"\n",
            "model gpt-4o: no cost recorded in the 90 days before",
        ),
    ];
    for (scope, summary) in cases {
        let o = observe(&analytics, &rule(RuleKind::CostSpike, 5.0, scope), now).unwrap();
        assert_eq!((o.value, o.firing), (None, false), "{}", o.summary);
        assert!(o.summary.starts_with(summary), "{}", o.summary);
    }
}

#[test]
fn the_memory_store_observes_what_sqlite_does() {
    let (_dir, sqlite) = open(Some(100.0));
    let memory =
        Analytics::open_with("memory:", sqlite.config().clone(), SqliteOptions::default()).unwrap();
    let now = DateTime::from_timestamp(Utc::now().timestamp().div_euclid(60) * 60 + 30, 0).unwrap();
    let mut events = Vec::new();
    for i in 0..60 {
        let t = now - Duration::minutes(i * 7);
        events.push(execution(&format!("x{i}"), t, "p", "browser", i % 3 != 0));
        events.push(run(
            &format!("r{i}"),
            t,
            "p",
            if i % 4 == 0 { "failed" } else { "passed" },
        ));
        events.push(request(
            &format!("q{i}"),
            t,
            "p",
            if i % 5 == 0 { 502 } else { 200 },
            10.0 * i as f64,
        ));
    }
    for analytics in [&sqlite, &memory] {
        ingest(analytics, &events);
    }
    let rules = [
        rule(RuleKind::Budget, 0.5, "project = \"p\"\n"),
        rule(
            RuleKind::QaFailureRate,
            0.2,
            "project = \"p\"\nwindow_minutes = 180\n",
        ),
        rule(
            RuleKind::FailureRate,
            0.3,
            "project = \"p\"\ntool = \"browser\"\nwindow_minutes = 300\n",
        ),
        rule(
            RuleKind::FailureRate,
            0.3,
            "window_minutes = 120\nmin_events = 5\n",
        ),
        rule(
            RuleKind::RequestErrorRate,
            0.1,
            "project = \"p\"\nwindow_minutes = 240\nmin_events = 5\n",
        ),
        rule(
            RuleKind::RequestP95,
            300.0,
            "window_minutes = 240\nmin_events = 5\n",
        ),
        rule(RuleKind::Silence, 1.0, "project = \"p\"\n"),
    ];
    for r in &rules {
        let (a, b) = (
            observe(&sqlite, r, now).unwrap(),
            observe(&memory, r, now).unwrap(),
        );
        assert_eq!(a, b, "{:?}", r.rule);
        assert!(a.value.is_some(), "{}", a.summary);
    }
}

/// Keeps the notifications it is handed, in order.
#[derive(Debug, Default)]
struct Heard(std::sync::Mutex<Vec<crate::alerts::Notification>>);

impl crate::alerts::Notify for Heard {
    fn notify(&self, notification: crate::alerts::Notification) {
        self.0.lock().unwrap().push(notification);
    }
}

/// The dead-man switch through the engine: a project that stops sending fires once,
/// however often it is evaluated while silent, and resolves when it sends again.
#[test]
fn a_silent_project_fires_once_and_resolves_when_it_sends_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::parse(
        "[[alerts]]\nname = \"dead-man\"\nrule = \"silence\"\nthreshold = 30\nproject = \"quiet\"\n\
         cooldown_minutes = 0\n",
        "tally.toml",
    )
    .unwrap();
    let analytics =
        Analytics::open_with(dir.path().join("t.db"), config, SqliteOptions::default()).unwrap();
    let start = at("2026-10-15T09:00:00Z");
    ingest(
        &analytics,
        &[execution("q1", start, "quiet", "browser", true)],
    );
    let heard = std::sync::Arc::new(Heard::default());
    let engine = crate::alerts::AlertEngine::new(&analytics, heard.clone());
    let events = || -> Vec<(String, crate::alerts::NotificationEvent)> {
        heard
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|n| (n.rule.clone(), n.event))
            .collect()
    };
    // Every five minutes for two hours: quiet for 30 minutes, then firing, once.
    for step in 0..24 {
        let now = start + Duration::minutes(5 * step);
        engine
            .evaluate_all(now, |rule| observe(&analytics, rule, now))
            .unwrap();
    }
    assert_eq!(
        events(),
        [(
            "dead-man".to_owned(),
            crate::alerts::NotificationEvent::Firing
        )]
    );
    let history = analytics.alert_history(None, None, 100, None).unwrap();
    assert_eq!(history.transitions.len(), 1);
    assert_eq!(history.transitions[0].at, start + Duration::minutes(30));
    // It sends again: resolved, once.
    let back = start + Duration::minutes(125);
    ingest(
        &analytics,
        &[execution("q2", back, "quiet", "browser", true)],
    );
    for step in 0..3 {
        let now = back + Duration::minutes(step);
        engine
            .evaluate_all(now, |rule| observe(&analytics, rule, now))
            .unwrap();
    }
    assert_eq!(
        events(),
        [
            (
                "dead-man".to_owned(),
                crate::alerts::NotificationEvent::Firing
            ),
            (
                "dead-man".to_owned(),
                crate::alerts::NotificationEvent::Resolved
            )
        ]
    );
}
