//! Engagement (active, new and returning users per day, week and month; sessions with
//! the inactivity timeout and their length percentiles; weekly retention cohorts)
//! equals what DuckDB computes with plain SQL over the same events
//! (`tests/oracles/duckdb_engagement.py`), whatever order the events arrive in and
//! however often they are sent.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use tally_api::{Analytics, Config, EngagementGranularity, Filter, SqliteOptions};

use crate::support::TestDb;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The instant the views are computed at.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 31, 12, 0, 0).unwrap()
}

/// Users of two projects active on some days of September and October, in sessions
/// of actions, requests, executions and skills (some opened and ended by
/// `session_start`/`session_end`, some left to the timeout), learning `session`
/// events, events of users outside any session, requests of a session without a user,
/// runs naming nobody; and sessions idle for 10, 40 and 80 minutes at `now`.
fn events() -> Vec<String> {
    let mut rng = Rng(0xe46a_6e11);
    let start = Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap();
    let mut out = Vec::new();
    let mut n = 0;
    let mut line = |text: String| out.push(text);
    let mut session_no = 0;
    for user in 0..40 {
        let project = ["web", "app"][user % 2];
        let first_day = rng.below(55) as i64;
        let active_days = 1 + rng.below(8);
        for _ in 0..active_days {
            let day = first_day + rng.below(61 - first_day as u64) as i64;
            let mut ts = start + Duration::days(day) + Duration::minutes(rng.below(20 * 60) as i64);
            if ts > now() - Duration::hours(3) {
                continue;
            }
            session_no += 1;
            let session = format!("s{session_no}");
            let started = rng.below(2) == 0;
            if started {
                line(format!(
                    r#"{{"kind":"action","id":"e{n}","ts":"{}","project":"{project}","user_id":"u{user}","action":"session_start","session_id":"{session}"}}"#,
                    ts.to_rfc3339()
                ));
                n += 1;
            }
            for _ in 0..1 + rng.below(5) {
                ts += Duration::seconds(rng.below(1200) as i64);
                let at = ts.to_rfc3339();
                let text = match rng.below(5) {
                    0 => format!(
                        r#"{{"kind":"request","id":"e{n}","ts":"{at}","project":"{project}","endpoint":"/items/{{id}}","method":"GET","status":200,"latency_ms":4,"user_id":"u{user}","session_id":"{session}"}}"#
                    ),
                    1 => format!(
                        r#"{{"kind":"execution","id":"e{n}","ts":"{at}","project":"{project}","tool":"search","duration_ms":5,"success":true,"user_id":"u{user}","session_id":"{session}"}}"#
                    ),
                    2 => format!(
                        r#"{{"kind":"skill","id":"e{n}","ts":"{at}","project":"{project}","user_id":"u{user}","skill":"recall","completed":true,"session_id":"{session}"}}"#
                    ),
                    3 => format!(
                        r#"{{"kind":"request","id":"e{n}","ts":"{at}","project":"{project}","endpoint":"/health","method":"GET","status":200,"latency_ms":1,"session_id":"{session}"}}"#
                    ),
                    _ => format!(
                        r#"{{"kind":"action","id":"e{n}","ts":"{at}","project":"{project}","user_id":"u{user}","action":"click","session_id":"{session}"}}"#
                    ),
                };
                line(text);
                n += 1;
            }
            if rng.below(3) > 0 {
                ts += Duration::seconds(rng.below(600) as i64);
                line(format!(
                    r#"{{"kind":"action","id":"e{n}","ts":"{}","project":"{project}","user_id":"u{user}","action":"session_end","session_id":"{session}"}}"#,
                    ts.to_rfc3339()
                ));
                n += 1;
            }
            match rng.below(4) {
                0 => line(format!(
                    r#"{{"kind":"session","id":"e{n}","ts":"{}","project":"{project}","user_id":"u{user}","duration_s":{},"exchanges":3}}"#,
                    (ts + Duration::hours(1)).to_rfc3339(),
                    rng.below(3600)
                )),
                1 => line(format!(
                    r#"{{"kind":"outcome","id":"e{n}","ts":"{}","project":"{project}","experiment":"x","user_id":"u{user}","variant":"a","metrics":{{"ok":true}}}}"#,
                    (ts + Duration::hours(2)).to_rfc3339()
                )),
                _ => line(format!(
                    r#"{{"kind":"run","id":"e{n}","ts":"{}","project":"{project}","duration_s":3}}"#,
                    ts.to_rfc3339()
                )),
            }
            n += 1;
        }
    }
    // Sessions idle for 10, 40 and 80 minutes at `now`, each 5 minutes long.
    for (i, idle) in [10, 40, 80].into_iter().enumerate() {
        for (j, minutes) in [idle + 5, idle].into_iter().enumerate() {
            line(format!(
                r#"{{"kind":"action","id":"idle{i}-{j}","ts":"{}","project":"web","user_id":"late{i}","action":"click","session_id":"late{i}"}}"#,
                (now() - Duration::minutes(minutes)).to_rfc3339()
            ));
        }
    }
    out
}

