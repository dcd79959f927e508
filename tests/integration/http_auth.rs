//! Access control over HTTP: keys, scopes, project isolation (reads, exports and
//! writes), revocation, and the loopback-only rule without keys.

use tally_api::{KeyScope, KeySpec};

use crate::support::{TestDb, TestServer, execution_now};

fn key(db: &TestDb, scope: KeyScope, projects: &[&str]) -> String {
    db.analytics
        .create_key(&KeySpec {
            scope,
            projects: projects.iter().map(|p| (*p).to_owned()).collect(),
            name: None,
        })
        .unwrap()
        .secret
}

/// A server whose database holds alpha and beta data and some keys.
struct Setup {
    server: TestServer,
    admin: String,
    read: String,
    ingest: String,
    alpha_read: String,
    alpha_ingest: String,
    both_read: String,
}

fn setup() -> Setup {
    let db = TestDb::new();
    let body = [
        execution_now("a1", "alpha"),
        execution_now("a2", "alpha"),
        execution_now("b1", "beta"),
    ]
    .join("\n");
    let input = tally_api::Input::Bytes {
        name: "seed".into(),
        data: body.as_bytes().into(),
    };
    assert_eq!(db.analytics.ingest(&input).unwrap().accepted, 3);
    Setup {
        admin: key(&db, KeyScope::Admin, &[]),
        read: key(&db, KeyScope::Read, &[]),
        ingest: key(&db, KeyScope::Ingest, &[]),
        alpha_read: key(&db, KeyScope::Read, &["alpha"]),
        alpha_ingest: key(&db, KeyScope::Ingest, &["alpha"]),
        both_read: key(&db, KeyScope::Read, &["alpha", "beta"]),
        server: TestServer::on(db, |_| {}),
    }
}

#[test]
fn routes_need_a_key_of_the_right_scope_once_one_exists() {
    let s = setup();
    let http = &s.server.http;
    let record = execution_now("n1", "alpha");
    // (method, path, key, status, error code) — "" for a success.
    let wrong = format!("tally_{}", "0".repeat(64));
    let cases: Vec<(&str, &str, Option<&str>, u16, &str)> = vec![
        ("get", "/api/analytics/health", None, 200, ""),
        ("get", "/analytics", None, 200, ""),
        ("get", "/analytics/assets/dashboard.js", None, 200, ""),
        ("get", "/api/analytics/summary", None, 401, "missing_key"),
        (
            "get",
            "/api/analytics/summary",
            Some(&wrong),
            401,
            "invalid_key",
        ),
        (
            "get",
            "/api/analytics/summary",
            Some("not-a-key"),
            401,
            "invalid_key",
        ),
        ("get", "/api/openapi.json", None, 401, "missing_key"),
        ("get", "/api/analytics/export/csv", None, 401, "missing_key"),
        ("post", "/api/analytics/events", None, 401, "missing_key"),
        ("get", "/api/analytics/summary", Some(&s.read), 200, ""),
        ("get", "/api/analytics/summary", Some(&s.admin), 200, ""),
        ("get", "/api/openapi.json", Some(&s.read), 200, ""),
        (
            "get",
            "/api/analytics/summary",
            Some(&s.ingest),
            403,
            "forbidden_scope",
        ),
        (
            "get",
            "/api/analytics/export/json",
            Some(&s.ingest),
            403,
            "forbidden_scope",
        ),
        (
            "post",
            "/api/analytics/events",
            Some(&s.read),
            403,
            "forbidden_scope",
        ),
        (
            "post",
            "/api/analytics/track/execution",
            Some(&s.read),
            403,
            "forbidden_scope",
        ),
        ("post", "/api/analytics/events", Some(&s.ingest), 200, ""),
        ("post", "/api/analytics/events", Some(&s.admin), 200, ""),
    ];
    for (method, path, key, status, code) in cases {
        let answer = match method {
            "get" => http.get(path, key),
            _ => http.post(path, key, &record),
        };
        assert_eq!(
            answer.status,
            status,
            "{method} {path} {key:?}: {}",
            answer.text()
        );
        if !code.is_empty() {
            assert_eq!(answer.error_code(), code, "{method} {path}");
        }
        if status == 401 {
            assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        }
    }
}

