//! Leaderboards and the achievements catalogue over the real server: ranks equal an
//! independent ranking of figures worked out from the sessions written (streaks and
//! session counts by hand, points from each learner's achievements route), ties share a
//! rank ordered by user id, an opted-out learner appears on no leaderboard (API, CLI),
//! a key limited to a project sees only its learners, and bad parameters are refused
//! by name.

use std::fmt::Write;

use chrono::{Duration, TimeZone, Utc};
use serde_json::Value;
use tally_api::{KeyScope, KeySpec};

use crate::support::TestServer;

const AT: &str = "2026-10-20T20:00:00Z";

/// (user, project, consecutive days ending on 20 October, sessions a day, older
/// sessions on 1 to 4 October, after a gap that breaks the streak).
const LEARNERS: &[(&str, &str, i64, i64, i64)] = &[
    ("ana", "alpha", 5, 1, 0),
    ("ben", "alpha", 5, 2, 0),
    ("cy", "alpha", 3, 1, 4),
    ("dee", "alpha", 10, 1, 0),
    ("eve", "alpha", 2, 1, 0),
    ("zz-beta-learner", "beta", 8, 1, 0),
];

fn sessions() -> String {
    let last = Utc.with_ymd_and_hms(2026, 10, 20, 12, 0, 0).unwrap();
    let old = Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap();
    let mut out = String::new();
    for (user, project, days, per_day, older) in LEARNERS {
        let mut times = Vec::new();
        for day in 0..*days {
            for n in 0..*per_day {
                times.push(last - Duration::days(day) + Duration::minutes(30 * n));
            }
        }
        times.extend((0..*older).map(|day| old + Duration::days(day)));
        for (i, ts) in times.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"{{"kind":"session","id":"{user}-{i}","project":"{project}","ts":"{}","user_id":"{user}","duration_s":600,"exchanges":5,"quality":0.95,"topics":["t{}"]}}"#,
                ts.to_rfc3339(),
                i % 4
            );
        }
    }
    out
}

