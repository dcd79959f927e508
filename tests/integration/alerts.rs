//! Alerts end to end: a budget rule in tally.toml evaluated by the real `tally serve`
//! as data arrives, firing across a restart without a second transition, then resolved;
//! and the `/api/alerts` routes on the in-process server: create, read, update, delete,
//! validation naming the field, tally.toml rules refused with 409, the history in pages,
//! and keys limited to a project kept to its rules.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tally_api::{Analytics, Config, KeyScope, KeySpec, SqliteOptions};

use crate::http_serve::{Served, serve_at, terminate};
use crate::support::{TestDb, TestServer, execution_now, tally};

const RULE: &str = r#"
[[alerts]]
name = "budget-70"
rule = "budget"
threshold = 0.7
project = "support-bot"
"#;

fn write_config(dir: &Path, monthly_budget: f64) -> std::path::PathBuf {
    let path = dir.join("tally.toml");
    std::fs::write(
        &path,
        format!(
            "[analytics]\nmonthly_budget = {monthly_budget}\n[server]\nalert_every_secs = 3600\n{RULE}"
        ),
    )
    .unwrap();
    path
}

fn serve_with(db: &TestDb, config: &Path) -> Served {
    serve_at(
        tally()
            .arg("--config")
            .arg(config)
            .arg("--db")
            .arg(db.path()),
        &[],
    )
}