#[test]
fn a_key_for_alpha_never_sees_beta() {
    let s = setup();
    let http = &s.server.http;
    let executions = |path: &str, key: &str| {
        let answer = http.get(path, Some(key));
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        answer.json()["total_executions"].as_u64().unwrap()
    };
    assert_eq!(executions("/api/analytics/summary", &s.read), 3);
    // One project: the default.
    assert_eq!(executions("/api/analytics/summary", &s.alpha_read), 2);
    assert_eq!(
        executions("/api/analytics/summary?project=alpha", &s.alpha_read),
        2
    );
    assert_eq!(
        executions("/api/analytics/summary?project=beta", &s.both_read),
        1
    );
    let cases = [
        (
            "/api/analytics/summary?project=beta",
            &s.alpha_read,
            "forbidden_project",
        ),
        (
            "/api/analytics/export/json?project=beta",
            &s.alpha_read,
            "forbidden_project",
        ),
        (
            "/api/analytics/export/csv?project=beta",
            &s.alpha_read,
            "forbidden_project",
        ),
        ("/api/analytics/summary", &s.both_read, "project_required"),
        (
            "/api/analytics/summary?project=gamma",
            &s.both_read,
            "forbidden_project",
        ),
    ];
    for (path, key, code) in cases {
        let answer = http.get(path, Some(key));
        assert_eq!(
            (answer.status, answer.error_code().as_str()),
            (403, code),
            "{path}"
        );
        assert!(!answer.text().contains("\"total_executions\""));
    }
    let export = http
        .get("/api/analytics/export/json", Some(&s.alpha_read))
        .json();
    assert_eq!(export["summary"]["total_executions"], 2);
    let csv = http
        .get("/api/analytics/export/csv", Some(&s.alpha_read))
        .text();
    assert!(
        csv.contains("Project,alpha\n") && csv.contains("Total Executions,2\n"),
        "{csv}"
    );
}

#[test]
fn a_key_for_alpha_cannot_write_to_beta() {
    let s = setup();
    let http = &s.server.http;
    let body = [
        execution_now("w1", "alpha"),
        execution_now("w2", "beta"),
        execution_now("w3", "default"),
    ]
    .join("\n");
    let report = http
        .post("/api/analytics/events", Some(&s.alpha_ingest), body)
        .json();
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(report["errors"][0]["field"], "project");
    assert_eq!(report["errors"][0]["id"], "w2");
    assert_eq!(report["errors"][0]["line"], 2);
    assert_eq!(
        report["errors"][0]["message"],
        r#"this key may not write to project "beta"; allowed: alpha"#
    );
    let quarantined = s.server.db.analytics.quarantined(0, 10).unwrap();
    assert_eq!(quarantined.len(), 2);
    assert_eq!(quarantined[0].rejection.rule, "not_allowed");
    let track = http.post(
        "/api/analytics/track/execution",
        Some(&s.alpha_ingest),
        r#"{"project":"beta","tool":"t","duration_ms":1,"success":true}"#,
    );
    assert_eq!(
        (track.status, track.error_code().as_str()),
        (422, "invalid_record")
    );
    let summary = http
        .get("/api/analytics/summary?project=beta", Some(&s.read))
        .json();
    assert_eq!(summary["total_executions"], 1);
}

