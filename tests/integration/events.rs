//! The events explorer end to end: `GET /api/analytics/events` on the real server over a
//! real SQLite file, and `tally events` as a user runs it. Every filter narrows to what
//! an independent count over the records sent finds; pages walk every event once,
//! while more arrive; bad parameters are refused naming themselves; a key limited to a
//! project sees only that project.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tally_api::{KeyScope, KeySpec};

use crate::support::{TestDb, TestServer};

const TOOLS: [&str; 3] = ["search", "browse", "=sum"];
const MODELS: [&str; 2] = ["gpt-4o", "claude"];

/// One sent record and what the test filters it by.
struct Sent {
    id: String,
    kind: &'static str,
    project: &'static str,
    tool: Option<&'static str>,
    model: Option<&'static str>,
    agent: Option<String>,
    success: Option<bool>,
    trace: Option<String>,
    minute: i64,
    record: Value,
}

fn ts(minute: i64) -> String {
    format!("2026-10-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// Executions and a few records of other kinds, varied in every filtered field.
fn records(first: usize, count: usize) -> Vec<Sent> {
    let mut sent = Vec::new();
    for i in first..first + count {
        let project = ["alpha", "beta"][i % 2];
        let minute = (i % 211) as i64;
        let id = format!("ev-{i}");
        if i % 10 == 9 {
            // Every tenth record another kind: a run using a model, an agent status,
            // a request.
            let (kind, record, model, agent) = match i % 3 {
                0 => (
                    "run",
                    json!({"kind": "run", "id": id, "project": project, "ts": ts(minute),
                           "duration_s": 3, "qa_status": "passed",
                           "models": [{"model": MODELS[i % 2], "input_tokens": 5, "output_tokens": 2}]}),
                    Some(MODELS[i % 2]),
                    None,
                ),
                1 => (
                    "agent_status",
                    json!({"kind": "agent_status", "id": id, "project": project, "ts": ts(minute),
                           "agent_id": format!("agent-{}", i % 4), "active_tasks": 1,
                           "queued_tasks": 0, "capacity": 4}),
                    None,
                    Some(format!("agent-{}", i % 4)),
                ),
                _ => (
                    "request",
                    json!({"kind": "request", "id": id, "project": project, "ts": ts(minute),
                           "endpoint": "/v1/chat", "method": "POST", "status": 200,
                           "latency_ms": 12}),
                    None,
                    None,
                ),
            };
            sent.push(Sent {
                id,
                kind,
                project,
                tool: None,
                model,
                agent,
                success: None,
                trace: None,
                minute,
                record,
            });
            continue;
        }
        let tool = TOOLS[i % 3];
        let model = (i % 5 != 0).then_some(MODELS[i % 2]);
        let agent = format!("agent-{}", i % 4);
        let success = i % 7 != 0;
        let trace = format!("{:032x}", i / 8);
        let mut record = json!({"kind": "execution", "id": id, "project": project,
            "ts": ts(minute), "tool": tool, "agent_id": agent, "task_id": trace,
            "duration_ms": 5, "success": success, "input_tokens": 10, "output_tokens": 5});
        if let Some(model) = model {
            record["model"] = json!(model);
        }
        sent.push(Sent {
            id,
            kind: "execution",
            project,
            tool: Some(tool),
            model,
            agent: Some(agent),
            success: Some(success),
            trace: Some(trace),
            minute,
            record,
        });
    }
    sent
}

fn body(sent: &[Sent]) -> String {
    sent.iter()
        .map(|s| s.record.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The ids a filter selects, newest (last sent) first, counted here independently.
fn expected(sent: &[Sent], filter: &[(&str, &str)]) -> Vec<String> {
    let get = |name: &str| filter.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    sent.iter()
        .rev()
        .filter(|s| {
            get("kind").is_none_or(|k| k == s.kind)
                && get("project").is_none_or(|p| p == s.project)
                && get("tool").is_none_or(|t| s.tool == Some(t))
                && get("model").is_none_or(|m| s.model == Some(m))
                && get("agent").is_none_or(|a| s.agent.as_deref() == Some(a))
                && get("success")
                    .is_none_or(|v| s.success.map(|b| b.to_string()).as_deref() == Some(v))
                && get("trace").is_none_or(|t| s.trace.as_deref() == Some(t))
                && get("from").is_none_or(|f| ts(s.minute).as_str() >= f)
                && get("to").is_none_or(|t| ts(s.minute).as_str() < t)
        })
        .map(|s| s.id.clone())
        .collect()
}

fn url(filter: &[(&str, &str)], cursor: Option<&str>) -> String {
    let mut pairs: Vec<String> = filter
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('=', "%3D").replace('+', "%2B")))
        .collect();
    if let Some(cursor) = cursor {
        pairs.push(format!("cursor={cursor}"));
    }
    format!("/api/analytics/events?{}", pairs.join("&"))
}

/// Every page of `filter`, calling `between` after the first; the ids in order.
fn walk(
    server: &TestServer,
    key: Option<&str>,
    filter: &[(&str, &str)],
    mut between: impl FnMut(),
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let answer = server.http.get(&url(filter, cursor.as_deref()), key);
        assert_eq!(answer.status, 200, "{filter:?}: {}", answer.text());
        let page = answer.json();
        for event in page["events"].as_array().unwrap() {
            ids.push(event["id"].as_str().unwrap().to_owned());
        }
        if cursor.is_none() {
            between();
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

#[test]
fn every_filter_narrows_to_what_an_independent_count_finds() {
    let server = TestServer::start();
    let sent = records(0, 600);
    // Several writes: executions in several blocks, among the other kinds.
    for chunk in sent.chunks(150) {
        let answer = server.http.post("/api/analytics/events", None, body(chunk));
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    let trace = format!("{:032x}", 33);
    let filters: Vec<Vec<(&str, &str)>> = vec![
        vec![("limit", "37")],
        vec![("kind", "execution"), ("limit", "500")],
        vec![("kind", "run")],
        vec![("project", "beta"), ("limit", "23")],
        vec![("project", "alpha"), ("tool", "browse")],
        vec![("tool", "=sum"), ("success", "false")],
        vec![("model", "claude")],
        vec![("agent", "agent-2"), ("limit", "11")],
        vec![("success", "true"), ("project", "alpha"), ("limit", "200")],
        vec![("trace", &trace)],
        vec![
            ("from", "2026-10-01T01:00:00Z"),
            ("to", "2026-10-01T02:00:00Z"),
        ],
        vec![("tool", "no-such-tool")],
    ];
    for filter in &filters {
        let want = expected(&sent, filter);
        assert!(
            !want.is_empty() || filter[0].1 == "no-such-tool",
            "{filter:?} selects nothing"
        );
        assert_eq!(walk(&server, None, filter, || {}), want, "{filter:?}");
    }
    // Each event in the wire format with its id, and what the page says of its kind.
    let page = server
        .http
        .get("/api/analytics/events?kind=run&limit=1", None)
        .json();
    let run = &page["events"][0];
    assert_eq!(run["kind"], "run");
    assert_eq!(run["models"][0]["input_tokens"], 5);
    assert!(page["next_cursor"].is_string());
}

#[test]
fn pages_walk_every_event_once_while_events_arrive() {
    let server = TestServer::start();
    let sent = records(0, 300);
    server.http.post("/api/analytics/events", None, body(&sent));
    let later = records(1000, 80);
    let filter = [("limit", "13")];
    let seen = walk(&server, None, &filter, || {
        let answer = server
            .http
            .post("/api/analytics/events", None, body(&later));
        assert_eq!(answer.status, 200, "{}", answer.text());
    });
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an event seen twice");
    assert_eq!(seen, expected(&sent, &filter));
    // A walk begun after them sees them first.
    let mut all = sent;
    all.extend(later);
    assert_eq!(walk(&server, None, &filter, || {}), expected(&all, &filter));
}

#[test]
fn bad_parameters_are_refused_naming_them() {
    let server = TestServer::start();
    server
        .http
        .post("/api/analytics/events", None, body(&records(0, 20)));
    for (query, parameter) in [
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("kind=span", "kind"),
        ("success=yes", "success"),
        ("cursor=42", "cursor"),
        ("from=yesterday", "from"),
        ("to=tomorrow", "to"),
        ("from=2026-10-02&to=2026-10-01", "from"),
    ] {
        let answer = server
            .http
            .get(&format!("/api/analytics/events?{query}"), None);
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
        let error = &answer.json()["error"];
        assert_eq!(error["details"]["parameter"], parameter, "{query}");
        assert!(
            error["message"].as_str().unwrap().starts_with(parameter),
            "{query}: {error}"
        );
    }
    let answer = server.http.get("/api/analytics/events?tools=search", None);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error_code(), "unknown_parameter");
    let answer = server.http.get("/api/analytics/events?project=gamma", None);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error_code(), "unknown_project");
}

#[test]
fn a_key_limited_to_a_project_sees_only_its_events() {
    let db = TestDb::new();
    let sent = records(0, 200);
    db.ingest("records.jsonl", body(&sent));
    let key = db
        .analytics
        .create_key(&KeySpec {
            scope: KeyScope::Read,
            projects: vec!["alpha".to_owned()],
            name: None,
        })
        .unwrap()
        .secret;
    let server = TestServer::on(db, |_| {});
    let filter = [("limit", "50")];
    assert_eq!(
        walk(&server, Some(&key), &filter, || {}),
        expected(&sent, &[("project", "alpha")])
    );
    let answer = server
        .http
        .get("/api/analytics/events?project=beta", Some(&key));
    assert_eq!(answer.status, 403);
    assert_eq!(answer.error_code(), "forbidden_project");
}

#[test]
fn tally_events_prints_pages_with_the_cursor_on_stderr() {
    let db = TestDb::new();
    let sent = records(0, 60);
    db.ingest("records.jsonl", body(&sent));
    let want = expected(&sent, &[("tool", "=sum")]);
    // JSON: the page as the API answers it; table and CSV: the cursor on stderr.
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec![
            "events", "--tool", "=sum", "--limit", "4", "--format", "json",
        ];
        if let Some(cursor) = &cursor {
            args.extend(["--cursor", cursor]);
        }
        let out = db.tally(&args);
        assert!(out.status.success(), "{out:?}");
        let page: Value = serde_json::from_slice(&out.stdout).unwrap();
        for event in page["events"].as_array().unwrap() {
            ids.push(event["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids, want);

    let out = db.tally(&["events", "--tool", "=sum", "--limit", "2"]);
    assert!(out.status.success(), "{out:?}");
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("time") && lines[0].contains("tool"),
        "{table}"
    );
    assert!(
        lines[1].contains(&want[0]) && lines[2].contains(&want[1]),
        "{table}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let cursor = stderr
        .lines()
        .find_map(|l| l.strip_prefix("next page: --cursor "))
        .unwrap_or_else(|| panic!("no cursor on stderr: {stderr}"));
    let out = db.tally(&[
        "events", "--tool", "=sum", "--limit", "2", "--cursor", cursor,
    ]);
    let next = String::from_utf8(out.stdout).unwrap();
    assert!(next.contains(&want[2]), "{next}");

    // CSV through the formula-safe writer: the tool `=sum` is written inert.
    let out = db.tally(&[
        "events", "--tool", "=sum", "--limit", "1", "--format", "csv",
    ]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(",'=sum,"), "{csv}");
    assert!(row.ends_with(&want[0]), "{csv}");

    let out = db.tally(&["events", "--limit", "900"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--limit \"900\""), "{stderr}");
}

#[test]
fn the_events_page_in_a_real_browser_shows_only_the_tool_asked() {
    let db = TestDb::new();
    let sent = records(0, 400);
    db.ingest("records.jsonl", body(&sent));
    let mut served = crate::http_serve::serve(&db, &[]);
    let base = served.http.base.clone();
    let profile = tempfile::tempdir().unwrap();
    let dom = crate::dashboard_browser::chromium(
        profile.path(),
        &[
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
            format!("{base}/analytics/events?tool=browse&project=alpha"),
        ],
    );
    let _ = served.child.kill();
    let _ = served.child.wait();
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page never finished loading:\n{dom}"
    );
    assert!(!dom.contains("undefined"), "the page shows undefined");
    let want = expected(&sent, &[("tool", "browse"), ("project", "alpha")]);
    assert!(want.len() > 50, "too few events for a full page");
    // One row per event of the first page, each of the tool asked, newest first.
    let rows: Vec<&str> = dom.split("<tr class=\"event-row\"").skip(1).collect();
    assert_eq!(rows.len(), 50, "{dom}");
    for (row, id) in rows.iter().zip(&want) {
        assert!(row.contains(&format!("data-id=\"{id}\"")), "{row}");
        let tool = row.split("data-col=\"tool\">").nth(1).unwrap_or_default();
        assert!(tool.starts_with("browse"), "a row of another tool: {row}");
    }
    // A next page is offered.
    assert!(
        !dom.contains("id=\"events-next\" type=\"button\" hidden"),
        "{dom}"
    );
}