fn oracle(file: &Path, timeout_minutes: u32) -> Value {
    let now = now().format("%Y-%m-%d %H:%M:%S+00").to_string();
    let timeout = timeout_minutes.to_string();
    let args: [&std::ffi::OsStr; 3] = [file.as_os_str(), now.as_ref(), timeout.as_ref()];
    crate::support::python_oracle_args("duckdb_engagement.py", &args)
}

fn range() -> Filter {
    Filter {
        project: None,
        from: Some(Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap()),
        to: Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()),
    }
}

const GRANULARITIES: [(EngagementGranularity, &str); 3] = [
    (EngagementGranularity::Day, "day"),
    (EngagementGranularity::Week, "week"),
    (EngagementGranularity::Month, "month"),
];

/// Every view of `analytics` over the range, as JSON.
fn views(analytics: &Analytics) -> Value {
    let mut all = serde_json::Map::new();
    for (granularity, name) in GRANULARITIES {
        all.insert(
            name.to_owned(),
            serde_json::to_value(analytics.engagement(&range(), granularity).unwrap()).unwrap(),
        );
    }
    all.insert(
        "cohorts".to_owned(),
        serde_json::to_value(analytics.engagement_cohorts(&range()).unwrap()).unwrap(),
    );
    Value::Object(all)
}

fn close(a: &Value, b: &Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!(
            (x - y).abs() <= 1e-6 * y.abs().max(1.0),
            "{what}: {x} vs {y}"
        ),
        _ => assert!(a.is_null() && b.is_null(), "{what}: {a} vs {b}"),
    }
}

/// The tally view equals the oracle's rows, period by period (zero where it has none).
fn assert_matches(views: &Value, oracle: &Value) {
    for (_, name) in GRANULARITIES {
        let by_date = |rows: &Value| -> BTreeMap<String, Value> {
            rows.as_array()
                .unwrap()
                .iter()
                .map(|r| (r["date"].as_str().unwrap().to_owned(), r.clone()))
                .collect()
        };
        let users = by_date(&oracle[name]["users"]);
        let sessions = by_date(&oracle[name]["sessions"]);
        let periods = views[name]["periods"].as_array().unwrap();
        let dates: Vec<&str> = periods
            .iter()
            .map(|p| p["date"].as_str().unwrap())
            .collect();
        for date in users.keys().chain(sessions.keys()) {
            assert!(
                dates.contains(&date.as_str()),
                "{name}: {date} missing from {dates:?}"
            );
        }
        let mut active_total = 0;
        for period in periods {
            let date = period["date"].as_str().unwrap();
            let what = format!("{name} {date}");
            let zero = json!({"active_users": 0, "new_users": 0});
            let u = users.get(date).unwrap_or(&zero);
            assert_eq!(
                period["active_users"], u["active_users"],
                "{what} active_users"
            );
            assert_eq!(period["new_users"], u["new_users"], "{what} new_users");
            let returning = u["active_users"].as_u64().unwrap() - u["new_users"].as_u64().unwrap();
            assert_eq!(
                period["returning_users"],
                json!(returning),
                "{what} returning"
            );
            active_total += period["active_users"].as_u64().unwrap();
            let none = json!({"sessions": 0, "open_sessions": 0});
            let s = sessions.get(date).unwrap_or(&none);
            assert_eq!(period["sessions"], s["sessions"], "{what} sessions");
            assert_eq!(period["open_sessions"], s["open_sessions"], "{what} open");
            for field in [
                "avg_session_s",
                "p50_session_s",
                "p90_session_s",
                "p99_session_s",
            ] {
                close(&period[field], &s[field], &format!("{what} {field}"));
            }
            let per_user = match period["active_users"].as_u64().unwrap() {
                0 => 0.0,
                active => s["sessions"].as_u64().unwrap() as f64 / active as f64,
            };
            close(
                &period["sessions_per_user"],
                &json!(per_user),
                &format!("{what} per user"),
            );
        }
        assert!(active_total > 0, "{name}: no activity at all");
    }
    // Cohorts: size and active users per week since.
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    for row in oracle["cohort_sizes"].as_array().unwrap() {
        sizes.insert(
            row["week"].as_str().unwrap().to_owned(),
            row["users"].as_u64().unwrap(),
        );
    }
    let mut active: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for row in oracle["cohorts"].as_array().unwrap() {
        active.insert(
            (
                row["week"].as_str().unwrap().to_owned(),
                row["offset"].as_u64().unwrap(),
            ),
            row["active"].as_u64().unwrap(),
        );
    }
    let cohorts = views["cohorts"]["cohorts"].as_array().unwrap();
    assert!(cohorts.len() >= 8, "{cohorts:?}");
    let mut followed = 0;
    for cohort in cohorts {
        let week = cohort["week"].as_str().unwrap().to_owned();
        let size = sizes.get(&week).copied().unwrap_or(0);
        assert_eq!(cohort["users"], json!(size), "cohort {week}");
        for (offset, n) in cohort["active"].as_array().unwrap().iter().enumerate() {
            let want = active
                .get(&(week.clone(), offset as u64))
                .copied()
                .unwrap_or(0);
            assert_eq!(n, &json!(want), "cohort {week} week +{offset}");
            followed += usize::from(offset > 0 && want > 0);
        }
    }
    assert!(followed > 5, "too few returning users to judge the cohorts");
}