#[test]
fn revoked_keys_stop_working_and_the_last_revocation_reopens_loopback() {
    let db = TestDb::new();
    let created = db
        .analytics
        .create_key(&KeySpec {
            scope: KeyScope::Read,
            projects: vec![],
            name: Some("ci".into()),
        })
        .unwrap();
    let server = TestServer::on(db, |_| {});
    let http = &server.http;
    assert_eq!(
        http.get("/api/analytics/summary", Some(&created.secret))
            .status,
        200
    );
    let revoked = server
        .db
        .tally(&["keys", "revoke", &created.record.id.to_string()]);
    assert!(revoked.status.success(), "{revoked:?}");
    // No active key is left: on loopback the API is open again.
    assert_eq!(http.get("/api/analytics/summary", None).status, 200);
    let again = server
        .db
        .tally(&["keys", "revoke", &created.record.id.to_string()]);
    assert!(!again.status.success());
}

#[test]
fn keys_cli_prints_the_key_once_and_lists_only_hashes() {
    let db = TestDb::new();
    let output = db.tally(&[
        "keys",
        "create",
        "--scope",
        "ingest",
        "--project",
        "alpha",
        "--name",
        "bot",
    ]);
    assert!(output.status.success(), "{output:?}");
    let secret = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        secret.starts_with("tally_") && secret.len() == 70,
        "{secret}"
    );
    let found = db.analytics.authenticate(&secret).unwrap().unwrap();
    assert_eq!(
        (found.scope, found.projects.as_slice()),
        (KeyScope::Ingest, ["alpha".to_owned()].as_slice())
    );
    let listed = db.tally(&["keys", "list", "--json"]);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(
        !text.contains(&secret[14..]),
        "the secret leaked into the list: {text}"
    );
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list[0]["scope"], "ingest");
    assert_eq!(list[0]["name"], "bot");
    let bad = db.tally(&["keys", "create", "--scope", "root"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected ingest, read or admin"));
    // The stored hash is not the key.
    let conn = rusqlite::Connection::open(db.path()).unwrap();
    let hash: Vec<u8> = conn
        .query_row("SELECT hash FROM api_key", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hash.len(), 32);
    assert!(
        !secret
            .as_bytes()
            .windows(8)
            .any(|w| hash.windows(8).any(|h| h == w))
    );
}

#[test]
fn without_keys_the_server_refuses_to_listen_beyond_loopback() {
    let db = TestDb::new();
    let output = db.tally(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without API keys"),
        "{stderr}"
    );
    // With a key it may.
    key(&db, KeyScope::Admin, &[]);
    let options = tally_api::http::ServerOptions {
        addr: "0.0.0.0:0".parse().unwrap(),
        max_body_bytes: 1024,
        max_batch_records: 10,
        retention_every: tally_api::http::RETENTION_EVERY,
        ..tally_api::http::ServerOptions::default()
    };
    let server = tally_api::http::Server::bind(db.analytics.clone(), &options).unwrap();
    assert!(!server.local_addr().ip().is_loopback());
}

/// Sessions of `user` in `project`, timed in the last days.
fn sessions(project: &str, user: &str, topic: &str) -> String {
    (1..=3)
        .map(|days| {
            let ts = (chrono::Utc::now() - chrono::Duration::days(days))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            format!(
                r#"{{"kind":"session","id":"{project}-{user}-{days}","project":"{project}","ts":"{ts}","user_id":"{user}","duration_s":600,"exchanges":5,"quality":0.9,"topics":["{topic}"]}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_key_for_alpha_cannot_read_or_change_betas_learners_and_experiments() {
    let db = TestDb::new();
    for (project, user, topic) in [("alpha", "al", "algebra"), ("beta", "bea", "biology")] {
        let input = tally_api::Input::Bytes {
            name: project.into(),
            data: sessions(project, user, topic).into_bytes().into(),
        };
        assert_eq!(db.analytics.ingest(&input).unwrap().accepted, 3);
    }
    let alpha_ingest = key(&db, KeyScope::Ingest, &["alpha"]);
    let alpha_read = key(&db, KeyScope::Read, &["alpha"]);
    let alpha_admin = key(&db, KeyScope::Admin, &["alpha"]);
    let beta_ingest = key(&db, KeyScope::Ingest, &["beta"]);
    let admin = key(&db, KeyScope::Admin, &[]);
    let server = TestServer::on(db, |_| {});
    let http = &server.http;

    // Reads: only alpha's learners and alpha's sessions, with or without ?project=.
    let learners = http.get("/api/analytics/learning/learners", Some(&alpha_read));
    assert_eq!(learners.json()["learners"], serde_json::json!(["al"]));
    let progress = http.get("/api/analytics/learning/progress", Some(&alpha_read));
    assert_eq!(
        progress.json()["overall"]["sessions"],
        3,
        "{}",
        progress.text()
    );
    let mastery = http.get(
        "/api/analytics/learning/users/bea/mastery",
        Some(&alpha_read),
    );
    assert_eq!(mastery.json()["topics"], serde_json::json!([]));
    let refused = http.get(
        "/api/analytics/learning/users/bea/mastery?project=beta",
        Some(&alpha_read),
    );
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (403, "forbidden_project")
    );
    // Rarity counts the learners of the key's project only.
    let active = |key: &str| {
        http.get("/api/analytics/learning/users/al/achievements", Some(key))
            .json()["active_learners"]
            .as_u64()
    };
    assert_eq!((active(&alpha_read), active(&admin)), (Some(1), Some(2)));
    // Unlimited keys see every project, or one with ?project=.
    let all = http.get("/api/analytics/learning/progress", Some(&admin));
    assert_eq!(all.json()["overall"]["sessions"], 6);
    let beta = http.get(
        "/api/analytics/learning/progress?project=beta",
        Some(&admin),
    );
    assert_eq!(beta.json()["overall"]["sessions"], 3);

    // Beta's goal: a key for alpha can neither see it nor abandon it.
    let goal = http.post(
        "/api/analytics/learning/users/bea/goals/create",
        Some(&beta_ingest),
        r#"{"kind":"sessions","target":10,"title":"beta's goal"}"#,
    );
    assert_eq!(goal.status, 200, "{}", goal.text());
    let id = goal.json()["id"].as_i64().unwrap();
    assert_eq!(goal.json()["project"], "beta");
    let goals = http.get("/api/analytics/learning/users/bea/goals", Some(&alpha_read));
    assert_eq!(goals.json(), serde_json::json!([]));
    let abandon = http.post(
        &format!("/api/analytics/learning/users/bea/goals/{id}/update"),
        Some(&alpha_ingest),
        r#"{"state":"abandoned"}"#,
    );
    assert_eq!(
        (abandon.status, abandon.error_code().as_str()),
        (404, "unknown_goal")
    );
    // Goals a key for alpha sets count against alpha's quota, never beta's.
    let mut made = 0;
    loop {
        let answer = http.post(
            "/api/analytics/learning/users/bea/goals/create",
            Some(&alpha_ingest),
            r#"{"kind":"sessions","target":3}"#,
        );
        if answer.status == 409 {
            break;
        }
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.json()["project"], "alpha");
        made += 1;
        assert!(made < 100, "no goal quota");
    }
    let second = http.post(
        "/api/analytics/learning/users/bea/goals/create",
        Some(&beta_ingest),
        r#"{"kind":"minutes","target":60}"#,
    );
    assert_eq!(second.status, 200, "{}", second.text());
    let seen_by_beta = http
        .get(
            "/api/analytics/learning/users/bea/goals?project=beta",
            Some(&admin),
        )
        .json();
    let states: Vec<&str> = seen_by_beta
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["active", "active"], "{seen_by_beta}");

    // Experiments: beta's and global ones are invisible to a key for alpha, and it
    // cannot stop them; its own belong to alpha.
    for (body, owner) in [
        (
            r#"{"key":"beta-exp","variants":"a,b","project":"beta"}"#,
            "beta",
        ),
        (r#"{"key":"global-exp","variants":"a,b"}"#, ""),
    ] {
        let created = http.post("/api/analytics/experiments/create", Some(&admin), body);
        assert_eq!(created.status, 200, "{}", created.text());
        let project = &created.json()["experiment"]["project"];
        assert_eq!(project.as_str().unwrap_or(""), owner);
    }
    for key in ["beta-exp", "global-exp"] {
        let stop = http.post(
            &format!("/api/analytics/experiments/{key}/stop"),
            Some(&alpha_admin),
            "",
        );
        assert_eq!(
            (stop.status, stop.error_code().as_str()),
            (404, "unknown_experiment"),
            "{key}"
        );
        let one = http.get(
            &format!("/api/analytics/experiments/{key}"),
            Some(&alpha_read),
        );
        assert_eq!(one.status, 404, "{key}");
        let status = http.get(&format!("/api/analytics/experiments/{key}"), Some(&admin));
        assert_eq!(status.json()["status"], "running", "{key}");
    }
    let own = http.post(
        "/api/analytics/experiments/create",
        Some(&alpha_admin),
        r#"{"key":"alpha-exp","variants":"a,b"}"#,
    );
    assert_eq!(
        own.json()["experiment"]["project"],
        "alpha",
        "{}",
        own.text()
    );
    let other = http.post(
        "/api/analytics/experiments/create",
        Some(&alpha_admin),
        r#"{"key":"alpha-exp-2","variants":"a,b","project":"beta"}"#,
    );
    assert_eq!(
        (other.status, other.error_code().as_str()),
        (403, "forbidden_project")
    );
    let listed = http
        .get("/api/analytics/experiments", Some(&alpha_read))
        .json();
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["alpha-exp"]);
    let stopped = http.post(
        "/api/analytics/experiments/alpha-exp/stop",
        Some(&alpha_admin),
        "",
    );
    assert!(
        stopped.json()["stopped_at"].is_string(),
        "{}",
        stopped.text()
    );
}

/// Outcome events of experiment `key` in `project`, one user each.
fn outcomes(project: &str, key: &str, users: usize) -> String {
    (0..users)
        .map(|i| {
            let variant = if i % 2 == 0 { "control" } else { "treatment" };
            format!(
                r#"{{"kind":"outcome","project":"{project}","ts":"2026-10-15T12:00:00Z","experiment":"{key}","user_id":"{project}-u{i}","variant":"{variant}","metrics":{{"converted":true}}}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn experiment_keys_belong_to_their_project_and_say_nothing_of_the_others() {
    let db = TestDb::new();
    let input = tally_api::Input::Bytes {
        name: "outcomes".into(),
        data: [
            outcomes("alpha", "shared", 4),
            outcomes("beta", "shared", 10),
            outcomes("beta", "beta-only", 6),
        ]
        .join("\n")
        .into_bytes()
        .into(),
    };
    assert_eq!(db.analytics.ingest(&input).unwrap().accepted, 20);
    let admin = key(&db, KeyScope::Admin, &[]);
    let alpha_admin = key(&db, KeyScope::Admin, &["alpha"]);
    let alpha_read = key(&db, KeyScope::Read, &["alpha"]);
    let server = TestServer::on(db, |_| {});
    let http = &server.http;
    let create =
        |key: &str, body: &str| http.post("/api/analytics/experiments/create", Some(key), body);

    // Beta defines `shared`; alpha may define its own `shared` (no 409 telling it beta
    // has one), and a key only beta's outcomes use.
    let betas = create(
        &admin,
        r#"{"key":"shared","variants":"control,treatment","project":"beta"}"#,
    );
    assert_eq!(betas.status, 200, "{}", betas.text());
    for body in [
        r#"{"key":"shared","variants":"control,treatment"}"#,
        r#"{"key":"beta-only","variants":"control,treatment"}"#,
    ] {
        let own = create(&alpha_admin, body);
        assert_eq!(own.status, 200, "{body}: {}", own.text());
        assert_eq!(own.json()["experiment"]["project"], "alpha");
    }
    let again = create(
        &alpha_admin,
        r#"{"key":"shared","variants":"control,treatment"}"#,
    );
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (409, "experiment_exists")
    );

    // Every answer about an experiment of alpha counts alpha's outcomes only, whoever
    // asks: the key only beta's outcomes use has none.
    let outcomes_of = |path: &str, key: &str| {
        let answer = http.get(path, Some(key));
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        answer.json()["assignment"]["outcomes"].as_u64().unwrap()
    };
    let analysis = "/api/analytics/experiments/shared/analysis";
    assert_eq!(outcomes_of(analysis, &alpha_read), 4);
    assert_eq!(outcomes_of(&format!("{analysis}?project=alpha"), &admin), 4);
    assert_eq!(outcomes_of(&format!("{analysis}?project=beta"), &admin), 10);
    let beta_only = "/api/analytics/experiments/beta-only/analysis";
    assert_eq!(outcomes_of(beta_only, &alpha_read), 0);
    assert_eq!(outcomes_of(beta_only, &admin), 0);

    // A key defined in two projects must be asked for with its project; stopping beta's
    // leaves alpha's running.
    let ambiguous = http.get("/api/analytics/experiments/shared", Some(&admin));
    assert_eq!(
        (ambiguous.status, ambiguous.error_code().as_str()),
        (400, "bad_experiment")
    );
    let stopped = http.post(
        "/api/analytics/experiments/shared/stop?project=beta",
        Some(&admin),
        "",
    );
    assert_eq!(stopped.json()["project"], "beta", "{}", stopped.text());
    let alphas = http
        .get("/api/analytics/experiments/shared", Some(&alpha_read))
        .json();
    assert_eq!(
        (alphas["project"].as_str(), alphas["status"].as_str()),
        (Some("alpha"), Some("running"))
    );
    let listed = http.get("/api/analytics/experiments", Some(&admin)).json();
    let mut owners: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_owned(),
                e["project"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    owners.sort();
    assert_eq!(
        owners,
        [
            ("beta-only", "alpha"),
            ("shared", "alpha"),
            ("shared", "beta")
        ]
        .map(|(k, p)| (k.to_owned(), p.to_owned()))
    );
}

#[test]
fn key_projects_and_project_parameters_are_read_as_ingest_stores_names() {
    let db = TestDb::new();
    // Stored under the composed name, whatever form the record used.
    let input = tally_api::Input::Bytes {
        name: "cafe".into(),
        data: execution_now("c1", "cafe\u{301}").into_bytes().into(),
    };
    assert_eq!(db.analytics.ingest(&input).unwrap().accepted, 1);
    let decomposed = "cafe\u{301}";
    let output = db.tally(&["keys", "create", "--scope", "read", "--project", decomposed]);
    assert!(output.status.success(), "{output:?}");
    let secret = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let found = db.analytics.authenticate(&secret).unwrap().unwrap();
    assert_eq!(found.projects, ["caf\u{e9}"]);
    let bidi = db.tally(&[
        "keys",
        "create",
        "--scope",
        "read",
        "--project",
        "a\u{202E}b",
    ]);
    assert!(!bidi.status.success());
    assert!(
        String::from_utf8_lossy(&bidi.stderr).contains("bidirectional"),
        "{bidi:?}"
    );
    let admin = key(&db, KeyScope::Admin, &[]);
    let server = TestServer::on(db, |_| {});
    let http = &server.http;
    // Decomposed in the query (percent-encoded UTF-8): the composed project's data.
    for (path, credential) in [
        ("/api/analytics/summary?project=cafe%CC%81", &admin),
        ("/api/analytics/summary?project=cafe%CC%81", &secret),
        ("/api/analytics/summary", &secret),
    ] {
        let answer = http.get(path, Some(credential));
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        assert_eq!(answer.json()["total_executions"], 1, "{path}");
    }
    let refused = http.get("/api/analytics/summary?project=a%E2%80%AEb", Some(&admin));
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (400, "bad_query")
    );
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("project ") && message.contains("bidirectional"),
        "{message}"
    );
}