/// (rank, user, value) of users with these values: best first, equal values one rank,
/// ordered by user; the rank is one more than the number of better users.
fn ranked(values: &[(String, u64)]) -> Vec<(u64, String, u64)> {
    let mut out: Vec<(u64, String, u64)> = values
        .iter()
        .map(|(user, value)| {
            let better = values.iter().filter(|(_, v)| v > value).count() as u64;
            (better + 1, user.clone(), *value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    out
}

fn entries(board: &Value) -> Vec<(u64, String, u64)> {
    board["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries: {board}"))
        .iter()
        .map(|e| {
            (
                e["rank"].as_u64().unwrap(),
                e["user"].as_str().unwrap().to_owned(),
                e["value"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn start() -> TestServer {
    let server = TestServer::start();
    let report = server.db.ingest("sessions.jsonl", sessions());
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    server
}

#[test]
fn ranks_equal_an_independent_ranking_and_opt_outs_never_appear() {
    let server = start();
    let http = &server.http;
    let alpha: Vec<&(&str, &str, i64, i64, i64)> =
        LEARNERS.iter().filter(|l| l.1 == "alpha").collect();
    let points = |user: &str| {
        http.get(
            &format!("/api/analytics/learning/users/{user}/achievements?project=alpha&at={AT}"),
            None,
        )
        .json()["points"]
            .as_u64()
            .unwrap()
    };
    let expected = |by: &str, without: &[&str]| {
        let values: Vec<(String, u64)> = alpha
            .iter()
            .filter(|l| !without.contains(&l.0))
            .map(|(user, _, days, per_day, older)| {
                let value = match by {
                    "streak" => *days as u64,
                    "sessions" => (days * per_day + older) as u64,
                    _ => points(user),
                };
                ((*user).to_owned(), value)
            })
            .collect();
        ranked(&values)
    };
    let board = |by: &str| {
        http.get(
            &format!("/api/analytics/learning/leaderboard?project=alpha&by={by}&limit=100&at={AT}"),
            None,
        )
        .json()
    };
    for by in ["streak", "sessions", "points"] {
        assert_eq!(entries(&board(by)), expected(by, &[]), "by {by}");
    }
    // Ties: ana and ben both have a 5-day streak, one rank, by name.
    assert_eq!(
        entries(&board("streak")),
        [
            (1, "dee".to_owned(), 10),
            (2, "ana".to_owned(), 5),
            (2, "ben".to_owned(), 5),
            (4, "cy".to_owned(), 3),
            (5, "eve".to_owned(), 2),
        ]
    );
    let first = &board("sessions")["entries"][0];
    assert_eq!(
        (
            first["user"].as_str(),
            first["sessions"].as_u64(),
            first["streak_days"].as_u64()
        ),
        (Some("ben"), Some(10), Some(5))
    );

    // dee opts out: no leaderboard shows dee, and the others close up.
    let answer = http.post(
        "/api/analytics/learning/users/dee/leaderboard",
        None,
        r#"{"opt_out":true}"#,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["opted_out"], true);
    for by in ["streak", "sessions", "points"] {
        let shown = board(by);
        assert!(!shown.to_string().contains("\"dee\""), "{shown}");
        assert_eq!(entries(&shown), expected(by, &["dee"]), "by {by}");
        assert_eq!(shown["learners"], 4);
        // Every project at once leaves dee out too.
        let all = http
            .get(
                &format!("/api/analytics/learning/leaderboard?by={by}&limit=100&at={AT}"),
                None,
            )
            .json();
        assert!(!all.to_string().contains("\"dee\""), "{all}");
        assert!(all.to_string().contains("zz-beta-learner"), "{all}");
    }
    let db = &server.db;
    for by in ["streak", "sessions", "points"] {
        let out = db.tally(&[
            "learning",
            "leaderboard",
            "--project",
            "alpha",
            "--by",
            by,
            "--at",
            AT,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("ana") && !text.contains("dee"), "{text}");
        let out = db.tally(&[
            "learning",
            "leaderboard",
            "--project",
            "alpha",
            "--by",
            by,
            "--at",
            AT,
            "--json",
        ]);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(entries(&json), expected(by, &["dee"]), "CLI by {by}");
    }
    // Back in, through the CLI: dee leads again.
    let out = db.tally(&["learning", "opt-out", "--user", "dee", "--undo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(entries(&board("streak"))[0], (1, "dee".to_owned(), 10));
    let out = db.tally(&["learning", "opt-out", "--user", "dee"]);
    assert!(out.status.success());
    assert_eq!(entries(&board("streak"))[0], (1, "ana".to_owned(), 5));

    let limited = http
        .get(
            &format!(
                "/api/analytics/learning/leaderboard?project=alpha&by=sessions&limit=2&at={AT}"
            ),
            None,
        )
        .json();
    assert_eq!(limited["entries"].as_array().unwrap().len(), 2);
    assert_eq!(limited["learners"], 4);
    server.stop();
}

#[test]
fn refusals_name_the_parameter_and_keys_see_their_project() {
    let server = start();
    let http = &server.http;
    for (query, parameter) in [
        ("by=speed", "by"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
    ] {
        let answer = http.get(
            &format!("/api/analytics/learning/leaderboard?{query}"),
            None,
        );
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
        assert_eq!(
            answer.json()["error"]["details"]["parameter"],
            parameter,
            "{query}"
        );
    }
    let answer = http.get(
        "/api/analytics/learning/achievements/catalogue?category=luck",
        None,
    );
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["details"]["parameter"], "category");
    let answer = http.post(
        "/api/analytics/learning/users/ana/leaderboard",
        None,
        r#"{"opt_out":"yes"}"#,
    );
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (400, "bad_opt_out")
    );

    let key = server
        .db
        .analytics
        .create_key(&KeySpec {
            scope: KeyScope::Admin,
            projects: vec!["alpha".into()],
            name: None,
        })
        .unwrap()
        .secret;
    let board = http
        .get(
            &format!("/api/analytics/learning/leaderboard?by=streak&at={AT}"),
            Some(&key),
        )
        .json();
    assert_eq!(board["project"], "alpha");
    assert!(!board.to_string().contains("beta"), "{board}");
    let answer = http.get(
        "/api/analytics/learning/leaderboard?project=beta",
        Some(&key),
    );
    assert_eq!(answer.status, 403);
    // Nor may it opt beta's learner out.
    let answer = http.post(
        "/api/analytics/learning/users/zz-beta-learner/leaderboard",
        Some(&key),
        r#"{"opt_out":true}"#,
    );
    assert_eq!(answer.status, 404, "{}", answer.text());
    assert!(
        !server
            .db
            .analytics
            .learner_opted_out("zz-beta-learner")
            .unwrap()
    );
    server.stop();
}

#[test]
fn the_catalogue_shows_locked_achievements_and_progress() {
    let server = start();
    let http = &server.http;
    let all = http
        .get("/api/analytics/learning/achievements/catalogue", None)
        .json();
    assert_eq!(all["total"], 24);
    assert_eq!(all["unlocked"], Value::Null);
    let streaks = http
        .get(
            &format!("/api/analytics/learning/achievements/catalogue?learner=ana&category=streak&project=alpha&at={AT}"),
            None,
        )
        .json();
    let list = streaks["achievements"].as_array().unwrap();
    assert_eq!(list.len(), 5, "{streaks}");
    assert!(list.iter().all(|a| a["category"] == "streak"));
    let by_id = |id: &str| list.iter().find(|a| a["id"] == id).unwrap().clone();
    // A 5-day streak: 3 days reached, 7 days five sevenths of the way.
    assert_eq!(by_id("streak_3")["unlocked"], true);
    assert_eq!(by_id("streak_3")["percent"], 100.0);
    assert_eq!(by_id("streak_7")["unlocked"], false);
    let percent = by_id("streak_7")["percent"].as_f64().unwrap();
    assert!((percent - 500.0 / 7.0).abs() < 1e-9, "{percent}");
    assert_eq!(streaks["unlocked"], 1);
    // The same achievements the learner's achievements route reports as unlocked.
    let mine = http
        .get(
            &format!("/api/analytics/learning/users/ana/achievements?project=alpha&at={AT}"),
            None,
        )
        .json();
    let everything = http
        .get(
            &format!(
                "/api/analytics/learning/achievements/catalogue?learner=ana&project=alpha&at={AT}"
            ),
            None,
        )
        .json();
    let unlocked: Vec<&str> = everything["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["unlocked"] == true)
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let mut reported: Vec<&str> = mine["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    reported.sort_unstable();
    let mut unlocked_sorted = unlocked.clone();
    unlocked_sorted.sort_unstable();
    assert_eq!(unlocked_sorted, reported);
    let out = server.db.tally(&[
        "learning",
        "catalogue",
        "--learner",
        "ana",
        "--category",
        "streak",
        "--project",
        "alpha",
        "--at",
        AT,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("unlocked") && text.contains("locked, 71 %"),
        "{text}"
    );
    server.stop();
}

#[test]
fn the_learners_page_shows_the_leaderboard_without_opted_out_learners() {
    let server = start();
    server
        .db
        .analytics
        .set_learner_opt_out("dee", true)
        .unwrap();
    let api = server
        .http
        .get(
            "/api/analytics/learning/leaderboard?project=alpha&by=streak",
            None,
        )
        .json();
    let seen = crate::support::python_oracle(
        "learners_leaderboard.py",
        &serde_json::json!({"url": format!("{}/analytics/learners?project=alpha", server.http.base)}),
    );
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
    let shown: Vec<(String, String)> = seen["leaderboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_owned(),
                row[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = api["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rank"].to_string(),
                e["user"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(shown, expected, "{seen}");
    assert!(!shown.iter().any(|(_, user)| user == "dee"));
    assert_eq!(seen["catalogue"], 24, "{seen}");
    server.stop();
}