#[test]
fn engagement_equals_duckdb_whatever_the_order_and_resends() {
    let lines = events();
    let text = lines.join("\n") + "\n";

    let in_order = TestDb::new();
    let file = in_order.dir.path().join("events.jsonl");
    std::fs::write(&file, &text).unwrap();
    let report = in_order.ingest("events.jsonl", &text);
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    let expected = views(&in_order.analytics.as_of(now()));
    assert_matches(&expected, &oracle(&file, 30));

    // Reversed, then every event again in another order: the same answers.
    let shuffled = TestDb::new();
    let mut reversed = lines.clone();
    reversed.reverse();
    shuffled.ingest("reversed.jsonl", reversed.join("\n"));
    let mut rng = Rng(7);
    let mut again = lines.clone();
    for i in (1..again.len()).rev() {
        again.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let resent = shuffled.ingest("again.jsonl", again.join("\n"));
    assert_eq!(resent.accepted, 0);
    assert_eq!(views(&shuffled.analytics.as_of(now())), expected);

    // The idle sessions: 10 minutes is open at the default 30, 40 and 80 closed; with a
    // timeout of 60 minutes 40 is open too.
    let last_day = expected["day"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["date"] == "2026-10-31")
        .unwrap()
        .clone();
    assert_eq!(last_day["open_sessions"], json!(1), "{last_day}");
    let mut config = Config::default();
    config.engagement.session_timeout_minutes = 60;
    let hour = Analytics::open_with(in_order.path(), config, SqliteOptions::default())
        .unwrap()
        .as_of(now());
    let with_hour = views(&hour);
    assert_eq!(with_hour["day"]["session_timeout_minutes"], json!(60));
    assert_matches(&with_hour, &oracle(&file, 60));
    let last_day = &with_hour["day"]["periods"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last_day["date"], "2026-10-31");
    assert_eq!(last_day["open_sessions"], json!(2), "{last_day}");
}

#[test]
fn engagement_answers_through_the_cli() {
    let db = TestDb::new();
    let mut text = String::new();
    for line in events().iter().take(60) {
        let _ = writeln!(text, "{line}");
    }
    db.ingest("events.jsonl", &text);
    let out = db.tally(&[
        "query",
        "engagement",
        "--granularity",
        "week",
        "--from",
        "2026-09-01",
        "--to",
        "2026-10-31",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let periods = value["periods"].as_array().unwrap();
    assert_eq!(periods[0]["date"], "2026-08-31");
    assert!(periods.iter().all(|p| p["active_users"].is_u64()));
    assert!(
        periods
            .iter()
            .map(|p| p["active_users"].as_u64().unwrap())
            .sum::<u64>()
            > 0
    );
    let bad = db.tally(&["query", "engagement", "--granularity", "year"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("day, week or month"));
    let cohorts = db.tally(&["query", "cohorts", "--json"]);
    assert!(
        cohorts.status.success(),
        "{}",
        String::from_utf8_lossy(&cohorts.stderr)
    );
}

#[test]
fn engagement_answers_over_http() {
    let server = crate::support::TestServer::start();
    let text = events().join("\n");
    server.db.ingest("events.jsonl", &text);
    let http = &server.http;
    let answer = http.get(
        "/api/analytics/engagement?granularity=month&from=2026-09-01&to=2026-10-31",
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    let dates: Vec<&str> = body["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2026-09-01", "2026-10-01"]);
    let month = server
        .db
        .analytics
        .engagement(&range(), EngagementGranularity::Month)
        .unwrap();
    assert_eq!(
        body["periods"][1]["active_users"],
        json!(month.periods[1].active_users)
    );
    assert!(month.periods[1].active_users > 0);

    let bad = http.get("/api/analytics/engagement?granularity=year", None);
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "bad_query"));
    let cohorts = http.get("/api/analytics/engagement/cohorts?from=2026-09-01", None);
    assert_eq!(cohorts.status, 200, "{}", cohorts.text());
    assert!(!cohorts.json()["cohorts"].as_array().unwrap().is_empty());
}
