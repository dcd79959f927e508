//! Every route of the OpenAPI document against every kind of credential, over a
//! database holding two projects: no key, an invalid key, and keys of each scope both
//! unlimited and limited to `alpha`. Scope rules answer 401 and 403; a key limited to
//! `alpha` never reads `beta`'s data (nothing of `beta`'s appears in a 2xx answer, and
//! a learner's answer about `beta`'s learner is the answer about a stranger) and never
//! changes `beta`'s state. A route the document lists that the table below does not
//! know fails the test, so a new route cannot forget its isolation.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;
use tally_api::alerts::{AlertEngine, LogNotify, Observation};
use tally_api::experiment::ExperimentSpec;
use tally_api::{Analytics, KeyScope, KeySpec};

use crate::support::{Answer, TestDb, TestServer};

/// Every identifier of `beta`'s data contains this, and nothing of `alpha`'s does.
const BETA: &str = "beta";
/// A global experiment: a key limited to projects may not see it either.
const GLOBAL_EXPERIMENT: &str = "global-exp";
const BETA_USER: &str = "zz-beta-user";
const BETA_EXPERIMENT: &str = "zz-beta-exp";
const BETA_SESSION: &str = "zz-beta-session";
/// Beta's trace (an execution an OpenTelemetry span became); its spans name beta.
const BETA_TRACE: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
/// An OTLP/JSON export of one span that is not a GenAI span: taken, and nothing stored.
const OTLP_BODY: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"tally.project","value":{"stringValue":"beta"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"GET /","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000"}]}]}]}"#;
/// A user nobody has heard of: what a key limited to alpha must learn about beta's.
const STRANGER: &str = "zz-stranger";
/// Alert rules: beta's, alpha's, and one without a project (for unlimited keys only).
const BETA_ALERT: &str = "zz-beta-alert";
const ALPHA_ALERT: &str = "alpha-alert";
const GLOBAL_ALERT: &str = "global-exp-alert";
/// Beta's saved dashboard.
const BETA_DASHBOARD: &str = "zz-beta-dashboard";

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Public,
    Read,
    Ingest,
    Admin,
}

impl Needs {
    fn allows(self, scope: KeyScope) -> bool {
        match self {
            Needs::Public => true,
            Needs::Read => matches!(scope, KeyScope::Read | KeyScope::Admin),
            Needs::Ingest => matches!(scope, KeyScope::Ingest | KeyScope::Admin),
            Needs::Admin => scope == KeyScope::Admin,
        }
    }
}

/// What a key limited to alpha gets from a route its scope allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limited {
    /// Served within alpha.
    Served,
    /// Refused with 403 and this code.
    Refused(&'static str),
}

/// One route the test knows: how to call it and what it must answer.
struct Expect {
    method: &'static str,
    path: &'static str,
    needs: Needs,
    limited: Limited,
    /// The body of a `POST` (it may name beta: a write a key for alpha must not make).
    body: &'static str,
}

const fn get(path: &'static str, needs: Needs) -> Expect {
    Expect {
        method: "GET",
        path,
        needs,
        limited: Limited::Served,
        body: "",
    }
}

const fn post(path: &'static str, needs: Needs, body: &'static str) -> Expect {
    Expect {
        method: "POST",
        path,
        needs,
        limited: Limited::Served,
        body,
    }
}

const fn put(path: &'static str, needs: Needs, body: &'static str) -> Expect {
    Expect {
        method: "PUT",
        path,
        needs,
        limited: Limited::Served,
        body,
    }
}

const fn delete(path: &'static str, needs: Needs) -> Expect {
    Expect {
        method: "DELETE",
        path,
        needs,
        limited: Limited::Served,
        body: "",
    }
}

const fn refused(mut expect: Expect, code: &'static str) -> Expect {
    expect.limited = Limited::Refused(code);
    expect
}

