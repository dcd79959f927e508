//! Experiments end to end: outcome events with a real effect ingested through the real
//! ingest path and judged a win by the real `tally` binary; mismatched variants counted
//! and left out; the demo analyzable without definitions; the HTTP routes.

use serde_json::{Value, json};
use tally_predict::experiment::{Experiment, ExperimentSpec, parse_variants};

use crate::support::{TestDb, TestServer, now};

fn json_of(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A deterministic uniform number in [0, 1) per (user, salt).
fn uniform(user: u64, salt: u64) -> f64 {
    let mut z = user
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(salt.wrapping_mul(0xbf58_476d_1ce4_e5b9));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Outcome records of `users` users of `checkout`, each in its assigned variant: the
/// treatment converts at 40 % against 30 %; latency is the same. Then `wrong` records
/// reporting the other variant.
fn outcome_lines(experiment: &Experiment, users: u64, wrong: u64) -> String {
    let mut lines = String::new();
    for i in 0..users {
        let user = format!("user-{i}");
        let variant = &experiment.assign(&user).unwrap().name;
        let rate = if variant == "treatment" { 0.40 } else { 0.30 };
        let converted = uniform(i, 1) < rate;
        let latency = 200.0 + 100.0 * uniform(i, 2);
        lines.push_str(&format!(
            r#"{{"kind":"outcome","ts":"2026-10-15T12:00:00Z","experiment":"checkout","user_id":"{user}","variant":"{variant}","metrics":{{"converted":{converted},"latency_ms":{latency}}}}}"#
        ));
        lines.push('\n');
    }
    for i in 0..wrong {
        let user = format!("user-{i}");
        let assigned = &experiment.assign(&user).unwrap().name;
        let other = if assigned == "control" {
            "treatment"
        } else {
            "control"
        };
        lines.push_str(&format!(
            r#"{{"kind":"outcome","ts":"2026-10-15T13:00:00Z","experiment":"checkout","user_id":"{user}","variant":"{other}","metrics":{{"converted":true,"latency_ms":1}}}}"#
        ));
        lines.push('\n');
    }
    lines
}

fn checkout() -> Experiment {
    Experiment::new(
        ExperimentSpec {
            key: "checkout".into(),
            variants: parse_variants("control:50,treatment:50").unwrap(),
            ..ExperimentSpec::default()
        },
        now(),
    )
    .unwrap()
}

#[test]
fn a_real_effect_ingested_through_the_real_path_is_a_win() {
    let db = TestDb::new();
    let created = db.tally(&[
        "experiment",
        "create",
        "--experiment",
        "checkout",
        "--variants",
        "control:50,treatment:50",
        "--metric",
        "converted",
        "--guardrail",
        "latency_ms",
        "--hypothesis",
        "one-page checkout converts better",
    ]);
    assert!(created.status.success(), "{created:?}");
    let again = db.tally(&[
        "experiment",
        "create",
        "--experiment",
        "checkout",
        "--variants",
        "a,b",
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // The CLI assigns exactly as the library (and so as GrowthBook's SDKs) does.
    let experiment = checkout();
    for user in ["user-1", "user-2", "alice", "bob@example.com"] {
        let assigned = db.tally(&[
            "experiment",
            "assign",
            "--experiment",
            "checkout",
            "--user",
            user,
        ]);
        assert!(assigned.status.success(), "{assigned:?}");
        assert_eq!(
            String::from_utf8_lossy(&assigned.stdout).trim(),
            experiment.assign(user).unwrap().name
        );
    }

    let report = db.ingest("outcomes.jsonl", outcome_lines(&experiment, 4_000, 25));
    assert_eq!((report.accepted, report.rejected), (4_025, 0));

    let analysis = json_of(&db.tally(&[
        "experiment",
        "analyze",
        "--experiment",
        "checkout",
        "--json",
    ]));
    assert_eq!(analysis["experiment"], "checkout");
    assert_eq!(analysis["assignment"]["mismatched"], 25);
    assert_eq!(analysis["assignment"]["consistent"], 4_000);
    for key in ["chi2", "p_value", "mismatch"] {
        assert!(!analysis["srm"][key].is_null(), "srm.{key}");
    }
    assert_eq!(analysis["srm"]["mismatch"], false);
    let metrics = analysis["metrics"].as_array().unwrap();
    assert_eq!(metrics[0]["metric"], "converted", "primary metric first");
    assert_eq!(metrics[0]["kind"], "binary");
    assert_eq!(metrics[1]["metric"], "latency_ms");
    assert_eq!(metrics[1]["kind"], "continuous");
    for metric in metrics {
        let variants = metric["variants"].as_array().unwrap();
        assert_eq!(variants.len(), 2);
        for variant in variants {
            for key in ["variant", "n", "mean", "variance"] {
                assert!(!variant[key].is_null(), "{key} of {variant}");
            }
        }
        let comparison = &metric["comparisons"][0];
        for key in [
            "variant",
            "baseline",
            "diff",
            "ci_low",
            "ci_high",
            "rel_lift",
            "rel_ci_low",
            "rel_ci_high",
            "t",
            "p_value",
            "p_adjusted",
            "verdict",
        ] {
            assert!(!comparison[key].is_null(), "{key} of {comparison}");
        }
        assert!(comparison.as_object().unwrap().contains_key("df"));
        assert_eq!(comparison["baseline"], "control");
    }
    let converted = &metrics[0]["comparisons"][0];
    assert_eq!(converted["verdict"], "win", "{converted}");
    assert!(converted["ci_low"].as_f64().unwrap() > 0.0);
    assert!((converted["diff"].as_f64().unwrap() - 0.10).abs() < 0.04);
    assert_eq!(metrics[1]["comparisons"][0]["verdict"], "inconclusive");

    // Listing and stopping.
    let listed = json_of(&db.tally(&["experiment", "list", "--json"]));
    assert_eq!(listed[0]["key"], "checkout");
    assert_eq!(listed[0]["status"], "running");
    assert_eq!(listed[0]["primary_metric"], "converted");
    assert!(
        db.tally(&["experiment", "stop", "--experiment", "checkout"])
            .status
            .success()
    );
    let listed = json_of(&db.tally(&["experiment", "list", "--json"]));
    assert_eq!(listed[0]["status"], "stopped");
    assert!(
        !db.tally(&["experiment", "stop", "--experiment", "checkout"])
            .status
            .success()
    );

    // The power calculator answers both ways.
    let plan = json_of(&db.tally(&[
        "experiment",
        "power",
        "--baseline-rate",
        "0.3",
        "--mde",
        "0.03",
        "--json",
    ]));
    assert!(plan["n_per_variant"].as_f64().unwrap() > 3_000.0);
}

#[test]
fn the_demo_is_analyzable_without_definitions() {
    let db = TestDb::new();
    assert!(
        db.tally(&["demo", "--events", "8000", "--days", "10"])
            .status
            .success()
    );
    let listed = json_of(&db.tally(&["experiment", "list", "--json"]));
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["hint-style", "onboarding-v2"]);
    for key in keys {
        let analysis =
            json_of(&db.tally(&["experiment", "analyze", "--experiment", key, "--json"]));
        assert_eq!(analysis["status"], "undefined");
        assert_eq!(analysis["control"], "control");
        assert_eq!(analysis["assignment"]["mismatched"], 0, "{key}");
        assert!(analysis["assignment"]["outcomes"].as_u64().unwrap() > 50);
        let names: Vec<&str> = analysis["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["metric"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["completed", "duration_ms", "rating"]);
        // The text says what a metric is in plain words, not type names.
        let text = db.tally(&["experiment", "analyze", "--experiment", key]);
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("completed (a yes/no rate, "), "{text}");
        for internal in ["Binary", "Continuous", "Secondary", "Primary", "Guardrail"] {
            assert!(!text.contains(internal), "{internal} in {text}");
        }
    }
    let unknown = db.tally(&["experiment", "analyze", "--experiment", "nope"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no experiment \"nope\""));
}

#[test]
fn experiment_routes_define_assign_and_analyze() {
    let server = TestServer::start();
    let http = &server.http;
    let body = json!({
        "key": "checkout",
        "variants": [{"name": "control", "weight": 1}, {"name": "treatment", "weight": 1}],
        "primary_metric": "converted",
        "guardrail_metrics": ["latency_ms"],
    });
    let created = http.post("/api/analytics/experiments/create", None, body.to_string());
    assert_eq!(created.status, 200, "{}", created.text());
    assert_eq!(created.json()["experiment"]["variants"][1]["weight"], 0.5);
    let again = http.post("/api/analytics/experiments/create", None, body.to_string());
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (409, "experiment_exists")
    );
    let bad = http.post(
        "/api/analytics/experiments/create",
        None,
        r#"{"key":"x","variants":"only-one"}"#,
    );
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "bad_experiment")
    );

    let experiment = checkout();
    let assigned = http.get(
        "/api/analytics/experiments/checkout/assign?user=alice",
        None,
    );
    assert_eq!(assigned.status, 200);
    assert_eq!(
        assigned.json()["variant"],
        experiment.assign("alice").unwrap().name.as_str()
    );

    let report = server
        .db
        .ingest("outcomes.jsonl", outcome_lines(&experiment, 3_000, 0));
    assert_eq!(report.accepted, 3_000);
    let analysis = http.get("/api/analytics/experiments/checkout/analysis", None);
    assert_eq!(analysis.status, 200, "{}", analysis.text());
    let analysis = analysis.json();
    assert_eq!(analysis["metrics"][0]["comparisons"][0]["verdict"], "win");
    // A project with data but no outcomes of the experiment: an empty analysis (a
    // project without any data would be refused as unknown).
    let elsewhere = r#"{"kind":"execution","project":"elsewhere","ts":"2026-10-01T00:00:00Z","tool":"t","duration_ms":5,"success":true}"#;
    assert_eq!(server.db.ingest("elsewhere.jsonl", elsewhere).accepted, 1);
    let empty = http
        .get(
            "/api/analytics/experiments/checkout/analysis?project=elsewhere",
            None,
        )
        .json();
    assert_eq!(empty["assignment"]["outcomes"], 0);
    assert!(!empty.to_string().contains("NaN"));

    let unknown = http.get("/api/analytics/experiments/nope/analysis", None);
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (404, "unknown_experiment")
    );
    let listed = http.get("/api/analytics/experiments", None).json();
    assert_eq!(listed[0]["key"], "checkout");
    let plan = http
        .get(
            "/api/analytics/experiments/power?baseline_rate=0.3&n=5000",
            None,
        )
        .json();
    assert!(plan["mde"].as_f64().unwrap() > 0.0);
    // A start after the outcomes leaves them all out.
    let later = json!({"key": "later", "variants": "control,treatment", "start": "2026-10-16"});
    let created = http.post("/api/analytics/experiments/create", None, later.to_string());
    assert_eq!(created.status, 200, "{}", created.text());
    let later_lines = outcome_lines(&experiment, 50, 0).replace("\"checkout\"", "\"later\"");
    assert_eq!(server.db.ingest("later.jsonl", later_lines).accepted, 50);
    let analysis = http
        .get("/api/analytics/experiments/later/analysis", None)
        .json();
    assert_eq!(analysis["assignment"]["outcomes"], 0, "{analysis}");

    let stopped = http.post("/api/analytics/experiments/checkout/stop", None, "");
    assert_eq!(stopped.status, 200);
    let page = http.get("/analytics/experiments", None);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("experiment-analyses"));
}

