//! Saved dashboards over HTTP on the real server: create, list, read, replace, delete;
//! every mistake named by its field; the built-in dashboards listed for every key and
//! changed by none; keys limited to a project kept to its dashboards; scopes.

use serde_json::{Value, json};
use tally_api::{KeyScope, KeySpec};

use crate::support::{TestDb, TestServer};

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

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

const COSTS: &str = r#"{"name":"Costs","widgets":[
    {"title":"Spend","view":"cost_series","chart":"line","filters":{"period":"last_30_days"}},
    {"view":"models","chart":"bar","filters":{"model":"gpt-4o"}}]}"#;

#[test]
fn dashboards_are_created_listed_read_replaced_and_deleted() {
    let server = TestServer::start();
    let http = &server.http;
    let listed = http.get("/api/analytics/dashboards", None).json();
    assert_eq!(
        ids(&listed),
        ["executive", "technical"],
        "the built-in ones"
    );
    assert_eq!(listed[0]["builtin"], true);

    let created = http.post("/api/analytics/dashboard", None, COSTS);
    assert_eq!(created.status, 200, "{}", created.text());
    let created = created.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("d-"), "{id}");
    assert_eq!(created["builtin"], false);
    assert_eq!(created["project"], Value::Null);
    assert_eq!(created["widgets"][0]["view"], "cost_series");
    assert_eq!(created["widgets"][0]["filters"]["period"], "last_30_days");
    assert_eq!(created["widgets"][1]["title"], "models", "a default title");

    let path = format!("/api/analytics/dashboard/{id}");
    assert_eq!(http.get(&path, None).json(), created);
    assert_eq!(
        ids(&http.get("/api/analytics/dashboards", None).json()),
        ["executive", "technical", id.as_str()]
    );

    // Moved and removed widgets stay so.
    let replaced = http.send(
        "PUT",
        &path,
        None,
        r#"{"name":"Costs, reordered","widgets":[{"view":"models","chart":"table"},{"view":"summary"}]}"#,
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let read = http.get(&path, None).json();
    assert_eq!(read["name"], "Costs, reordered");
    let views: Vec<&str> = read["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["view"].as_str().unwrap())
        .collect();
    assert_eq!(views, ["models", "summary"]);
    assert_eq!(read["created_at"], created["created_at"]);

    let given = http.post(
        "/api/analytics/dashboard",
        None,
        r#"{"id":"ops-board","name":"Ops","widgets":[]}"#,
    );
    assert_eq!(given.json()["id"], "ops-board", "an id given is kept");
    let again = http.post(
        "/api/analytics/dashboard",
        None,
        r#"{"id":"ops-board","name":"Ops","widgets":[]}"#,
    );
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (409, "dashboard_conflict")
    );

    let deleted = http.send("DELETE", &path, None, "");
    assert_eq!(deleted.json(), json!({"deleted": id}));
    let gone = http.get(&path, None);
    assert_eq!(
        (gone.status, gone.error_code().as_str()),
        (404, "unknown_dashboard")
    );
    let twice = http.send("DELETE", &path, None, "");
    assert_eq!(twice.status, 404);

    // Kept across a restart: stored with the data.
    let db = server.stop();
    let server = TestServer::on(db, |_| {});
    assert_eq!(
        ids(&server.http.get("/api/analytics/dashboards", None).json()),
        ["executive", "technical", "ops-board"]
    );
}