const BETA_RECORD: &str = r#"{"kind":"execution","id":"zz-beta-new","project":"beta","ts":"2026-10-01T00:00:00Z","tool":"zz-beta-tool","duration_ms":5,"success":true}"#;

/// Every route of the server. Adding a route to the server without adding it here fails
/// `every_route_keeps_every_key_to_its_scope_and_projects`.
const ROUTES: &[Expect] = &[
    get("/", Needs::Public),
    get("/analytics", Needs::Public),
    get("/analytics/tools", Needs::Public),
    get("/analytics/agents", Needs::Public),
    get("/analytics/experiments", Needs::Public),
    get("/analytics/learners", Needs::Public),
    get("/analytics/traces", Needs::Public),
    get("/analytics/events", Needs::Public),
    get("/analytics/assets/dashboard.css", Needs::Public),
    get("/analytics/assets/dashboard.js", Needs::Public),
    get("/analytics/assets/uplot.js", Needs::Public),
    get("/analytics/assets/uplot.css", Needs::Public),
    get("/analytics/docs/events", Needs::Public),
    get("/analytics/assets/events.js", Needs::Public),
    get("/analytics/assets/compare.js", Needs::Public),
    get("/analytics/assets/leaderboard.js", Needs::Public),
    get("/analytics/dashboards", Needs::Public),
    get("/analytics/assets/dashboards.js", Needs::Public),
    get("/analytics/assets/live.js", Needs::Public),
    get("/api/analytics/health", Needs::Public),
    get("/api/openapi.json", Needs::Read),
    refused(get("/metrics", Needs::Read), "forbidden_project"),
    get("/api/analytics/summary", Needs::Read),
    get("/api/analytics/projects", Needs::Read),
    get("/api/analytics/models", Needs::Read),
    get("/api/analytics/tools", Needs::Read),
    get("/api/analytics/learning", Needs::Read),
    get("/api/analytics/agents", Needs::Read),
    get("/api/analytics/timeseries", Needs::Read),
    get("/api/analytics/qa", Needs::Read),
    get("/api/analytics/costs", Needs::Read),
    get("/api/analytics/budget", Needs::Read),
    get("/api/analytics/capacity", Needs::Read),
    get("/api/analytics/pipeline", Needs::Read),
    get("/api/analytics/risks", Needs::Read),
    get("/api/analytics/recommendations", Needs::Read),
    get("/api/analytics/real-time", Needs::Read),
    get("/api/analytics/realtime", Needs::Read),
    get("/api/analytics/requests", Needs::Read),
    get("/api/analytics/engagement", Needs::Read),
    get("/api/analytics/engagement/cohorts", Needs::Read),
    get("/api/analytics/trends", Needs::Read),
    get("/api/analytics/forecast", Needs::Read),
    get("/api/analytics/anomalies", Needs::Read),
    get("/api/analytics/export/json", Needs::Read),
    get("/api/analytics/export/events", Needs::Read),
    get("/api/analytics/export/csv", Needs::Read),
    get("/api/analytics/export/sections", Needs::Read),
    get("/api/analytics/export/schema.xsd", Needs::Public),
    get("/api/analytics/reports/{kind}", Needs::Read),
    get("/api/analytics/traces", Needs::Read),
    get("/api/analytics/traces/{trace_id}", Needs::Read),
    get("/api/analytics/events", Needs::Read),
    post("/v1/traces", Needs::Ingest, OTLP_BODY),
    post("/v1/metrics", Needs::Ingest, "{}"),
    post("/v1/logs", Needs::Ingest, "{}"),
    post("/api/analytics/events", Needs::Ingest, BETA_RECORD),
    post("/api/analytics/track/{kind}", Needs::Ingest, BETA_RECORD),
    post(
        "/api/analytics/session/start",
        Needs::Ingest,
        r#"{"project":"beta","user_id":"zz-beta-user"}"#,
    ),
    post(
        "/api/analytics/session/{id}/end",
        Needs::Ingest,
        r#"{"project":"beta"}"#,
    ),
    get("/api/analytics/experiments", Needs::Read),
    post(
        "/api/analytics/experiments/create",
        Needs::Admin,
        // Beta's experiment key: each project (and the global experiments) has its own.
        r#"{"key":"zz-beta-exp","variants":"control,treatment"}"#,
    ),
    get("/api/analytics/experiments/power", Needs::Read),
    get("/api/analytics/experiments/{key}", Needs::Read),
    get("/api/analytics/experiments/{key}/assign", Needs::Read),
    get("/api/analytics/experiments/{key}/analysis", Needs::Read),
    post("/api/analytics/experiments/{key}/stop", Needs::Admin, ""),
    get("/api/analytics/learning/learners", Needs::Read),
    get("/api/analytics/learning/progress", Needs::Read),
    get("/api/analytics/learning/users/{user}/streak", Needs::Read),
    get("/api/analytics/learning/users/{user}/mastery", Needs::Read),
    get("/api/analytics/learning/users/{user}/goals", Needs::Read),
    post(
        "/api/analytics/learning/users/{user}/goals/create",
        Needs::Ingest,
        r#"{"kind":"sessions","target":3}"#,
    ),
    post(
        "/api/analytics/learning/users/{user}/goals/{id}/update",
        Needs::Ingest,
        r#"{"state":"abandoned"}"#,
    ),
    get(
        "/api/analytics/learning/users/{user}/achievements",
        Needs::Read,
    ),
    get(
        "/api/analytics/learning/users/{user}/dashboard",
        Needs::Read,
    ),
    get("/api/analytics/learning/users/{user}/export", Needs::Read),
    get("/api/analytics/learning/users/{user}/report", Needs::Read),
    get("/api/analytics/learning/users/{user}/insights", Needs::Read),
    get("/api/analytics/learning/leaderboard", Needs::Read),
    get(
        "/api/analytics/learning/achievements/catalogue",
        Needs::Read,
    ),
    post(
        "/api/analytics/learning/users/{user}/leaderboard",
        Needs::Ingest,
        r#"{"opt_out":true}"#,
    ),
    get("/api/alerts", Needs::Read),
    get("/api/alerts/history", Needs::Read),
    get("/api/alerts/firing", Needs::Read),
    get("/api/alerts/{name}", Needs::Read),
    refused(
        post(
            "/api/alerts",
            Needs::Admin,
            r#"{"name":"zz-beta-alert-2","rule":"budget","threshold":0.5,"project":"beta"}"#,
        ),
        "forbidden_project",
    ),
    post("/api/alerts/{name}/test", Needs::Admin, ""),
    put(
        "/api/alerts/{name}",
        Needs::Admin,
        r#"{"name":"zz-beta-alert","rule":"budget","threshold":0.6,"project":"beta"}"#,
    ),
    delete("/api/alerts/{name}", Needs::Admin),
    get("/api/analytics/dashboards", Needs::Read),
    refused(
        post(
            "/api/analytics/dashboard",
            Needs::Admin,
            r#"{"name":"zz-beta-board","project":"beta","widgets":[{"view":"summary"}]}"#,
        ),
        "forbidden_project",
    ),
    get("/api/analytics/dashboard/{id}", Needs::Read),
    put(
        "/api/analytics/dashboard/{id}",
        Needs::Admin,
        r#"{"name":"zz-beta-board","project":"beta","widgets":[{"view":"models"}]}"#,
    ),
    delete("/api/analytics/dashboard/{id}", Needs::Admin),
    // One event (ready), then the stream ends: `max_events` is filled below.
    get("/api/analytics/live", Needs::Read),
    refused(
        post("/api/analytics/predict/train", Needs::Admin, "{}"),
        "all_projects_required",
    ),
    refused(
        get("/api/analytics/predict/skill", Needs::Read),
        "all_projects_required",
    ),
    refused(
        get("/api/analytics/predict/models", Needs::Read),
        "all_projects_required",
    ),
    refused(
        get("/api/analytics/predict/models/{version}", Needs::Read),
        "all_projects_required",
    ),
];