#[test]
fn the_cli_works_in_a_project_with_project() {
    let db = TestDb::new();
    let create = |project: &str| {
        json_of(&db.tally(&[
            "experiment",
            "create",
            "--experiment",
            "shared",
            "--variants",
            "a,b",
            "--project",
            project,
            "--json",
        ]))
    };
    assert_eq!(create("alpha")["project"], "alpha");
    // The same key in another project, its name given decomposed: stored composed.
    assert_eq!(create("cafe\u{301}")["project"], "caf\u{e9}");
    let listed = json_of(&db.tally(&["experiment", "list", "--project", "alpha", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["project"], "alpha");
    // Without a project the key is ambiguous; with one, only that project's stops.
    assert!(
        !db.tally(&["experiment", "stop", "--experiment", "shared"])
            .status
            .success()
    );
    let stopped = db.tally(&[
        "experiment",
        "stop",
        "--experiment",
        "shared",
        "--project",
        "caf\u{e9}",
    ]);
    assert!(stopped.status.success(), "{stopped:?}");
    let listed = json_of(&db.tally(&["experiment", "list", "--json"]));
    let statuses: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["project"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [("alpha", "running"), ("caf\u{e9}", "stopped")]);
    let goal = json_of(&db.tally(&[
        "goals",
        "create",
        "--user",
        "ana",
        "--type",
        "sessions",
        "--target",
        "3",
        "--project",
        "alpha",
        "--json",
    ]));
    assert_eq!(goal[0]["project"], "alpha", "{goal}");
}