#[test]
fn invalid_dashboards_are_refused_naming_the_field() {
    let server = TestServer::start();
    let cases = [
        (r#"{"widgets":[]}"#, "name"),
        (r#"{"name":"x","colour":"red"}"#, "colour"),
        (r#"{"name":"x","id":"Not An Id"}"#, "id"),
        (
            r#"{"name":"x","widgets":[{"view":"summary"},{"view":"weather"}]}"#,
            "widgets[1].view",
        ),
        (
            r#"{"name":"x","widgets":[{"view":"models","chart":"pie"}]}"#,
            "widgets[0].chart",
        ),
        (
            r#"{"name":"x","widgets":[{"view":"summary","chart":"line"}]}"#,
            "widgets[0].chart",
        ),
        (
            r#"{"name":"x","widgets":[{"view":"tools","filters":{"colour":"red"}}]}"#,
            "widgets[0].filters.colour",
        ),
        (
            r#"{"name":"x","widgets":[{"view":"cost_series","filters":{"model":"gpt-4o"}}]}"#,
            "widgets[0].filters.model",
        ),
        (
            r#"{"name":"x","widgets":[{"view":"qa","filters":{"period":"fortnight"}}]}"#,
            "widgets[0].filters.period",
        ),
        ("not json", "body"),
    ];
    for (body, field) in cases {
        let answer = server.http.post("/api/analytics/dashboard", None, body);
        assert_eq!(answer.status, 400, "{body}: {}", answer.text());
        let error = &answer.json()["error"];
        assert_eq!(error["code"], "bad_dashboard", "{body}");
        assert_eq!(error["details"]["field"], field, "{body}: {error}");
        assert!(
            error["message"].as_str().unwrap().starts_with(field),
            "{error}"
        );
    }
    let many: Vec<Value> = (0..=tally_api::dashboards::MAX_WIDGETS)
        .map(|_| json!({"view": "summary"}))
        .collect();
    let answer = server.http.post(
        "/api/analytics/dashboard",
        None,
        json!({"name": "x", "widgets": many}).to_string(),
    );
    assert_eq!(answer.json()["error"]["details"]["field"], "widgets");
    // Nothing was stored.
    assert_eq!(
        ids(&server.http.get("/api/analytics/dashboards", None).json()),
        ["executive", "technical"]
    );
}

#[test]
fn the_builtin_dashboards_cannot_change() {
    let server = TestServer::start();
    for (method, body) in [("PUT", r#"{"name":"Mine","widgets":[]}"#), ("DELETE", "")] {
        let answer = server
            .http
            .send(method, "/api/analytics/dashboard/executive", None, body);
        assert_eq!(
            (answer.status, answer.error_code().as_str()),
            (409, "dashboard_conflict"),
            "{method}"
        );
    }
    let taken = server.http.post(
        "/api/analytics/dashboard",
        None,
        r#"{"id":"technical","name":"Mine"}"#,
    );
    assert_eq!(taken.status, 409);
    let executive = server
        .http
        .get("/api/analytics/dashboard/executive", None)
        .json();
    assert_eq!(executive["name"], "Executive");
}

#[test]
fn keys_limited_to_a_project_see_and_change_only_its_dashboards() {
    let db = TestDb::new();
    let admin = key(&db, KeyScope::Admin, &[]);
    let read = key(&db, KeyScope::Read, &[]);
    let alpha = key(&db, KeyScope::Admin, &["alpha"]);
    let alpha_read = key(&db, KeyScope::Read, &["alpha"]);
    let both = key(&db, KeyScope::Admin, &["alpha", "beta"]);
    let server = TestServer::on(db, |_| {});
    let http = &server.http;
    let beta = http
        .post(
            "/api/analytics/dashboard",
            Some(&admin),
            r#"{"id":"beta-board","name":"Beta","project":"beta"}"#,
        )
        .json();
    assert_eq!(beta["project"], "beta");
    http.post(
        "/api/analytics/dashboard",
        Some(&admin),
        r#"{"id":"global-board","name":"Everything"}"#,
    );

    // Its only project by default.
    let mine = http.post(
        "/api/analytics/dashboard",
        Some(&alpha),
        r#"{"id":"alpha-board","name":"Alpha","widgets":[{"view":"summary","filters":{"project":"alpha"}}]}"#,
    );
    assert_eq!(mine.json()["project"], "alpha", "{}", mine.text());
    assert_eq!(
        ids(&http
            .get("/api/analytics/dashboards", Some(&alpha_read))
            .json()),
        ["executive", "technical", "alpha-board"]
    );
    assert_eq!(
        ids(&http.get("/api/analytics/dashboards", Some(&read)).json()),
        [
            "executive",
            "technical",
            "alpha-board",
            "beta-board",
            "global-board"
        ]
    );
    for hidden in ["beta-board", "global-board"] {
        let path = format!("/api/analytics/dashboard/{hidden}");
        assert_eq!(http.get(&path, Some(&alpha)).status, 404, "{hidden}");
        let put = http.send("PUT", &path, Some(&alpha), r#"{"name":"Mine"}"#);
        assert_eq!(put.status, 404, "{hidden}");
        assert_eq!(http.send("DELETE", &path, Some(&alpha), "").status, 404);
    }
    assert_eq!(
        http.get("/api/analytics/dashboard/beta-board", Some(&read))
            .json()["name"],
        "Beta",
        "unchanged"
    );

    let refusals = [
        (Some(&alpha), r#"{"name":"x","project":"beta"}"#, "project"),
        (
            Some(&alpha),
            r#"{"name":"x","widgets":[{"view":"summary"},{"view":"summary","filters":{"project":"beta"}}]}"#,
            "widgets[1].filters.project",
        ),
        (Some(&both), r#"{"name":"x"}"#, "project"),
    ];
    for (key, body, field) in refusals {
        let answer = http.post("/api/analytics/dashboard", key.map(String::as_str), body);
        assert_eq!(answer.status, 403, "{body}: {}", answer.text());
        assert_eq!(answer.error_code(), "forbidden_project");
        assert_eq!(answer.json()["error"]["details"]["field"], field, "{body}");
    }
    // A widget of a project's dashboard shows that project only, for any key.
    let other = http.post(
        "/api/analytics/dashboard",
        Some(&admin),
        r#"{"name":"x","project":"alpha","widgets":[{"view":"summary","filters":{"project":"beta"}}]}"#,
    );
    assert_eq!(
        other.json()["error"]["details"]["field"],
        "widgets[0].filters.project"
    );
    // Moving its own dashboard to another project is refused too.
    let moved = http.send(
        "PUT",
        "/api/analytics/dashboard/alpha-board",
        Some(&alpha),
        r#"{"name":"Alpha","project":"beta"}"#,
    );
    assert_eq!(moved.status, 403);

    // Scopes: read reads, admin changes.
    let by_reader = http.post("/api/analytics/dashboard", Some(&read), r#"{"name":"x"}"#);
    assert_eq!(
        (by_reader.status, by_reader.error_code().as_str()),
        (403, "forbidden_scope")
    );
    let deleted = http.send(
        "DELETE",
        "/api/analytics/dashboard/alpha-board",
        Some(&alpha),
        "",
    );
    assert_eq!(deleted.status, 200, "{}", deleted.text());
}

#[test]
fn the_cli_exports_and_imports_dashboards_as_json() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("costs.json");
    std::fs::write(
        &file,
        COSTS.replace("{\"name\"", "{\"id\":\"costs\",\"name\""),
    )
    .unwrap();
    let created = db.tally(&["dashboards", "create", file.to_str().unwrap()]);
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("created dashboard costs"));

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"name":"x","widgets":[{"view":"models","chart":"line"}]}"#,
    )
    .unwrap();
    let refused = db.tally(&["dashboards", "create", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("widgets[0].chart"),
        "{refused:?}"
    );

    let exported = dir.path().join("all.json");
    let export = db.tally(&["dashboards", "export", "--out", exported.to_str().unwrap()]);
    assert!(export.status.success(), "{export:?}");
    let written: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    assert_eq!(
        ids(&written),
        ["costs"],
        "the saved ones, not the built-in ones"
    );

    assert!(
        db.tally(&["dashboards", "delete", "costs"])
            .status
            .success()
    );
    let list = db.tally(&["dashboards", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(ids(&listed), ["executive", "technical"]);

    let import = db.tally(&["dashboards", "import", exported.to_str().unwrap()]);
    assert!(import.status.success(), "{import:?}");
    let again = db.tally(&["dashboards", "import", exported.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 created, 1 replaced"),
        "{again:?}"
    );
    let show = db.tally(&["dashboards", "show", "costs"]);
    let shown: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        shown["widgets"], written[0]["widgets"],
        "the same widgets back"
    );
}
