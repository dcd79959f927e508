//! Every error answer is JSON in the usual shape, including those the HTTP parser and
//! the framework give before a route runs; `session/{id}/end` refuses a body naming
//! another session; the Markdown learner report shows names as text, never as HTML.

use std::io::{Read, Write};

use chrono::{Duration, SecondsFormat, Utc};

use crate::support::TestServer;

/// Sends `request` as is on a fresh connection and returns the status and the body.
fn raw(server: &TestServer, request: &[u8]) -> (u16, String, String) {
    let addr = server.http.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: tally\r\nConnection: close\r\n\r\n").into_bytes()
}

fn post(target: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {target} HTTP/1.1\r\nHost: tally\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn every_error_is_json_even_before_a_route_runs() {
    let server = TestServer::start();
    let long = format!("/api/analytics/summary?x={}", "a".repeat(70_000));
    let many_headers: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let huge_header = format!(
        "GET /api/analytics/summary HTTP/1.1\r\nHost: tally\r\n{many_headers}Connection: close\r\n\r\n"
    );
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("a target over 64 KiB", get(&long), 414, "uri_too_long"),
        (
            "more headers than the parser takes",
            huge_header.into_bytes(),
            431,
            "headers_too_large",
        ),
        (
            "a Content-Type with control characters",
            post(
                "/api/analytics/events",
                "Content-Type: \x01\x02garbage\r\n",
                "{}",
            ),
            400,
            "malformed_request",
        ),
        (
            "a Content-Length that is not a number",
            b"POST /api/analytics/events HTTP/1.1\r\nHost: tally\r\nConnection: close\r\nContent-Length: abc\r\n\r\n{}".to_vec(),
            400,
            "malformed_request",
        ),
        (
            "a kind that is not UTF-8",
            post("/api/analytics/track/%FF", "", "{}"),
            400,
            "bad_request",
        ),
        (
            "a session id that is not UTF-8",
            post("/api/analytics/session/%FF%FE/end", "", "{}"),
            400,
            "bad_request",
        ),
        (
            "a user that is not UTF-8",
            get("/api/analytics/learning/users/%FF%FE/streak"),
            400,
            "bad_path",
        ),
        (
            "an experiment key that is not UTF-8",
            get("/api/analytics/experiments/%FF/analysis"),
            400,
            "bad_path",
        ),
        (
            "a goal id that is not a number",
            post(
                "/api/analytics/learning/users/ana/goals/abc/update",
                "Content-Type: application/json\r\n",
                r#"{"state":"paused"}"#,
            ),
            400,
            "bad_path",
        ),
        (
            "a query that is not UTF-8",
            get("/api/analytics/learning/users/ana/streak?at=%FF"),
            400,
            "bad_query",
        ),
    ];
    for (what, request, status, code) in cases {
        let (got, head, body) = raw(&server, &request);
        assert_eq!(got, status, "{what}: {head}\n{body}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{what}: {head}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body:?}"));
        let error = &json["error"];
        assert_eq!(error["code"], code, "{what}: {body}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty())
                && error.get("details").is_some(),
            "{what}: {body}"
        );
    }
}

#[test]
fn ending_a_session_refuses_a_body_naming_another() {
    let server = TestServer::start();
    let http = &server.http;
    let refused = http.post(
        "/api/analytics/session/s-1/end",
        None,
        r#"{"session_id":"s-2","user_id":"u"}"#,
    );
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(refused.error_code(), "conflicting_session_id");
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("session_id:") && message.contains("s-2"),
        "{message}"
    );
    assert_eq!(server.db.events(), 0);
    // The same id, or none, ends the session of the path.
    for body in [
        r#"{"session_id":"s-1","user_id":"u"}"#,
        r#"{"user_id":"u"}"#,
    ] {
        let ended = http.post("/api/analytics/session/s-1/end", None, body);
        assert_eq!(ended.status, 200, "{body}: {}", ended.text());
        assert_eq!(ended.json()["session_id"], "s-1");
    }
}

#[test]
fn the_markdown_learner_report_shows_names_as_text() {
    let server = TestServer::start();
    let http = &server.http;
    let user = "<script>alert(1)</script>";
    let encoded = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let ts =
        |days: i64| (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let sessions: Vec<String> = (7..14)
        .map(|d| {
            format!(
                r#"{{"kind":"session","id":"s{d}","ts":"{}","user_id":"{}","duration_s":600,"exchanges":5,"quality":0.9,"topics":["<img src=x onerror=alert(2)>"]}}"#,
                ts(d),
                user.replace('/', "\\/")
            )
        })
        .collect();
    let ingested = http.post("/api/analytics/events", None, sessions.join("\n"));
    assert_eq!(ingested.json()["accepted"], 7, "{}", ingested.text());
    let report = http.get(
        &format!("/api/analytics/learning/users/{encoded}/report?format=markdown"),
        None,
    );
    assert_eq!(report.status, 200, "{}", report.text());
    let text = report.text();
    assert!(
        text.starts_with("# &lt;script&gt;alert(1)&lt;/script&gt; · weekly progress"),
        "{text}"
    );
    assert!(
        text.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{text}"
    );
    for raw in ["<script", "<img"] {
        assert!(!text.contains(raw), "{raw} in {text}");
    }
}
