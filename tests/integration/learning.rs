//! Learning analytics end to end: streaks and progress over the demo data through the real
//! `tally` command, and the same answers whatever order or how often events arrive.

use serde_json::Value;

use crate::support::TestDb;

fn json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Longest run of consecutive calendar days among sorted `YYYY-MM-DD` labels.
fn plain_longest_run(days: &[chrono::NaiveDate]) -> u64 {
    let (mut best, mut run) = (0, 0);
    for (i, day) in days.iter().enumerate() {
        run = if i > 0 && (*day - days[i - 1]).num_days() == 1 {
            run + 1
        } else {
            1
        };
        best = best.max(run);
    }
    best
}

#[test]
fn demo_learners_have_sensible_streaks_and_progress() {
    let db = TestDb::new();
    let demo = db.tally(&["demo", "--events", "4000", "--days", "30", "--json"]);
    assert!(demo.status.success(), "{demo:?}");
    let all = json(&db.tally(&["learning", "progress", "--period", "month", "--json"]));
    let learners = all["learners"].as_u64().unwrap();
    assert!(learners >= 6, "{all}");
    let mut longest_seen = 0;
    let mut broken_or_shorter = 0;
    let mut session_sum = 0;
    for i in 1..=learners {
        let user = format!("learner-{i:03}");
        let daily = json(&db.tally(&[
            "learning", "progress", "--user", &user, "--period", "day", "--json",
        ]));
        session_sum += daily["overall"]["sessions"].as_u64().unwrap();
        let days: Vec<chrono::NaiveDate> = daily["periods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["label"].as_str().unwrap().parse().unwrap())
            .collect();
        let streak = json(&db.tally(&["learning", "streak", "--user", &user, "--json"]));
        let longest = streak["longest_days"].as_u64().unwrap();
        let current = streak["current_days"].as_u64().unwrap();
        // Grace and freezes only ever join runs: at least the plain calendar run, at most
        // the active days.
        assert!(longest >= plain_longest_run(&days), "{user}: {streak}");
        assert!(longest <= days.len() as u64, "{user}: {streak}");
        assert!(current <= longest, "{user}: {streak}");
        assert_eq!(
            streak["last_active_date"].as_str(),
            days.last().map(|d| d.to_string()).as_deref()
        );
        let achievements =
            json(&db.tally(&["learning", "achievements", "--user", &user, "--json"]));
        let holds = |id: &str| {
            achievements["achievements"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == id && a["rarity"].is_string())
        };
        assert_eq!(holds("streak_7"), longest >= 7, "{user}: {achievements}");
        assert_eq!(holds("sessions_1"), !days.is_empty());
        longest_seen = longest_seen.max(longest);
        broken_or_shorter += u64::from(longest < 25);
    }
    assert_eq!(session_sum, all["overall"]["sessions"].as_u64().unwrap());
    // The demo has a learner practising almost daily, and others with gaps or drop-outs.
    assert!(longest_seen >= 25, "longest {longest_seen}");
    assert!(broken_or_shorter >= 1);
}

fn session(user: &str, id: usize, ts: &str, quality: f64, topic: &str) -> String {
    format!(
        r#"{{"kind":"session","id":"s{id}","ts":"{ts}","user_id":"{user}","duration_s":600,"exchanges":5,"quality":{quality},"topics":["{topic}"]}}"#
    )
}

#[test]
fn streaks_and_mastery_do_not_depend_on_arrival_order_or_repeats() {
    let lines: Vec<String> = [
        "2026-10-01T09:00:00Z",
        "2026-10-02T09:00:00Z",
        "2026-10-03T21:00:00Z",
        "2026-10-06T09:00:00Z",
        "2026-10-10T09:00:00Z",
        "2026-10-11T09:00:00Z",
    ]
    .iter()
    .enumerate()
    .map(|(i, ts)| session("ana", i, ts, 0.9, "algebra"))
    .collect();
    let in_order = TestDb::new();
    in_order.ingest("a.jsonl", lines.join("\n"));
    let shuffled = TestDb::new();
    let mut reversed = lines.clone();
    reversed.reverse();
    shuffled.ingest("b.jsonl", reversed[..3].join("\n"));
    shuffled.ingest("c.jsonl", reversed.join("\n"));
    shuffled.ingest("d.jsonl", lines.join("\n"));
    for question in [
        vec![
            "learning",
            "achievements",
            "--user",
            "ana",
            "--at",
            "2026-10-12",
            "--json",
        ],
        vec![
            "learning",
            "streak",
            "--user",
            "ana",
            "--at",
            "2026-10-11",
            "--json",
        ],
        vec![
            "learning",
            "streak",
            "--user",
            "ana",
            "--at",
            "2026-10-05",
            "--json",
        ],
        vec![
            "learning",
            "mastery",
            "--user",
            "ana",
            "--at",
            "2026-10-12",
            "--json",
        ],
        vec![
            "learning",
            "progress",
            "--user",
            "ana",
            "--at",
            "2026-10-12",
            "--json",
        ],
    ] {
        assert_eq!(
            json(&in_order.tally(&question)),
            json(&shuffled.tally(&question)),
            "{question:?}"
        );
    }
    let achievements = json(&in_order.tally(&[
        "learning",
        "achievements",
        "--user",
        "ana",
        "--at",
        "2026-10-12",
        "--json",
    ]));
    let unlocked: Vec<(&str, &str)> = achievements["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap(),
                a["unlocked_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        unlocked,
        [
            ("sessions_1", "2026-10-01T09:00:00Z"),
            ("excellent_1", "2026-10-01T09:00:00Z"),
            ("streak_3", "2026-10-03T21:00:00Z"),
        ],
        "{achievements}"
    );
    // 1, 2, 3 October; 4 and 5 missed and bridged by the two freezes; 6 October; then
    // three missed days break it. As of 11 October: current 2 (10, 11), longest 4.
    let streak = json(&in_order.tally(&[
        "learning",
        "streak",
        "--user",
        "ana",
        "--at",
        "2026-10-11",
        "--json",
    ]));
    assert_eq!(
        (
            streak["current_days"].as_u64(),
            streak["longest_days"].as_u64()
        ),
        (Some(2), Some(4)),
        "{streak}"
    );
}

#[test]
fn learning_rules_come_from_the_config_file() {
    let db = TestDb::new();
    db.ingest(
        "s.jsonl",
        [
            session("eve", 1, "2026-10-01T09:00:00Z", 0.5, "sql"),
            session("eve", 2, "2026-10-03T09:00:00Z", 0.5, "sql"),
        ]
        .join("\n"),
    );
    let ask = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend([
            "learning",
            "streak",
            "--user",
            "eve",
            "--at",
            "2026-10-03",
            "--json",
        ]);
        json(&db.tally(&args))["longest_days"].as_u64()
    };
    // 48 h apart with 2 October missed: a freeze bridges it by default.
    assert_eq!(ask(&[]), Some(2));
    let strict = db.dir.path().join("strict.toml");
    std::fs::write(&strict, "[learning]\nfreezes = 0\n").unwrap();
    assert_eq!(ask(&["--config", strict.to_str().unwrap()]), Some(1));
    let lenient = db.dir.path().join("lenient.toml");
    std::fs::write(&lenient, "[learning]\nfreezes = 0\ngrace_hours = 48\n").unwrap();
    assert_eq!(ask(&["--config", lenient.to_str().unwrap()]), Some(2));
}

#[test]
fn a_learners_time_zone_moves_their_days() {
    let db = TestDb::new();
    // 23:30 and 00:30 UTC: two days in UTC, one evening in New York.
    db.ingest(
        "s.jsonl",
        [
            session("bo", 1, "2026-10-01T23:30:00Z", 0.5, "sql"),
            session("bo", 2, "2026-10-02T00:30:00Z", 0.5, "sql"),
        ]
        .join("\n"),
    );
    let ask = [
        "learning",
        "streak",
        "--user",
        "bo",
        "--at",
        "2026-10-02T01:00:00Z",
        "--json",
    ];
    assert_eq!(json(&db.tally(&ask))["longest_days"].as_u64(), Some(2));
    let set = db.tally(&["learning", "time-zone", "--user", "bo", "America/New_York"]);
    assert!(set.status.success(), "{set:?}");
    let streak = json(&db.tally(&ask));
    assert_eq!(streak["longest_days"].as_u64(), Some(1), "{streak}");
    assert_eq!(streak["time_zone"].as_str(), Some("America/New_York"));
    let bad = db.tally(&["learning", "time-zone", "--user", "bo", "Mars/Olympus"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("unknown time zone \"Mars/Olympus\""),
        "{bad:?}"
    );
}

#[test]
fn http_routes_answer_like_the_command() {
    // Recent sessions, sent over HTTP: the server validates against the real clock and
    // its retention job deletes raw rows older than 30 days.
    let server = crate::support::TestServer::start();
    let now = chrono::Utc::now();
    let day = |n: i64| {
        (now - chrono::Duration::days(n)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let lines = [
        session("cy", 1, &day(2), 0.8, "rust"),
        session("cy", 2, &day(1), 1.0, "rust"),
    ]
    .join("\n");
    let http = &server.http;
    assert_eq!(http.post("/api/analytics/events", None, &lines).status, 200);
    let learners = http.get("/api/analytics/learning/learners", None);
    assert_eq!(learners.status, 200);
    assert_eq!(learners.json()["learners"], serde_json::json!(["cy"]));
    let at = day(0);
    let streak = http
        .get(
            &format!("/api/analytics/learning/users/cy/streak?at={at}"),
            None,
        )
        .json();
    let command = json(
        &server
            .db
            .tally(&["learning", "streak", "--user", "cy", "--at", &at, "--json"]),
    );
    assert_eq!(streak, command);
    assert_eq!(streak["current_days"].as_u64(), Some(2), "{streak}");
    let progress = http
        .get(
            &format!("/api/analytics/learning/progress?user=cy&period=day&at={at}"),
            None,
        )
        .json();
    assert_eq!(
        progress["overall"]["sessions"].as_u64(),
        Some(2),
        "{progress}"
    );
    assert_eq!(progress["periods"].as_array().unwrap().len(), 2);
    let mastery = http
        .get(
            &format!("/api/analytics/learning/users/cy/mastery?at={at}"),
            None,
        )
        .json();
    assert_eq!(mastery["topics"][0]["topic"], "rust");
    assert_eq!(mastery["topics"][0]["interactions"].as_u64(), Some(2));
    let achievements = http
        .get(
            &format!("/api/analytics/learning/users/cy/achievements?at={at}"),
            None,
        )
        .json();
    assert_eq!(achievements["unlocked"].as_u64(), Some(2), "{achievements}");
    assert_eq!(achievements["achievements"][0]["rarity"], "common");
    let goals = http
        .get("/api/analytics/learning/users/cy/goals", None)
        .json();
    assert_eq!(goals, serde_json::json!([]));
    let insights = http
        .get(
            &format!("/api/analytics/learning/users/cy/insights?at={at}"),
            None,
        )
        .json();
    let command = json(&server.db.tally(&[
        "learning", "insights", "--user", "cy", "--at", &at, "--json",
    ]));
    assert_eq!(insights, command);
    // Two achievements unlocked this week.
    assert_eq!(
        insights
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "milestone_reached")
            .count(),
        2,
        "{insights}"
    );
    let goal = http.post(
        "/api/analytics/learning/users/cy/goals/create",
        None,
        r#"{"kind": "sessions", "target": 5, "deadline": "2099-01-01"}"#,
    );
    assert_eq!(goal.status, 200);
    let id = goal.json()["id"].as_i64().unwrap();
    let paused = http
        .post(
            &format!("/api/analytics/learning/users/cy/goals/{id}/update"),
            None,
            r#"{"state": "paused", "target": 6}"#,
        )
        .json();
    assert_eq!(
        (paused["status"].as_str(), paused["target"].as_f64()),
        (Some("paused"), Some(6.0)),
        "{paused}"
    );
    let listed = http
        .get("/api/analytics/learning/users/cy/goals", None)
        .json();
    assert_eq!(listed[0]["status"], "paused");
    let missing = http.post(
        "/api/analytics/learning/users/cy/goals/999/update",
        None,
        "{}",
    );
    assert_eq!(missing.status, 404);
    let invalid = http.post(
        "/api/analytics/learning/users/cy/goals/create",
        None,
        r#"{"kind": "pages", "target": 1}"#,
    );
    assert_eq!(invalid.status, 400);
    let bad = http.get("/api/analytics/learning/progress?period=year", None);
    assert_eq!(bad.status, 400);
}

#[test]
fn goal_lifecycle_through_the_command() {
    let db = TestDb::new();
    let ok = |args: &[&str]| {
        let out = db.tally(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        out
    };
    let created = json(&ok(&[
        "goals", "create", "--user", "dee", "--type", "sessions", "--target", "4", "--json",
    ]));
    let id = created[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(created[0]["status"], "active");
    assert_eq!(created[0]["value"].as_f64(), Some(0.0));
    // Sessions after the goal was set count towards it (sent with the real clock).
    let now = chrono::Utc::now();
    let at = |minutes: i64| {
        (now + chrono::Duration::minutes(minutes))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let lines: Vec<String> = (1..=3)
        .map(|i| session("dee", 100 + i as usize, &at(i), 0.7, "rust"))
        .collect();
    let file = db.dir.path().join("s.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    ok(&["ingest", file.to_str().unwrap()]);
    let listed = json(&ok(&[
        "goals",
        "list",
        "--user",
        "dee",
        "--at",
        &at(10),
        "--json",
    ]));
    assert_eq!(listed[0]["value"].as_f64(), Some(3.0), "{listed}");
    assert_eq!(listed[0]["milestones"], serde_json::json!([25, 50, 75]));
    assert_eq!(listed[0]["status"], "active");
    // Lowering the target completes it at the session that reached it.
    let updated = json(&ok(&[
        "goals", "update", "--user", "dee", "--id", &id, "--target", "2", "--json",
    ]));
    assert_eq!(updated[0]["target"].as_f64(), Some(2.0));
    let listed = json(&ok(&[
        "learning",
        "goals",
        "--user",
        "dee",
        "--at",
        &at(10),
        "--json",
    ]));
    assert_eq!(listed[0]["status"], "completed", "{listed}");
    assert_eq!(listed[0]["completed_at"].as_str(), Some(at(2).as_str()));
    // Abandoning overrides completion; then at most five active goals.
    ok(&["goals", "abandon", "--user", "dee", "--id", &id]);
    for _ in 0..5 {
        ok(&[
            "goals", "create", "--user", "dee", "--type", "minutes", "--target", "600",
        ]);
    }
    let sixth = db.tally(&[
        "goals", "create", "--user", "dee", "--type", "topics", "--target", "3",
    ]);
    assert!(!sixth.status.success());
    assert!(String::from_utf8_lossy(&sixth.stderr).contains("already has 5 active goals"));
    let second = (id.parse::<i64>().unwrap() + 1).to_string();
    ok(&["goals", "pause", "--user", "dee", "--id", &second]);
    ok(&[
        "goals", "create", "--user", "dee", "--type", "topics", "--target", "3",
    ]);
    let resume = db.tally(&["goals", "resume", "--user", "dee", "--id", &second]);
    assert!(!resume.status.success(), "{resume:?}");
    ok(&["goals", "abandon", "--user", "dee", "--id", &second]);
    let again = db.tally(&["goals", "resume", "--user", "dee", "--id", &second]);
    assert!(!again.status.success());
    let listed = json(&ok(&["goals", "list", "--user", "dee", "--json"]));
    let statuses: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "abandoned",
            "abandoned",
            "active",
            "active",
            "active",
            "active",
            "active"
        ]
    );
    let suggestions = json(&ok(&["goals", "suggest", "--user", "dee", "--json"]));
    // Suggestions look at the past only: dee's sessions are still minutes ahead.
    assert_eq!(suggestions, serde_json::json!([]));
    let bad = db.tally(&[
        "goals", "create", "--user", "dee", "--type", "pages", "--target", "3",
    ]);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("type must be streak"),
        "{bad:?}"
    );
}

#[test]
fn retention_keeps_lifetime_progress_streaks_and_achievements() {
    // 120 days of daily sessions ending yesterday, two of them in the same quarter hour
    // long before the 30 days retention keeps raw rows for.
    let db = TestDb::new();
    let now = chrono::Utc::now();
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let noon = now.date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
    let mut lines: Vec<String> = (1..=120)
        .map(|d| {
            let quality = if d % 4 == 0 { 0.95 } else { 0.6 };
            let topic = ["rust", "sql", "go"][d % 3];
            session(
                "fay",
                d,
                &stamp(noon - chrono::Duration::days(d as i64)),
                quality,
                topic,
            )
        })
        .collect();
    lines.push(session(
        "fay",
        1000,
        &stamp(noon - chrono::Duration::days(90) + chrono::Duration::minutes(5)),
        0.7,
        "sql",
    ));
    lines.push(session(
        "gil",
        2000,
        &stamp(noon - chrono::Duration::days(2)),
        0.8,
        "go",
    ));
    let file = db.dir.path().join("s.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let ok = |args: &[&str]| {
        let out = db.tally(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        out
    };
    ok(&["ingest", file.to_str().unwrap()]);
    let figures = || {
        let streak = json(&ok(&["learning", "streak", "--user", "fay", "--json"]));
        let progress = json(&ok(&[
            "learning", "progress", "--user", "fay", "--period", "month", "--json",
        ]));
        let achievements = json(&ok(&[
            "learning",
            "achievements",
            "--user",
            "fay",
            "--json",
        ]));
        let unlocked: Vec<String> = achievements["achievements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        let everyone = json(&ok(&[
            "learning", "progress", "--period", "month", "--json",
        ]));
        (
            streak["longest_days"].clone(),
            streak["current_days"].clone(),
            progress["overall"].clone(),
            progress["periods"].clone(),
            unlocked,
            everyone["overall"]["sessions"].clone(),
        )
    };
    let before = figures();
    assert_eq!(before.0.as_u64(), Some(120), "{before:?}");
    assert_eq!(before.2["sessions"].as_u64(), Some(121), "{before:?}");
    assert!(before.4.contains(&"streak_100".to_owned()), "{before:?}");
    let config = db.dir.path().join("retention.toml");
    std::fs::write(&config, "[retention]\nraw_days = 30\n").unwrap();
    let run = json(&ok(&[
        "--config",
        config.to_str().unwrap(),
        "retention",
        "run",
        "--json",
    ]));
    assert!(run["raw_rows_deleted"].as_u64().unwrap() >= 90, "{run}");
    assert_eq!(figures(), before);
    // Resending everything after retention stores nothing and counts nothing twice.
    ok(&["ingest", file.to_str().unwrap()]);
    assert_eq!(figures(), before);
    let learners = json(&ok(&["learning", "progress", "--period", "day", "--json"]));
    assert_eq!(learners["learners"].as_u64(), Some(2));
}

#[test]
fn the_learner_dashboard_route_answers_like_the_single_routes() {
    let server = crate::support::TestServer::start();
    let now = chrono::Utc::now();
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Sessions on 40 of the last 60 days, two on some days, quality rising.
    let mut lines = Vec::new();
    for d in 1..=60i64 {
        if d % 3 == 0 {
            continue;
        }
        let quality = 0.5 + 0.4 * (60 - d) as f64 / 60.0;
        lines.push(session(
            "hal",
            d as usize,
            &stamp(now - chrono::Duration::days(d)),
            quality,
            "rust",
        ));
        if d % 5 == 0 {
            lines.push(session(
                "hal",
                100 + d as usize,
                &stamp(now - chrono::Duration::days(d) + chrono::Duration::hours(1)),
                0.9,
                "sql",
            ));
        }
    }
    let http = &server.http;
    assert_eq!(
        http.post("/api/analytics/events", None, lines.join("\n"))
            .status,
        200
    );
    let at = stamp(now);
    let get = |route: &str| {
        let answer = http.get(&format!("/api/analytics/learning/{route}?at={at}"), None);
        assert_eq!(answer.status, 200, "{route}");
        answer.json()
    };
    let page = get("users/hal/dashboard");
    assert_eq!(page["streak"], get("users/hal/streak"));
    assert_eq!(page["achievements"], get("users/hal/achievements"));
    assert_eq!(page["goals"], get("users/hal/goals"));
    assert_eq!(page["topics"], get("users/hal/mastery")["topics"]);
    // Twelve ISO weeks up to today: 78 to 84 days, Monday first, today last.
    let heatmap = page["heatmap"].as_array().unwrap();
    assert!((78..=84).contains(&heatmap.len()), "{}", heatmap.len());
    assert_eq!(heatmap[0]["weekday"], 0);
    assert_eq!(
        heatmap.last().unwrap()["date"].as_str(),
        Some(now.date_naive().to_string().as_str())
    );
    assert_eq!(heatmap.last().unwrap()["week"], 11);
    // Each day's sessions are the day's progress.
    let daily = http
        .get(
            &format!("/api/analytics/learning/progress?user=hal&period=day&at={at}"),
            None,
        )
        .json();
    let by_day: std::collections::HashMap<&str, u64> = daily["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["label"].as_str().unwrap(),
                p["sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    for day in heatmap {
        let expected = by_day
            .get(day["date"].as_str().unwrap())
            .copied()
            .unwrap_or(0);
        assert_eq!(day["sessions"].as_u64(), Some(expected), "{day}");
        assert_eq!(day["level"].as_u64() == Some(0), expected == 0, "{day}");
    }
    assert_eq!(
        heatmap
            .iter()
            .map(|d| d["sessions"].as_u64().unwrap())
            .sum::<u64>(),
        48
    );
    // The rolling average is the mean of the rated sessions of the day and the six before.
    let trend = page["quality_trend"].as_array().unwrap();
    assert_eq!(trend.len(), heatmap.len());
    let last = trend.last().unwrap();
    let window: Vec<f64> = (1..=6i64)
        .filter(|d| d % 3 != 0)
        .flat_map(|d| {
            let mut q = vec![0.5 + 0.4 * (60 - d) as f64 / 60.0];
            if d % 5 == 0 {
                q.push(0.9);
            }
            q
        })
        .collect();
    let mean = window.iter().sum::<f64>() / window.len() as f64;
    assert!(
        (last["rolling_average"].as_f64().unwrap() - mean).abs() < 1e-9,
        "{last}"
    );
    assert!(last["average_quality"].is_null());
    assert_eq!(
        page["weekly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["sessions"].as_u64().unwrap())
            .sum::<u64>(),
        48
    );
}

#[test]
fn exports_cut_progress_goals_and_achievements_to_a_date_range() {
    let server = crate::support::TestServer::start();
    let lines: Vec<String> = (1..=10)
        .map(|d| session("ivy", d, &format!("2026-10-{d:02}T09:00:00Z"), 0.8, "rust"))
        .collect();
    let http = &server.http;
    assert_eq!(
        http.post("/api/analytics/events", None, lines.join("\n"))
            .status,
        200
    );
    let db = &server.db;
    let run = |args: &[&str]| {
        let out = db.tally(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let range = ["--from", "2026-10-03", "--to", "2026-10-05"];
    let export = |what: &str, format: &str, range: &[&str]| {
        let mut args = vec![
            "learning", "export", "--user", "ivy", "--what", what, "--format", format,
        ];
        args.extend(range);
        run(&args)
    };
    // 3, 4 and 5 October: the end day is included.
    let progress: Value = serde_json::from_str(&export("progress", "json", &range)).unwrap();
    assert_eq!(
        progress["overall"]["sessions"].as_u64(),
        Some(3),
        "{progress}"
    );
    let labels: Vec<&str> = progress["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["2026-10-03", "2026-10-04", "2026-10-05"]);
    let csv = export("progress", "csv", &range);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "LEARNING PROGRESS");
    assert_eq!(
        rows[1],
        "Period,Start,Sessions,Exchanges,Minutes,Average Quality,Topics"
    );
    assert_eq!(rows[2], "2026-10-03,2026-10-03,1,5,10.0,0.8,1");
    assert_eq!(rows.len(), 5);
    // Only what was unlocked in the range: the 3-day streak on 3 October.
    let achievements: Value =
        serde_json::from_str(&export("achievements", "json", &range)).unwrap();
    let ids: Vec<&str> = achievements["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["streak_3"], "{achievements}");
    // A goal title a spreadsheet would run is made inert in CSV, kept as is in JSON.
    run(&[
        "goals", "create", "--user", "ivy", "--type", "sessions", "--target", "3", "--title",
        "=1+2",
    ]);
    let goals = export("goals", "csv", &[]);
    assert!(
        goals.contains("1,'=1+2,sessions,3.0,0.0,0.0,active,"),
        "{goals}"
    );
    let goals: Value = serde_json::from_str(&export("goals", "json", &[])).unwrap();
    assert_eq!(goals["items"][0]["title"], "=1+2");
    assert!(!export("goals", "json", &range).contains("=1+2"));
    // The HTTP route answers the same bytes, as a download.
    let answer = http.get(
        "/api/analytics/learning/users/ivy/export?what=progress&format=csv&from=2026-10-03&to=2026-10-05",
        None,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert!(
        answer
            .header("content-disposition")
            .unwrap()
            .contains("tally-learning-ivy-progress.csv")
    );
    assert_eq!(answer.text(), csv);
    let bad = http.get("/api/analytics/learning/users/ivy/export?what=essays", None);
    assert_eq!(bad.status, 400);
    let backwards = http.get(
        "/api/analytics/learning/users/ivy/export?from=2026-10-05&to=2026-10-01",
        None,
    );
    assert_eq!(backwards.status, 400);
}

#[test]
fn weekly_and_monthly_reports_compare_with_the_period_before() {
    let db = TestDb::new();
    let t = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
    // A goal set on 1 October, then sessions: two in week 40 (quality 0.6), five in
    // week 41 (quality 0.9, two topics).
    let set_at = db.analytics.as_of(t("2026-10-01T00:00:00Z"));
    set_at
        .create_learning_goal("jo", "sessions", 6.0, Some("Six sessions".into()), None)
        .unwrap();
    let mut lines = vec![
        session("jo", 1, "2026-10-01T09:00:00Z", 0.6, "rust"),
        session("jo", 2, "2026-10-03T09:00:00Z", 0.6, "rust"),
    ];
    for d in 5..=9 {
        let topic = if d % 2 == 0 { "sql" } else { "rust" };
        lines.push(session(
            "jo",
            10 + d,
            &format!("2026-10-{d:02}T09:00:00Z"),
            0.9,
            topic,
        ));
    }
    db.ingest("s.jsonl", lines.join("\n"));
    // As of Wednesday 14 October the last complete week is 5 to 11 October.
    let report = db
        .analytics
        .learner_report(
            "jo",
            tally_api::LearnerReportPeriod::Week,
            Some(t("2026-10-14T12:00:00Z")),
        )
        .unwrap();
    assert_eq!(report.label, "2026-W41");
    assert_eq!((report.totals.sessions, report.previous.sessions), (5, 2));
    assert_eq!((report.active_days, report.previous_active_days), (5, 2));
    assert!((report.quality_change.unwrap() - 0.3).abs() < 1e-9);
    assert_eq!(report.totals.minutes, 50.0);
    // 1, 3, 5 to 9 October, the missed days bridged by freezes; 10 and 11 October are
    // two missed days, still bridged at the week's end.
    assert_eq!(
        (report.current_streak_days, report.longest_streak_days),
        (7, 7)
    );
    let goal = &report.goals[0];
    assert_eq!((goal.from, goal.to), (2.0, 7.0));
    assert_eq!(format!("{:?}", goal.status), "Completed");
    let mut unlocked: Vec<&str> = report
        .achievements
        .iter()
        .map(|a| a.earned.achievement.id)
        .collect();
    unlocked.sort_unstable();
    // First step was on 1 October, in the week before.
    assert_eq!(unlocked, ["excellent_1", "goals_1", "streak_3", "streak_7"]);
    let topics: Vec<(&str, u64)> = report
        .topics
        .iter()
        .map(|t| (t.topic.as_str(), t.sessions))
        .collect();
    assert_eq!(topics, [("rust", 3), ("sql", 2)]);
    assert_eq!(report.daily.len(), 7);
    // The month before 14 October is September: nothing in it.
    let month = db
        .analytics
        .learner_report(
            "jo",
            tally_api::LearnerReportPeriod::Month,
            Some(t("2026-11-01T12:00:00Z")),
        )
        .unwrap();
    assert_eq!(
        (
            month.label.as_str(),
            month.totals.sessions,
            month.previous.sessions
        ),
        ("2026-10", 7, 0)
    );
    // The command writes Markdown and standalone HTML with the same figures.
    let markdown = db.tally(&[
        "learning",
        "report",
        "--user",
        "jo",
        "--period",
        "week",
        "--at",
        "2026-10-14T12:00:00Z",
    ]);
    assert!(markdown.status.success(), "{markdown:?}");
    let text = String::from_utf8(markdown.stdout).unwrap();
    assert!(
        text.starts_with("# jo · weekly progress 2026-W41"),
        "{text}"
    );
    assert!(text.contains("| Sessions | 5 | 2 | +150 % |"), "{text}");
    assert!(
        text.contains("| Average quality | 0.90 | 0.60 | +30.0 pt |"),
        "{text}"
    );
    assert!(
        text.contains("- Six sessions (6 sessions): 2.00 → 7.00, Completed"),
        "{text}"
    );
    let out = db.dir.path().join("jo.html");
    let html = db.tally(&[
        "learning",
        "report",
        "--user",
        "jo",
        "--period",
        "week",
        "--at",
        "2026-10-14T12:00:00Z",
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(html.status.success(), "{html:?}");
    let html = std::fs::read_to_string(out).unwrap();
    assert!(html.starts_with("<!doctype html>") && !html.contains("<script"));
    assert!(
        html.contains(r#"data-kpi="sessions" data-value="5""#),
        "{html}"
    );
    assert!(html.contains("Unlocked One week"), "{html}");
}

#[test]
fn warming_the_rarity_index_evaluates_each_changed_learner_once() {
    let db = TestDb::new();
    let lines: Vec<String> = ["ana", "ben", "cleo"]
        .iter()
        .enumerate()
        .map(|(i, user)| session(user, i, "2026-10-01T09:00:00Z", 0.9, "algebra"))
        .collect();
    db.ingest("a.jsonl", lines.join("\n"));
    let analytics = tally_api::Analytics::open(db.path()).unwrap();
    assert_eq!(analytics.warm_learning_cache().unwrap(), 3);
    assert_eq!(analytics.warm_learning_cache().unwrap(), 0);
    // Another process stores a session of one learner: only that learner moves.
    db.ingest(
        "b.jsonl",
        session("ben", 10, "2026-10-02T09:00:00Z", 0.8, "algebra"),
    );
    assert_eq!(analytics.warm_learning_cache().unwrap(), 1);
    let at = "2026-10-03T00:00:00Z".parse().unwrap();
    let warm = analytics.learning_achievements("ben", Some(at)).unwrap();
    let cold = tally_api::Analytics::open(db.path())
        .unwrap()
        .learning_achievements("ben", Some(at))
        .unwrap();
    assert_eq!(
        serde_json::to_value(&warm).unwrap(),
        serde_json::to_value(&cold).unwrap()
    );
}

/// A session of `user` in `project` on `day` (of October 2026).
fn project_session(project: &str, user: &str, day: u32) -> String {
    format!(
        r#"{{"kind":"session","id":"{project}-{user}-{day}","project":"{project}","ts":"2026-10-{day:02}T09:00:00Z","user_id":"{user}","duration_s":600,"exchanges":5,"quality":0.9,"topics":["algebra"]}}"#
    )
}

#[test]
fn rarity_for_a_project_counts_its_learners_from_its_sessions_alone() {
    // Alpha: ana on two days, dan once, long ago. Beta: ana and dan on a week of days
    // (a streak, and recent activity), and learners of its own.
    let alpha: Vec<String> = [("ana", 20), ("ana", 21), ("dan", 1)]
        .iter()
        .map(|(user, day)| project_session("alpha", user, *day))
        .collect();
    let mut beta: Vec<String> = Vec::new();
    for user in ["ana", "dan", "bea", "bo"] {
        beta.extend((22..=28).map(|day| project_session("beta", user, day)));
    }
    let both = TestDb::new();
    both.ingest("both.jsonl", [alpha.clone(), beta].concat().join("\n"));
    let only_alpha = TestDb::new();
    only_alpha.ingest("alpha.jsonl", alpha.join("\n"));
    // Dan's alpha session is older than the 30 days of activity rarity counts.
    let at = "2026-11-05T00:00:00Z".parse().unwrap();
    let answer = |db: &TestDb, user: &str| {
        let analytics = tally_api::Analytics::open(db.path())
            .unwrap()
            .limited_to_project(Some("alpha".to_owned()));
        // Twice: the second answer comes from the rarity index the first one filled.
        let first =
            serde_json::to_value(analytics.learning_achievements(user, Some(at)).unwrap()).unwrap();
        let again =
            serde_json::to_value(analytics.learning_achievements(user, Some(at)).unwrap()).unwrap();
        assert_eq!(first, again);
        first
    };
    for user in ["ana", "dan"] {
        let seen = answer(&both, user);
        assert_eq!(
            seen,
            answer(&only_alpha, user),
            "{user}: beta's sessions moved alpha's rarity"
        );
        assert_eq!(seen["active_learners"], 1, "{seen}");
    }
    // Over every project the same learners count beta's sessions.
    let everything = tally_api::Analytics::open(both.path()).unwrap();
    let all = everything.learning_achievements("ana", Some(at)).unwrap();
    assert_eq!(all.active_learners, 4);
}