/// Asks `path` until `done` holds of its JSON answer; the server evaluates in the
/// background. Gives up after a minute (a failure, not a measurement).
fn until(served: &Served, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = served.http.get(path, None).json();
        if done(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never got there: {answer}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn history(served: &Served) -> Vec<String> {
    served
        .http
        .get("/api/alerts/history?rule=budget-70", None)
        .json()["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap().to_owned())
        .collect()
}

fn stop(mut served: Served) {
    terminate(&served.child);
    assert!(served.child.wait().unwrap().success());
}

#[test]
fn a_budget_rule_fires_on_ingest_stays_firing_across_a_restart_and_resolves() {
    let db = TestDb::new();
    let config = write_config(db.dir.path(), 10.0);
    let served = serve_with(&db, &config);
    let rules = served.http.get("/api/alerts", None).json();
    assert_eq!(rules[0]["name"], "budget-70");
    assert_eq!(rules[0]["source"], "config");
    // $0.50 each: 16 make $8, 80 % of the $10 budget.
    let body: Vec<String> = (0..16)
        .map(|i| execution_now(&format!("spend-{i}"), "support-bot"))
        .collect();
    let sent = Instant::now();
    let ingested = served
        .http
        .post("/api/analytics/events", None, body.join("\n"));
    assert_eq!(ingested.status, 200, "{}", ingested.text());
    let firing = until(&served, "/api/alerts/firing", |v| {
        v.as_array().is_some_and(|a| !a.is_empty())
    });
    eprintln!("ingest to firing state: {} ms", sent.elapsed().as_millis());
    assert_eq!(firing[0]["name"], "budget-70");
    let value = firing[0]["state"]["last_value"].as_f64().unwrap();
    assert!((value - 0.8).abs() < 1e-9, "{firing}");
    assert_eq!(history(&served), ["firing"]);
    let before = firing[0]["state"]["last_evaluated_at"].clone();
    stop(served);

    // A restart evaluates at once: still firing, no second transition.
    let served = serve_with(&db, &config);
    let rule = until(&served, "/api/alerts/budget-70", |v| {
        v["state"]["last_evaluated_at"] != before
    });
    assert_eq!(rule["state"]["status"], "firing", "{rule}");
    assert_eq!(history(&served), ["firing"]);
    stop(served);

    // A larger budget: $8 is 8 %, the rule resolves.
    let config = write_config(db.dir.path(), 100.0);
    let served = serve_with(&db, &config);
    until(&served, "/api/alerts/firing", |v| {
        v.as_array().is_some_and(Vec::is_empty)
    });
    assert_eq!(history(&served), ["resolved", "firing"]);
    let page = served.http.get("/api/alerts/history?limit=1", None).json();
    assert_eq!(page["transitions"].as_array().unwrap().len(), 1);
    let older = served
        .http
        .get(
            &format!("/api/alerts/history?limit=1&before={}", page["next_before"]),
            None,
        )
        .json();
    assert_eq!(older["transitions"][0]["event"], "firing");
    assert_eq!(older["next_before"], Value::Null);
    stop(served);
}

fn server_with_rule_in_config() -> TestServer {
    let db = TestDb::new();
    let config = Config::parse(
        &format!("{RULE}\n[channels.ops]\nwebhook = \"http://127.0.0.1:9/hook\"\n"),
        "tally.toml",
    )
    .unwrap();
    let analytics = Analytics::open_with(db.path(), config, SqliteOptions::default()).unwrap();
    TestServer::on(
        TestDb {
            dir: db.dir,
            analytics,
        },
        // Evaluated at start only: the tests' own evaluations are the only others.
        |options| options.alert_every = Duration::from_secs(86_400),
    )
}

#[test]
fn rules_are_created_read_updated_and_deleted_with_errors_naming_the_field() {
    let server = server_with_rule_in_config();
    let http = &server.http;
    let rule = json!({"name": "qa", "rule": "qa_failure_rate", "threshold": 0.2,
                      "project": "alpha", "channels": ["ops"], "window_minutes": 30});
    let created = http.post("/api/alerts", None, rule.to_string());
    assert_eq!(created.status, 200, "{}", created.text());
    assert_eq!(created.json()["source"], "stored");
    assert_eq!(created.json()["window_minutes"], 30);
    let again = http.post("/api/alerts", None, rule.to_string());
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (409, "alert_rule_conflict")
    );

    let cases = [
        (
            json!({"name": "x", "rule": "budget", "threshold": -1}),
            "threshold",
        ),
        (
            json!({"name": "x", "rule": "budget", "threshold": 0.5, "channels": ["pager"]}),
            "channels",
        ),
        (
            json!({"name": "x", "rule": "silence", "threshold": 10, "model": "m"}),
            "model",
        ),
        (
            json!({"name": "a b", "rule": "budget", "threshold": 0.5}),
            "name",
        ),
        (
            json!({"name": "x", "rule": "budget", "threshold": 0.5, "threshhold": 1}),
            "threshhold",
        ),
        (
            json!({"name": "x", "rule": "nonsense", "threshold": 0.5}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let answer = http.post("/api/alerts", None, body.to_string());
        assert_eq!(answer.status, 400, "{body}: {}", answer.text());
        let error = answer.json();
        assert_eq!(error["error"]["code"], "bad_alert_rule", "{error}");
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{error}"
        );
    }

    let changed =
        json!({"name": "qa", "rule": "qa_failure_rate", "threshold": 0.3, "project": "alpha"});
    let updated = http.send("PUT", "/api/alerts/qa", None, &changed.to_string());
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(http.get("/api/alerts/qa", None).json()["threshold"], 0.3);
    let renamed = json!({"name": "qa2", "rule": "qa_failure_rate", "threshold": 0.3});
    let answer = http.send("PUT", "/api/alerts/qa", None, &renamed.to_string());
    assert_eq!(answer.json()["error"]["details"]["field"], "name");

    // tally.toml's rule: 409 naming the file.
    let file_rule = json!({"name": "budget-70", "rule": "budget", "threshold": 0.9});
    for answer in [
        http.send("PUT", "/api/alerts/budget-70", None, &file_rule.to_string()),
        http.send("DELETE", "/api/alerts/budget-70", None, ""),
        http.post("/api/alerts", None, file_rule.to_string()),
    ] {
        assert_eq!(answer.status, 409, "{}", answer.text());
        assert!(
            answer.text().contains("defined in tally.toml"),
            "{}",
            answer.text()
        );
    }

    let test = http.post("/api/alerts/qa/test", None, "");
    assert_eq!(test.status, 200, "{}", test.text());
    assert_eq!(test.json()["event"], "test");
    assert_eq!(test.json()["channels"], json!([]));

    assert_eq!(http.send("DELETE", "/api/alerts/qa", None, "").status, 200);
    let gone = http.get("/api/alerts/qa", None);
    assert_eq!(
        (gone.status, gone.error_code().as_str()),
        (404, "unknown_alert_rule")
    );
    assert_eq!(http.send("DELETE", "/api/alerts/qa", None, "").status, 404);
    let bad_limit = http.get("/api/alerts/history?limit=1001", None);
    assert_eq!(bad_limit.json()["error"]["details"]["field"], "limit");
}

#[test]
fn a_key_limited_to_a_project_sees_and_changes_only_its_rules() {
    let server = server_with_rule_in_config();
    let analytics = &server.db.analytics;
    let key = |scope, projects: &[&str]| {
        analytics
            .create_key(&KeySpec {
                scope,
                projects: projects.iter().map(|p| (*p).to_owned()).collect(),
                name: None,
            })
            .unwrap()
            .secret
    };
    let admin = key(KeyScope::Admin, &[]);
    let alpha_admin = key(KeyScope::Admin, &["alpha"]);
    let alpha_read = key(KeyScope::Read, &["alpha"]);
    let http = &server.http;
    let rule = |name: &str, project: Option<&str>| {
        json!({"name": name, "rule": "budget", "threshold": 0.5, "project": project}).to_string()
    };
    assert_eq!(
        http.post("/api/alerts", Some(&alpha_admin), rule("a1", Some("alpha")))
            .status,
        200
    );
    let other = http.post("/api/alerts", Some(&alpha_admin), rule("b1", Some("beta")));
    assert_eq!(
        (other.status, other.error_code().as_str()),
        (403, "forbidden_project")
    );
    let global = http.post("/api/alerts", Some(&alpha_admin), rule("g1", None));
    assert_eq!(
        (global.status, global.error_code().as_str()),
        (403, "forbidden_project")
    );
    assert_eq!(
        http.post("/api/alerts", Some(&admin), rule("b1", Some("beta")))
            .status,
        200
    );
    let read_create = http.post("/api/alerts", Some(&alpha_read), rule("a2", Some("alpha")));
    assert_eq!(
        (read_create.status, read_create.error_code().as_str()),
        (403, "forbidden_scope")
    );

    let names = |key: &str| -> Vec<String> {
        http.get("/api/alerts", Some(key))
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&alpha_read), ["a1"]);
    assert_eq!(names(&admin), ["budget-70", "a1", "b1"]);
    assert_eq!(http.get("/api/alerts/b1", Some(&alpha_read)).status, 404);
    let moved = http.send(
        "PUT",
        "/api/alerts/a1",
        Some(&alpha_admin),
        &rule("a1", Some("beta")),
    );
    assert_eq!(moved.status, 403, "{}", moved.text());
    assert_eq!(
        http.send("DELETE", "/api/alerts/b1", Some(&alpha_admin), "")
            .status,
        404
    );
    assert_eq!(names(&admin), ["budget-70", "a1", "b1"]);

    // Once the server has evaluated (a rule's project measures nothing before it has
    // sent data: the ingest makes it known and pokes the evaluation), both fire: the
    // history a key for alpha reads holds alpha's transition only.
    let sent = http.post(
        "/api/analytics/events",
        Some(&admin),
        execution_now("s1", "support-bot"),
    );
    assert_eq!(sent.status, 200, "{}", sent.text());
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.get("/api/alerts/budget-70", Some(&admin)).json()["state"].is_null() {
        assert!(Instant::now() < deadline, "the server never evaluated");
        std::thread::sleep(Duration::from_millis(20));
    }
    let engine = tally_api::alerts::AlertEngine::new(
        analytics,
        std::sync::Arc::new(tally_api::alerts::LogNotify),
    );
    engine
        .evaluate_all(chrono::Utc::now(), |rule| {
            Ok(tally_api::alerts::Observation {
                value: Some(0.9),
                threshold: rule.threshold,
                firing: true,
                summary: "90 %".into(),
                events: None,
                test: None,
            })
        })
        .unwrap();
    let rules_in = |path: &str, key: &str| -> Vec<String> {
        let answer = http.get(path, Some(key)).json();
        let list = answer.get("transitions").unwrap_or(&answer).clone();
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| {
                t.get("name")
                    .or(t.get("rule"))
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(rules_in("/api/alerts/history", &alpha_read), ["a1"]);
    assert_eq!(rules_in("/api/alerts/firing", &alpha_read), ["a1"]);
    assert_eq!(rules_in("/api/alerts/history", &admin).len(), 3);
    assert_eq!(
        http.get("/api/alerts/history?rule=b1", Some(&alpha_read))
            .status,
        404
    );
}

#[test]
fn the_cli_creates_lists_updates_tests_and_deletes_rules() {
    let db = TestDb::new();
    let config = db.dir.path().join("tally.toml");
    std::fs::write(
        &config,
        format!("{RULE}\n[channels.ops]\nwebhook = \"http://127.0.0.1:9/hook\"\n"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = tally()
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(db.path())
            .args(["alerts"])
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&[
        "create",
        "--name",
        "tools",
        "--rule",
        "failure_rate",
        "--threshold",
        "0.2",
        "--tool",
        "web_search",
        "--channel",
        "ops",
        "--window-minutes",
        "30",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("created alert rule tools"), "{out}");
    let (ok, out, err) = run(&[
        "create",
        "--rule-json",
        r#"{"name":"quiet","rule":"silence","threshold":15,"project":"p1"}"#,
    ]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = run(&[
        "create",
        "--name",
        "bad",
        "--rule",
        "budget",
        "--threshold",
        "-2",
    ]);
    assert!(!ok && err.contains("threshold: -2"), "{err}");
    let (ok, _, err) = run(&[
        "create",
        "--name",
        "bad",
        "--rule",
        "budget",
        "--threshold",
        "0.5",
        "--channel",
        "pager",
    ]);
    assert!(
        !ok && err.contains("channels: no channel \"pager\""),
        "{err}"
    );

    let (ok, out, _) = run(&["update", "tools", "--threshold", "0.4"]);
    assert!(ok, "{out}");
    let (ok, out, _) = run(&["list", "--json"]);
    assert!(ok);
    let rules: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["budget-70", "quiet", "tools"]);
    let tools = &rules[2];
    assert_eq!(
        (tools["threshold"].as_f64(), tools["tool"].as_str()),
        (Some(0.4), Some("web_search"))
    );
    assert_eq!(tools["window_minutes"], 30, "the other fields stay");
    assert_eq!(tools["source"], "stored");
    let (ok, out, _) = run(&["list"]);
    assert!(
        ok && out.contains("not evaluated yet") && out.contains("tool=web_search"),
        "{out}"
    );

    let (ok, _, err) = run(&["update", "budget-70", "--threshold", "0.9"]);
    assert!(
        !ok && err.contains("is defined in") && err.contains("tally.toml"),
        "{err}"
    );
    let (ok, out, err) = run(&["test", "tools", "--json"]);
    assert!(ok, "{err}");
    let sent: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (sent["event"].as_str(), &sent["channels"]),
        (Some("test"), &json!(["ops"]))
    );
    let (ok, out, _) = run(&["history", "--json"]);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["transitions"],
        json!([])
    );
    let (ok, out, _) = run(&["delete", "tools"]);
    assert!(ok && out.contains("deleted alert rule tools"), "{out}");
    let (ok, _, err) = run(&["delete", "tools"]);
    assert!(!ok && err.contains("no alert rule \"tools\""), "{err}");
}
