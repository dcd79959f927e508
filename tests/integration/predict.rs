//! The skill success predictor end to end: demo telemetry in the real SQLite file,
//! `tally predict train|skill|models|fit|score` through the real binary, and the
//! `/api/analytics/predict/...` routes of the real server.

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use tally_api::{DemoConfig, KeyScope, KeySpec};

use crate::support::{TestDb, TestServer, now};

/// `days` of demo telemetry ending at `end`: about 80 skill invocations a day.
fn demo_db(end: DateTime<Utc>, days: u32) -> TestDb {
    let db = TestDb::new();
    let config = DemoConfig {
        events: 1_000 * u64::from(days),
        days,
        seed: 11,
        end,
    };
    let report = db.analytics.demo(&config, &mut ()).unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    db
}

fn json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

const AT: &str = "2026-11-01T00:00:00Z";

#[test]
fn train_on_demo_data_stores_a_model_with_signal_and_predict_uses_it() {
    let db = demo_db(now(), 30);
    let report = json(&db.tally(&["predict", "train", "--at", AT, "--json"]));
    assert_eq!(report["version"], 1);
    assert_eq!(report["window_to"], "2026-11-01T00:00:00Z");
    assert_eq!(report["window_from"], "2026-10-02T00:00:00Z");
    let (n_train, n_holdout) = (
        report["n_train"].as_u64().unwrap(),
        report["n_holdout"].as_u64().unwrap(),
    );
    assert!(n_train > 1000, "{report}");
    // The most recent 20 % held out.
    let share = n_holdout as f64 / (n_train + n_holdout) as f64;
    assert!((share - 0.2).abs() < 0.001, "{share}");
    let metrics = &report["metrics"];
    let auc = metrics["roc_auc"].as_f64().unwrap();
    assert!(
        auc > 0.6,
        "holdout ROC AUC {auc}: the demo's outcomes depend on context"
    );
    let brier = metrics["brier_score"].as_f64().unwrap();
    let base = metrics["base_rate"].as_f64().unwrap();
    assert!(
        brier < base * (1.0 - base),
        "Brier {brier} beats the base rate {base}"
    );
    let balance = &metrics["class_balance"];
    assert_eq!(
        balance["holdout_completed"].as_u64().unwrap()
            + balance["holdout_failed"].as_u64().unwrap(),
        n_holdout
    );
    let importances = metrics["feature_importances"].as_array().unwrap();
    assert_eq!(importances.len(), 7);
    let total: f64 = importances
        .iter()
        .map(|f| f["importance"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-6, "{total}");
    assert!(!metrics["calibration"].as_array().unwrap().is_empty());

    // A second training replays an earlier window and becomes version 2.
    let earlier = json(&db.tally(&[
        "predict",
        "train",
        "--at",
        "2026-10-25",
        "--days",
        "20",
        "--json",
    ]));
    assert_eq!(earlier["version"], 2);
    assert_eq!(earlier["window_from"], "2026-10-05T00:00:00Z");

    let models = json(&db.tally(&["predict", "models", "--json"]));
    let versions: Vec<i64> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(models[0]["metrics"]["roc_auc"], metrics["roc_auc"]);
    let text = db.tally(&["predict", "models"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("ROC AUC"));

    // The latest model answers, with the features it used.
    let prediction = json(&db.tally(&[
        "predict",
        "skill",
        "--user",
        "dev-001",
        "--skill",
        "commit-helper",
        "--phase",
        "execution",
        "--at",
        AT,
        "--json",
    ]));
    assert_eq!(prediction["model_version"], 2);
    let p = prediction["probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p), "{prediction}");
    assert_eq!(prediction["features"]["workflow_phase"], 1);
    assert_eq!(prediction["features"]["hour_of_day"], 0);
    assert_eq!(
        prediction["features"]["day_of_week"], 6,
        "2026-11-01 is a Sunday"
    );
    let pinned = json(&db.tally(&[
        "predict",
        "skill",
        "--user",
        "dev-001",
        "--skill",
        "commit-helper",
        "--at",
        AT,
        "--version",
        "1",
        "--json",
    ]));
    assert_eq!(pinned["model_version"], 1);
    assert_eq!(pinned["features"]["workflow_phase"], 7, "no phase");
}

#[test]
fn too_little_data_is_a_clear_error_and_stores_nothing() {
    let db = TestDb::new();
    let lines: Vec<String> = (0..150)
        .map(|i| {
            format!(
                r#"{{"kind":"skill","id":"k{i}","ts":"2026-10-20T{:02}:{:02}:00Z","user_id":"u{}","skill":"s","completed":{}}}"#,
                i / 60,
                i % 60,
                i % 3,
                i % 2 == 0
            )
        })
        .collect();
    assert_eq!(db.ingest("skills.jsonl", lines.join("\n")).accepted, 150);
    let output = db.tally(&["predict", "train", "--at", AT]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("too little skill data") && stderr.contains("150 invocations"),
        "{stderr}"
    );
    let output = db.tally(&["predict", "skill", "--user", "u0", "--skill", "s"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("train one first"),
        "{output:?}"
    );
    assert_eq!(
        json(&db.tally(&["predict", "models", "--json"])),
        Value::Array(vec![])
    );
}

#[test]
fn fit_and_score_a_feature_csv_one_probability_per_row_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let header = "hour_of_day,day_of_week,invocation_count_24h,avg_completion_rate_24h,\
                  workflow_phase,session_length_minutes,user_skill_familiarity";
    // Completed when familiarity is high: a rule a forest learns exactly.
    let mut train = format!("{header},label\n");
    for i in 0..300 {
        let familiarity = f64::from(i % 100) / 100.0;
        let label = u8::from(familiarity >= 0.5);
        train.push_str(&format!(
            "{},{},{},0.5,{},{},{familiarity},{label}\n",
            i % 24,
            i % 7,
            i % 9,
            i % 8,
            i % 60
        ));
    }
    let train_path = dir.path().join("train.csv");
    std::fs::write(&train_path, train).unwrap();
    let model = dir.path().join("model.json");
    let fit = crate::support::tally()
        .args(["predict", "fit", "--csv"])
        .arg(&train_path)
        .arg("--out")
        .arg(&model)
        .args(["--trees", "20", "--seed", "3"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(fit.status.success(), "{fit:?}");
    assert!(model.exists());
    assert!(
        !dir.path().join("tally.db").exists(),
        "fit and score open no database"
    );

    let familiarities = [0.9, 0.1, 0.8, 0.2, 0.05];
    let mut score = format!("{header}\n");
    for f in familiarities {
        score.push_str(&format!("12,2,3,0.5,1,10,{f}\n"));
    }
    let score_path = dir.path().join("score.csv");
    std::fs::write(&score_path, score).unwrap();
    let scored = crate::support::tally()
        .args(["predict", "score", "--model"])
        .arg(&model)
        .arg("--csv")
        .arg(&score_path)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(scored.status.success(), "{scored:?}");
    let lines: Vec<f64> = String::from_utf8_lossy(&scored.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(lines.len(), familiarities.len());
    for (p, f) in lines.iter().zip(familiarities) {
        assert_eq!(*p > 0.5, f >= 0.5, "familiarity {f}: p {p}");
    }

    // A bad row is named by line and column.
    std::fs::write(&score_path, format!("{header}\n1,2,3,0.5,1,10,oops\n")).unwrap();
    let bad = crate::support::tally()
        .args(["predict", "score", "--model"])
        .arg(&model)
        .arg("--csv")
        .arg(&score_path)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("user_skill_familiarity"),
        "{stderr}"
    );
}

#[test]
fn predict_routes_train_answer_and_list_with_scopes() {
    // The server's retention job deletes raw events older than 30 days at start: the
    // demo data ends an hour ago and spans 29 days, so it keeps every row.
    let end = (Utc::now() - chrono::Duration::hours(1)).trunc_subsecs(0);
    let at = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let server = TestServer::on(demo_db(end, 29), |_| {});
    let http = &server.http;
    let none = http.get(
        "/api/analytics/predict/skill?user=dev-001&skill=refactor",
        None,
    );
    assert_eq!(
        (none.status, none.error_code()),
        (404, "no_model".to_owned())
    );

    let trained = http.post(
        &format!("/api/analytics/predict/train?at={at}&days=30"),
        None,
        "",
    );
    assert_eq!(trained.status, 200, "{}", trained.text());
    let trained = trained.json();
    assert_eq!(trained["version"], 1);
    assert!(trained["metrics"]["roc_auc"].as_f64().unwrap() > 0.6);

    let answer = http.get(
        &format!("/api/analytics/predict/skill?user=dev-002&skill=refactor&phase=review&at={at}"),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["model_version"], 1);
    assert_eq!(answer["features"]["workflow_phase"], 2);
    // The same question through the CLI gets the same answer.
    let cli = json(&server.db.tally(&[
        "predict", "skill", "--user", "dev-002", "--skill", "refactor", "--phase", "review",
        "--at", &at, "--json",
    ]));
    assert_eq!(cli["probability"], answer["probability"]);

    let models = http.get("/api/analytics/predict/models", None).json();
    assert_eq!(models.as_array().unwrap().len(), 1);
    let one = http.get("/api/analytics/predict/models/1", None);
    assert_eq!(one.json()["n_holdout"], trained["n_holdout"]);
    let missing = http.get("/api/analytics/predict/models/9", None);
    assert_eq!(
        (missing.status, missing.error_code()),
        (404, "no_model".to_owned())
    );
    let bad = http.get("/api/analytics/predict/models/x", None);
    assert_eq!(bad.status, 400);
    let no_user = http.get("/api/analytics/predict/skill?skill=refactor", None);
    assert_eq!(
        (no_user.status, no_user.error_code()),
        (400, "bad_query".to_owned())
    );
    let little = http.post(
        "/api/analytics/predict/train?at=2020-10-02&days=1",
        None,
        "",
    );
    assert_eq!(
        (little.status, little.error_code()),
        (422, "too_little_data".to_owned()),
        "{}",
        little.text()
    );

    // Scopes: training needs admin, reading needs read; a project-limited key is refused.
    let key = |scope: KeyScope, projects: Vec<String>| {
        server
            .db
            .analytics
            .create_key(&KeySpec {
                scope,
                projects,
                name: None,
            })
            .unwrap()
            .secret
    };
    let (read, admin) = (key(KeyScope::Read, vec![]), key(KeyScope::Admin, vec![]));
    let limited = key(KeyScope::Read, vec!["code-review".into()]);
    let train = format!("/api/analytics/predict/train?at={at}");
    assert_eq!(http.post(&train, Some(&read), "").status, 403);
    assert_eq!(http.post(&train, Some(&admin), "").json()["version"], 2);
    assert_eq!(
        http.get("/api/analytics/predict/models", Some(&read))
            .status,
        200
    );
    let refused = http.get("/api/analytics/predict/models", Some(&limited));
    assert_eq!(
        (refused.status, refused.error_code()),
        (403, "all_projects_required".to_owned())
    );
}