/// A caller.
#[derive(Debug, Clone)]
enum Credential {
    None,
    Invalid,
    Key {
        scope: KeyScope,
        alpha_only: bool,
        secret: String,
    },
}

impl Credential {
    fn secret(&self) -> Option<&str> {
        match self {
            Credential::None => None,
            Credential::Invalid => {
                Some("tally_0000000000000000000000000000000000000000000000000000000000000000")
            }
            Credential::Key { secret, .. } => Some(secret),
        }
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Both projects' telemetry, timed within the last days so every default range sees it.
fn seed(db: &TestDb, now: DateTime<Utc>) {
    let mut lines = Vec::new();
    for (project, user, prefix, trace) in [
        ("alpha", "ada", "alpha", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("beta", BETA_USER, "zz-beta", BETA_TRACE),
    ] {
        for hours in [2, 26, 50] {
            let ts = stamp(now - Duration::hours(hours));
            lines.push(format!(
                r#"{{"kind":"execution","id":"{prefix}-x{hours}","project":"{project}","ts":"{ts}","tool":"{prefix}-tool","agent_id":"{prefix}-agent","model":"{prefix}-model","duration_ms":40,"success":{},"cost_usd":0.5,"input_tokens":10,"output_tokens":5}}"#,
                hours != 50
            ));
            lines.push(format!(
                r#"{{"kind":"execution","id":"{prefix}-span{hours}","project":"{project}","ts":"{ts}","tool":"{prefix}-tool","task_id":"{trace}","duration_ms":40,"success":true,"attrs":{{"otel.span_id":"{prefix}-span{hours}","otel.span_name":"{prefix}-root"}}}}"#
            ));
            lines.push(format!(
                r#"{{"kind":"session","id":"{prefix}-s{hours}","project":"{project}","ts":"{ts}","user_id":"{user}","duration_s":600,"exchanges":5,"quality":0.9,"topics":["{prefix}-topic"]}}"#
            ));
            lines.push(format!(
                r#"{{"kind":"skill","id":"{prefix}-k{hours}","project":"{project}","ts":"{ts}","user_id":"{user}","skill":"{prefix}-skill","completed":true}}"#
            ));
            lines.push(format!(
                r#"{{"kind":"agent_status","id":"{prefix}-g{hours}","project":"{project}","ts":"{ts}","agent_id":"{prefix}-agent","active_tasks":1,"queued_tasks":0,"capacity":2}}"#
            ));
            lines.push(format!(
                r#"{{"kind":"error","id":"{prefix}-e{hours}","project":"{project}","ts":"{ts}","source":"{prefix}-source","message":"{prefix} failed","severity":"error"}}"#
            ));
            for (i, variant) in ["control", "treatment"].iter().enumerate() {
                lines.push(format!(
                    r#"{{"kind":"outcome","id":"{prefix}-o{hours}-{i}","project":"{project}","ts":"{ts}","experiment":"{prefix}-exp","user_id":"{prefix}-u{hours}{i}","variant":"{variant}","metrics":{{"converted":true}}}}"#
                ));
            }
        }
    }
    let input = tally_api::Input::Bytes {
        name: "matrix".into(),
        data: lines.join("\n").into_bytes().into(),
    };
    let report = db.analytics.ingest(&input).unwrap();
    assert_eq!(report.rejected, 0, "{report:?}");
    let spec = |key: &str| ExperimentSpec {
        key: key.to_owned(),
        variants: vec![("control".into(), 1.0), ("treatment".into(), 1.0)],
        ..ExperimentSpec::default()
    };
    // A setting of beta's learner: a key for alpha must not see it either.
    db.analytics
        .set_learner_time_zone(BETA_USER, "Asia/Tokyo")
        .unwrap();
    let beta = db.analytics.limited_to_project(Some(BETA.to_owned()));
    beta.create_experiment(spec(BETA_EXPERIMENT)).unwrap();
    beta.create_learning_goal(
        BETA_USER,
        "sessions",
        10.0,
        Some("zz-beta-goal".into()),
        None,
    )
    .unwrap();
    db.analytics
        .create_experiment(spec(GLOBAL_EXPERIMENT))
        .unwrap();
    db.analytics
        .limited_to_project(Some("alpha".to_owned()))
        .create_experiment(spec("alpha-exp"))
        .unwrap();
    for (name, project) in [
        (BETA_ALERT, Some(BETA)),
        (ALPHA_ALERT, Some("alpha")),
        (GLOBAL_ALERT, None),
    ] {
        let rule = serde_json::json!({"name": name, "rule": "budget", "threshold": 0.5, "project": project});
        db.analytics
            .create_alert_rule(serde_json::from_value(rule).unwrap(), None)
            .unwrap();
    }
    let board = serde_json::json!({"id": BETA_DASHBOARD, "name": "zz-beta-board", "project": BETA, "widgets": [{"view": "summary"}]});
    db.analytics
        .create_dashboard(
            tally_api::dashboards::DashboardSpec::from_json(&board).unwrap(),
            None,
        )
        .unwrap();
    // Every rule fires once: each has a state and a transition in the history.
    let engine = AlertEngine::new(&db.analytics, std::sync::Arc::new(LogNotify));
    engine
        .evaluate_all(now, |rule| {
            Ok(Observation {
                value: Some(0.9),
                threshold: rule.threshold,
                firing: true,
                summary: "90 % of the monthly budget".into(),
                events: None,
                test: None,
            })
        })
        .unwrap();
}

/// What stands for beta's state: a key limited to alpha must leave it as it was.
fn beta_state(analytics: &Analytics) -> Value {
    let beta = analytics.limited_to_project(Some(BETA.to_owned()));
    let filter = tally_api::Filter {
        project: Some(BETA.to_owned()),
        ..tally_api::Filter::default()
    };
    serde_json::json!({
        "goals": beta.learning_goals(BETA_USER, None).unwrap(),
        "experiment": beta.experiment(BETA_EXPERIMENT).unwrap(),
        "global": analytics.experiment(GLOBAL_EXPERIMENT).unwrap(),
        "executions": analytics.summary(&filter).unwrap().total_executions,
        "events": analytics.stats().unwrap().events,
        "learners": beta.learners().unwrap(),
        "opted_out": analytics.learner_opted_out(BETA_USER).unwrap(),
        // Definitions only: the server's own evaluations move the states.
        "alerts": analytics
            .alert_rules(Some(&[BETA.to_owned()]))
            .unwrap()
            .into_iter()
            .map(|view| view.rule)
            .collect::<Vec<_>>(),
        "dashboards": analytics.dashboards(Some(&[BETA.to_owned()])).unwrap(),
    })
}

/// The route's documented query parameters this test gives values.
fn query(doc: &Value, method: &str, path: &str, at: &str, user: &str) -> Vec<(String, String)> {
    let params = doc["paths"][path][method.to_ascii_lowercase()]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for param in params.iter().filter(|p| p["in"] == "query") {
        let name = param["name"].as_str().unwrap_or_default();
        let value = match name {
            "at" | "to" => at.to_owned(),
            "user" | "learner" => user.to_owned(),
            "variance" => "0.25".to_owned(),
            "n" => "100".to_owned(),
            "max_events" => "1".to_owned(),
            _ => continue,
        };
        out.push((name.to_owned(), value));
    }
    out
}

/// A path with its parameters filled with beta's ids (or `user` for `{user}`).
fn fill(path: &str, user: &str, beta_goal: i64) -> String {
    let id = if path.contains("/goals/") {
        beta_goal.to_string()
    } else if path.contains("/dashboard/") {
        BETA_DASHBOARD.to_owned()
    } else {
        BETA_SESSION.to_owned()
    };
    path.replace("{user}", user)
        .replace("{id}", &id)
        .replace("{key}", BETA_EXPERIMENT)
        .replace(
            "{kind}",
            if path.contains("/reports/") {
                "experiments"
            } else {
                "execution"
            },
        )
        .replace("{version}", "1")
        .replace("{trace_id}", BETA_TRACE)
        .replace("{name}", BETA_ALERT)
}

fn url(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", pairs.join("&"))
}

fn call(server: &TestServer, expect: &Expect, url: &str, key: Option<&str>) -> Answer {
    match expect.method {
        "GET" => server.http.get(url, key),
        "POST" => server.http.post(url, key, expect.body),
        method => server.http.send(method, url, key, expect.body),
    }
}

/// The `error.code` of an answer, empty when it is not a JSON error.
fn error_code(answer: &Answer) -> String {
    serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn is_json(answer: &Answer) -> bool {
    answer
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json"))
}

#[test]
fn every_route_keeps_every_key_to_its_scope_and_projects() {
    let now = Utc::now();
    let db = TestDb::new();
    seed(&db, now);
    // After the seed, so the views as of `at` see its goals, and not after any request,
    // so no answer is cut at the time it is computed.
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let beta_goal = db
        .analytics
        .limited_to_project(Some(BETA.to_owned()))
        .learning_goals(BETA_USER, None)
        .unwrap()[0]
        .goal
        .id;
    let key = |scope, alpha_only: bool| Credential::Key {
        scope,
        alpha_only,
        secret: db
            .analytics
            .create_key(&KeySpec {
                scope,
                projects: if alpha_only {
                    vec!["alpha".to_owned()]
                } else {
                    Vec::new()
                },
                name: None,
            })
            .unwrap()
            .secret,
    };
    // Keys limited to alpha call first; beta's state is compared before the unlimited
    // keys, which may change it, call.
    let limited = [
        key(KeyScope::Ingest, true),
        key(KeyScope::Read, true),
        key(KeyScope::Admin, true),
    ];
    let unlimited = [
        key(KeyScope::Ingest, false),
        key(KeyScope::Read, false),
        key(KeyScope::Admin, false),
    ];
    let before = beta_state(&db.analytics);
    let server = TestServer::on(db, |_| {});
    let admin = unlimited[2].secret().unwrap().to_owned();
    let doc = server.http.get("/api/openapi.json", Some(&admin)).json();

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let known: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|e| (e.method.to_owned(), e.path.to_owned()))
        .collect();
    let unknown: Vec<_> = documented.difference(&known).collect();
    let stale: Vec<_> = known.difference(&documented).collect();
    assert!(
        unknown.is_empty() && stale.is_empty(),
        "routes the document lists but this test does not know (add them to ROUTES with \
         what a key limited to a project may do): {unknown:?}; routes the test knows that \
         the document does not list: {stale:?}"
    );

    let mut failures = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    let credentials: Vec<Credential> = [Credential::None, Credential::Invalid]
        .into_iter()
        .chain(limited.iter().cloned())
        .collect();
    // Reads before writes, so a key for alpha asks about beta's learner before it has
    // set goals of its own for them.
    let reads = ROUTES.iter().filter(|e| e.method == "GET");
    let writes = ROUTES.iter().filter(|e| e.method != "GET");
    let ordered: Vec<&Expect> = reads.chain(writes).collect();
    let rounds = [credentials, unlimited.to_vec()];
    for (round, credentials) in rounds.iter().enumerate() {
        for expect in &ordered {
            for credential in credentials.iter() {
                let path = fill(expect.path, BETA_USER, beta_goal);
                let params = query(&doc, expect.method, expect.path, &at, BETA_USER);
                let target = url(&path, &params);
                let answer = call(&server, expect, &target, credential.secret());
                let what = format!(
                    "{} {target} with {credential:?}: {} {}",
                    expect.method,
                    answer.status,
                    answer.text().chars().take(300).collect::<String>()
                );
                check(answer.status < 500, format!("server error: {what}"));
                if answer.status >= 400 {
                    check(is_json(&answer), format!("error not JSON: {what}"));
                }
                let (scope, alpha_only) = match credential {
                    _ if expect.needs == Needs::Public => {
                        check(answer.status < 400, format!("public route refused: {what}"));
                        continue;
                    }
                    Credential::None | Credential::Invalid => {
                        let code = match credential {
                            Credential::None => "missing_key",
                            _ => "invalid_key",
                        };
                        check(
                            answer.status == 401 && error_code(&answer) == code,
                            format!("expected 401 {code}: {what}"),
                        );
                        continue;
                    }
                    Credential::Key {
                        scope, alpha_only, ..
                    } => (*scope, *alpha_only),
                };
                if !expect.needs.allows(scope) {
                    check(
                        answer.status == 403 && error_code(&answer) == "forbidden_scope",
                        format!("expected 403 forbidden_scope: {what}"),
                    );
                    continue;
                }
                if let (true, Limited::Refused(code)) = (alpha_only, expect.limited) {
                    check(
                        answer.status == 403 && error_code(&answer) == code,
                        format!("expected 403 {code}: {what}"),
                    );
                    continue;
                }
                check(
                    answer.status != 401 && answer.status != 403,
                    format!("a key of the right scope refused: {what}"),
                );
                if expect.path == "/api/analytics/experiments/create" {
                    // No 409 telling a key that another project uses the name.
                    check(
                        answer.status == 200,
                        format!("experiment not created: {what}"),
                    );
                }
                if !alpha_only {
                    continue;
                }
                if answer.status < 300 && !expect.body.contains(BETA) {
                    // Beta's ids the request itself carried are no leak.
                    let text = answer
                        .text()
                        .replace(BETA_USER, "")
                        .replace(BETA_EXPERIMENT, "")
                        .replace(BETA_SESSION, "");
                    check(
                        !text.contains(BETA) && !text.contains(GLOBAL_EXPERIMENT),
                        format!("beta's data reached a key for alpha: {what}"),
                    );
                }
                let about_user = expect.path.contains("{user}")
                    || params
                        .iter()
                        .any(|(name, _)| name == "user" || name == "learner");
                if expect.method == "GET" && about_user && is_json(&answer) {
                    // About beta's learner a key for alpha learns what it learns about a
                    // stranger.
                    let path = fill(expect.path, STRANGER, beta_goal);
                    let params = query(&doc, expect.method, expect.path, &at, STRANGER);
                    let stranger = call(&server, expect, &url(&path, &params), credential.secret());
                    check(
                        answer.status == stranger.status
                            && answer.text().replace(BETA_USER, STRANGER) == stranger.text(),
                        format!(
                            "beta's learner differs from a stranger: {what} / {}",
                            stranger.text()
                        ),
                    );
                }
                let documents_project = doc["paths"][expect.path]
                    [expect.method.to_ascii_lowercase()]["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "project"));
                if documents_project {
                    let mut asked = params.clone();
                    asked.push(("project".into(), BETA.into()));
                    let beta = call(&server, expect, &url(&path, &asked), credential.secret());
                    check(
                        beta.status == 403 && error_code(&beta) == "forbidden_project",
                        format!(
                            "?project=beta not refused: {} {}: {} {}",
                            expect.method,
                            url(&path, &asked),
                            beta.status,
                            beta.text()
                        ),
                    );
                }
            }
        }
        if round == 0 {
            check(
                beta_state(&server.db.analytics) == before,
                format!(
                    "keys limited to alpha changed beta's state: {} then {}",
                    before,
                    beta_state(&server.db.analytics)
                ),
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
