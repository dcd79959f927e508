//! Live updates (`GET /api/analytics/live`): a real client reads the event stream while
//! an ingest commits, and the commit event names the project; a key limited to a
//! project hears only its commits; streams past the cap get 503 JSON; the stream ends
//! when the server stops. No timing is asserted: the reads block until the events come.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use serde_json::Value;
use tally_api::{KeyScope, KeySpec};

use crate::support::{TestDb, TestServer, execution_now};

/// An open event stream, read line by line over a plain socket.
struct Stream {
    reader: BufReader<TcpStream>,
    pub status: u16,
    pub content_type: String,
}

impl Stream {
    fn open(server: &TestServer, path: &str, key: Option<&str>) -> Stream {
        let addr = server.http.base.trim_start_matches("http://");
        let mut socket = TcpStream::connect(addr).unwrap();
        let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
        write!(
            socket,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Accept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(socket);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut content_type = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-type")
            {
                content_type = value.trim().to_owned();
            }
        }
        Stream {
            reader,
            status,
            content_type,
        }
    }

    /// The next event's name and data (chunk sizes and comments skipped); `None` when
    /// the stream ends.
    fn next(&mut self) -> Option<(String, Value)> {
        let (mut name, mut data) = (String::new(), String::new());
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                return None;
            }
            let text = line.trim_end();
            if let Some(rest) = text.strip_prefix("event:") {
                name = rest.trim().to_owned();
            } else if let Some(rest) = text.strip_prefix("data:") {
                data.push_str(rest.trim());
            } else if text.is_empty() && !name.is_empty() {
                return Some((name, serde_json::from_str(&data).unwrap()));
            } else if text == "0" && name.is_empty() {
                // The last chunk of the chunked answer.
                return None;
            }
        }
    }

    /// The next `commit` event's data.
    fn commit(&mut self) -> Value {
        loop {
            let (name, data) = self.next().expect("the stream ended before a commit");
            if name == "commit" {
                return data;
            }
        }
    }
}

#[test]
fn a_commit_reaches_the_stream_naming_its_project() {
    let server = TestServer::start();
    let mut stream = Stream::open(&server, "/api/analytics/live", None);
    assert_eq!(stream.status, 200);
    assert!(
        stream.content_type.starts_with("text/event-stream"),
        "{}",
        stream.content_type
    );
    let (name, ready) = stream.next().unwrap();
    assert_eq!((name.as_str(), &ready["projects"]), ("ready", &Value::Null));
    // The stream is subscribed before `ready` is sent: this commit cannot be missed.
    let body = format!(
        "{}\n{}",
        execution_now("live-1", "alpha"),
        execution_now("live-2", "alpha")
    );
    let answer = server.http.post("/api/analytics/events", None, body);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let commit = stream.commit();
    assert_eq!(commit["projects"]["alpha"], 2, "{commit}");
    assert!(commit["batches"].as_u64().unwrap() >= 1);
    assert_eq!(commit["skipped"], 0);

    // OTLP ingest is announced too.
    let otlp = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"tally.project","value":{"stringValue":"gamma"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"10"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"5"}}]}]}]}]}"#;
    let answer = server.http.post("/v1/traces", None, otlp);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let commit = stream.commit();
    assert!(
        commit["projects"]["gamma"].as_u64().unwrap() >= 1,
        "{commit}"
    );

    // A resent batch stores nothing: no commit for it; the next real one comes next.
    server.http.post(
        "/api/analytics/events",
        None,
        execution_now("live-1", "alpha"),
    );
    server.http.post(
        "/api/analytics/events",
        None,
        execution_now("live-3", "beta"),
    );
    let commit = stream.commit();
    assert_eq!(
        commit["projects"],
        serde_json::json!({"beta": 1}),
        "{commit}"
    );
}

#[test]
fn a_key_limited_to_a_project_hears_only_its_commits() {
    let db = TestDb::new();
    let alpha = db
        .analytics
        .create_key(&KeySpec {
            scope: KeyScope::Read,
            projects: vec!["alpha".to_owned()],
            name: None,
        })
        .unwrap()
        .secret;
    let admin = db
        .analytics
        .create_key(&KeySpec {
            scope: KeyScope::Admin,
            projects: Vec::new(),
            name: None,
        })
        .unwrap()
        .secret;
    let server = TestServer::on(db, |_| {});
    let mut stream = Stream::open(&server, "/api/analytics/live", Some(&alpha));
    let (_, ready) = stream.next().unwrap();
    assert_eq!(ready["projects"], serde_json::json!(["alpha"]));
    let refused = Stream::open(&server, "/api/analytics/live?project=beta", Some(&alpha));
    assert_eq!(refused.status, 403);
    // Beta's commit comes first; the stream's first event is alpha's.
    server.http.post(
        "/api/analytics/events",
        Some(&admin),
        execution_now("b-1", "beta"),
    );
    server.http.post(
        "/api/analytics/events",
        Some(&admin),
        format!(
            "{}\n{}",
            execution_now("a-1", "alpha"),
            execution_now("b-2", "beta")
        ),
    );
    let commit = stream.commit();
    assert_eq!(
        commit["projects"],
        serde_json::json!({"alpha": 1}),
        "{commit}"
    );
}

#[test]
fn streams_past_the_cap_are_refused_and_end_when_the_server_stops() {
    let server = TestServer::start_with(|o| o.max_live_streams = 1);
    let mut first = Stream::open(&server, "/api/analytics/live", None);
    assert_eq!(first.next().unwrap().0, "ready");
    let second = server.http.get("/api/analytics/live?max_events=1", None);
    assert_eq!(second.status, 503);
    assert_eq!(second.error_code(), "too_many_streams");
    assert_eq!(second.json()["error"]["details"]["limit"], 1);
    let bad = server.http.get("/api/analytics/live?max_events=0", None);
    assert_eq!(bad.json()["error"]["details"]["field"], "max_events");
    // The stream holds no shutdown up: the server stops and the stream ends.
    server.stop();
    assert!(first.next().is_none());
}

#[test]
fn max_events_ends_the_stream() {
    let server = TestServer::start();
    let answer = server.http.get("/api/analytics/live?max_events=1", None);
    assert_eq!(answer.status, 200);
    assert!(
        answer.text().starts_with("event: ready\n"),
        "{}",
        answer.text()
    );
}
