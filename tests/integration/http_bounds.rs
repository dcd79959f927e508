//! What one request may cost the server: the widest ranges are clamped to the stored
//! data and series past `MAX_POINTS` are refused with the limit named (HTTP and CLI
//! alike); stalled clients are closed by the header and body read timeouts; the
//! connection cap holds; query parameters a route does not take are refused.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tally_api::MAX_POINTS;
use tally_api::http::{Produces, routes};

use crate::support::{Answer, TestDb, TestServer};

/// A database that keeps ten years (retention would drop 2025's rollups), with
/// executions on 2025-06-01 and 2026-10-01: the stored months span more than
/// `MAX_POINTS` hours but far fewer days.
fn spread_out() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let config =
        tally_api::Config::parse("[retention]\nraw_days = 3650\nhourly_days = 3650\n", "test")
            .unwrap();
    let analytics =
        tally_api::Analytics::open_with(dir.path().join("tally.db"), config, Default::default())
            .unwrap();
    let db = TestDb { dir, analytics };
    let body: String = ["2025-06-01T10:00:00Z", "2026-10-01T10:00:00Z"]
        .iter()
        .enumerate()
        .map(|(i, ts)| {
            format!(
                r#"{{"kind":"execution","id":"b{i}","ts":"{ts}","tool":"t","duration_ms":5,"success":true,"cost_usd":0.5}}"#
            ) + "\n"
        })
        .collect();
    assert_eq!(db.ingest("spread", body).accepted, 2);
    db
}

/// The start of an answer, for failure messages.
fn start(answer: &Answer) -> String {
    answer.text().chars().take(400).collect()
}

/// Days from 2025-06-01 to today, inclusive: the most a clamped daily series may hold.
fn days_stored() -> usize {
    let first = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    (chrono::Utc::now().date_naive() - first).num_days() as usize + 1
}

fn assert_too_many_points(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 400, "{what}: {}", start(answer));
    let json = answer.json();
    assert_eq!(json["error"]["code"], "too_many_points", "{what}: {json}");
    assert_eq!(
        json["error"]["details"]["limit"], MAX_POINTS,
        "{what}: {json}"
    );
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("limit of {MAX_POINTS}")),
        "{what}: {message}"
    );
}

#[test]
fn the_widest_read_requests_are_clamped_or_refused_with_the_limit() {
    let db = spread_out();
    let server = TestServer::on(db, |_| {});
    let http = &server.http;
    // Hourly series over the whole stored span: more than MAX_POINTS hours.
    for route in ["trends", "anomalies", "forecast"] {
        let answer = http.get(
            &format!("/api/analytics/{route}?granularity=hour&from=2000-01-01"),
            None,
        );
        assert_too_many_points(&answer, route);
    }
    let answer = http.get(
        "/api/analytics/timeseries?granularity=hour&from=2000-01-01&to=9999-12-31",
        None,
    );
    assert_too_many_points(&answer, "hourly timeseries");
    // By day the same ranges are answered, from the first stored month to today.
    let days = days_stored();
    let trend = http.get("/api/analytics/trends?from=2000-01-01", None);
    assert_eq!(trend.status, 200, "{}", start(&trend));
    let series = trend.json()["series"].as_array().unwrap().len();
    assert!(series <= days && series <= MAX_POINTS, "{series} points");
    let anomalies = http.get("/api/analytics/anomalies?metric=cost&from=2000-01-01", None);
    assert_eq!(anomalies.status, 200, "{}", start(&anomalies));
    assert!(anomalies.json()["series"].as_array().unwrap().len() <= days);
    let timeseries = http.get(
        "/api/analytics/timeseries?from=2000-01-01&to=9999-12-31",
        None,
    );
    assert_eq!(timeseries.status, 200, "{}", start(&timeseries));
    let daily = timeseries.json()["daily"].as_array().unwrap().clone();
    assert!(daily.len() <= days, "{} points", daily.len());
    assert_eq!(daily[0]["date"], "2025-06-01");
    assert_eq!(
        daily
            .iter()
            .map(|p| p["executions"].as_u64().unwrap())
            .sum::<u64>(),
        2
    );
    // Was 444 MB: now about 200 bytes a day.
    assert!(
        timeseries.body.len() < 300 * days,
        "{} bytes",
        timeseries.body.len()
    );
    let costs = http.get("/api/analytics/costs?from=2000-01-01&to=9999-12-31", None);
    assert_eq!(costs.status, 200, "{}", start(&costs));
    let costs = costs.json();
    assert!(costs["daily"].as_array().unwrap().len() <= days);
    assert_eq!(costs["total_cost"], 1.0);
    // The CLI asks through the same facade.
    let db = server.stop();
    let output = db.tally(&[
        "trend",
        "--metric",
        "executions",
        "--granularity",
        "hour",
        "--from",
        "2000-01-01",
    ]);
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("limit of {MAX_POINTS}")),
        "{stderr}"
    );
    let output = db.tally(&[
        "query",
        "timeseries",
        "--from",
        "2000-01-01",
        "--to",
        "9999-12-31",
        "--json",
    ]);
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["daily"].as_array().unwrap().len() <= days);
}

#[test]
fn a_projects_range_is_clamped_to_its_own_data_not_the_others() {
    let db = spread_out();
    let alpha = r#"{"kind":"execution","id":"a","project":"alpha","ts":"2026-10-15T10:00:00Z","tool":"t","duration_ms":5,"success":true}"#;
    assert_eq!(db.ingest("alpha", alpha).accepted, 1);
    let first_day = |project: &[&str]| {
        let mut args = vec!["query", "timeseries", "--from", "2000-01-01", "--json"];
        args.extend_from_slice(project);
        let output = db.tally(&args);
        assert!(output.status.success(), "{output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        json["daily"][0]["date"].as_str().unwrap().to_owned()
    };
    // Every project together starts with the default project's June 2025; alpha alone
    // starts with its own month and says nothing of the other's.
    assert_eq!(first_day(&[]), "2025-06-01");
    assert_eq!(first_day(&["--project", "alpha"]), "2026-10-01");
}

#[test]
fn a_training_window_past_ten_years_is_refused() {
    let server = TestServer::start();
    for days in ["3651", "4000000000"] {
        let answer = server.http.post(
            &format!("/api/analytics/predict/train?days={days}"),
            None,
            "",
        );
        assert_eq!(answer.status, 400, "{days}: {}", answer.text());
        assert!(answer.text().contains("3650"), "{}", answer.text());
    }
}

/// A raw connection to the server with a generous read timeout: a safety net so a
/// server that never closes fails the test instead of hanging it.
fn connect(server: &TestServer) -> TcpStream {
    let addr = server.http.base.trim_start_matches("http://");
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; what it sent on the way.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    match stream.read_to_end(&mut received) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!(
            "the server kept the connection open: {error}; got {:?}",
            String::from_utf8_lossy(&received)
        ),
    }
    String::from_utf8_lossy(&received).into_owned()
}

fn short_timeouts(options: &mut tally_api::http::ServerOptions) {
    options.header_read_timeout = Duration::from_millis(300);
    options.body_read_timeout = Duration::from_millis(300);
}

#[test]
fn stalled_clients_are_closed_by_the_read_timeouts() {
    let server = TestServer::start_with(short_timeouts);
    // Headers that never end.
    let mut partial_headers = connect(&server);
    partial_headers
        .write_all(b"GET /api/analytics/health HTTP/1.1\r\nHost: tally\r\n")
        .unwrap();
    read_until_closed(&mut partial_headers);
    // A body announced as 1 GiB of which 2 bytes come.
    let mut partial_body = connect(&server);
    partial_body
        .write_all(
            b"POST /api/analytics/events HTTP/1.1\r\nHost: tally\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n[{",
        )
        .unwrap();
    let answer = read_until_closed(&mut partial_body);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"body_timeout""#), "{answer}");
    // An idle keep-alive connection is closed as well.
    let mut idle = connect(&server);
    idle.write_all(b"GET /api/analytics/health HTTP/1.1\r\nHost: tally\r\n\r\n")
        .unwrap();
    let answer = read_until_closed(&mut idle);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The server still answers.
    assert_eq!(server.http.get("/api/analytics/health", None).status, 200);
}

#[test]
fn connections_past_the_cap_wait_for_a_free_one() {
    let server = TestServer::start_with(|options| {
        short_timeouts(options);
        options.max_connections = 1;
    });
    // The one connection allowed, stalled until the header timeout closes it.
    let mut first = connect(&server);
    first
        .write_all(b"GET /api/analytics/health HTTP/1.1\r\n")
        .unwrap();
    // Served only once the first is closed: by then its end is waiting to be read.
    assert_eq!(server.http.get("/api/analytics/health", None).status, 200);
    first
        .set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let mut buffer = [0_u8; 64];
    match first.read(&mut buffer) {
        Ok(0) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("a second connection was served while the first was open: {other:?}"),
    }
}

#[test]
fn a_client_that_stops_reading_its_answer_loses_the_connection() {
    let db = TestDb::new();
    let demo = tally_api::DemoConfig {
        events: 60_000,
        ..tally_api::DemoConfig::default()
    };
    db.analytics.demo(&demo, &mut ()).unwrap();
    let server = TestServer::on(db, |options| {
        options.write_timeout = Duration::from_millis(300);
        options.max_connections = 1;
    });
    // The one connection allowed asks for an answer far larger than the sockets'
    // buffers (every event, some 20 MB) and never reads it.
    let mut reader = connect(&server);
    reader
        .write_all(b"GET /api/analytics/export/events HTTP/1.1\r\nHost: tally\r\n\r\n")
        .unwrap();
    // Served only once the write timeout has closed the first connection.
    assert_eq!(server.http.get("/api/analytics/health", None).status, 200);
    let mut received = Vec::new();
    match reader.read_to_end(&mut received) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("reading the cut answer: {error}"),
    }
    assert!(received.starts_with(b"HTTP/1.1 200"));
    assert!(
        !received.ends_with(b"\r\n0\r\n\r\n"),
        "the whole answer ({} bytes) was written: make it larger",
        received.len()
    );
}

/// A value each documented parameter accepts (or refuses as a bad value, not as
/// unknown).
fn sample(name: &str) -> &'static str {
    match name {
        "from" => "2026-10-01",
        "to" => "2026-10-02",
        "at" => "2026-10-01T00:00:00Z",
        "granularity" => "day",
        "format" => "json",
        "horizon" => "3",
        "period" => "week",
        "metric" => "executions",
        _ => "1",
    }
}

#[test]
fn every_route_takes_its_documented_parameters_and_refuses_others() {
    let server = TestServer::start();
    let http = &server.http;
    let tools = http.get("/api/analytics/tools?confidence_level=LOW", None);
    assert_eq!(tools.status, 400, "{}", start(&tools));
    let json = tools.json();
    assert_eq!(json["error"]["code"], "unknown_parameter");
    assert_eq!(
        json["error"]["message"],
        r#"unknown query parameter "confidence_level": /api/analytics/tools takes project, from, to, compare"#
    );
    assert_eq!(
        json["error"]["details"]["accepted"],
        serde_json::json!(["project", "from", "to", "compare"])
    );
    let mut checked = 0;
    for route in routes() {
        if matches!(
            route.produces,
            Produces::Html | Produces::Css | Produces::JavaScript | Produces::Redirect(_)
        ) {
            continue;
        }
        let mut path = route.path.clone();
        for param in route.params.iter().filter(|p| p.in_path) {
            path = path.replace(&format!("{{{}}}", param.name), "1");
        }
        let documented: Vec<String> = route
            .params
            .iter()
            .filter(|p| !p.in_path)
            .map(|p| format!("{}={}", p.name, sample(p.name)))
            .collect();
        let method = route.method.as_str();
        let ask = |query: &str| -> Answer {
            let url = format!("{path}?{query}");
            if method == "POST" {
                http.post(&url, None, "{}")
            } else {
                http.request(method, &url)
            }
        };
        let answer = ask(&documented.join("&"));
        if answer.status >= 400 {
            assert_ne!(
                answer.error_code(),
                "unknown_parameter",
                "{method} {path}: {}",
                start(&answer)
            );
        }
        let answer = ask("zz_unknown=1");
        assert_eq!(answer.status, 400, "{method} {path}: {}", start(&answer));
        assert_eq!(answer.error_code(), "unknown_parameter", "{method} {path}");
        checked += 1;
    }
    assert!(checked > 40, "only {checked} routes checked");
}

#[test]
fn a_request_past_its_time_budget_is_answered_503() {
    let server = TestServer::start_with(|options| {
        options.request_timeout = Duration::from_millis(300);
        options.body_read_timeout = Duration::from_secs(600);
    });
    // The body never ends, and its own timeout is far off: the request's budget ends it.
    let mut stalled = connect(&server);
    stalled
        .write_all(
            b"POST /api/analytics/events HTTP/1.1\r\nHost: tally\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{",
        )
        .unwrap();
    let answer = read_until_closed(&mut stalled);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[test]
fn ingest_requests_past_the_places_wait_with_their_body_unread() {
    let server = TestServer::start_with(|options| options.max_concurrent_ingests = 1);
    let record = br#"{"id":"a-1","kind":"execution","ts":"2026-10-01T00:00:00Z","project":"alpha","tool":"search","model":"gpt-4o","duration_ms":12,"success":true}"#;
    let (head, tail) = record.split_at(20);
    // The first ingest takes the one place: hyper says `100 Continue` once the handler
    // starts reading the body, which it does only with the place held.
    let mut first = connect(&server);
    write!(
        first,
        "POST /api/analytics/events HTTP/1.1\r\nHost: tally\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        record.len()
    )
    .unwrap();
    let mut continued = [0_u8; 25];
    first.read_exact(&mut continued).unwrap();
    assert!(
        continued.starts_with(b"HTTP/1.1 100 Continue"),
        "{:?}",
        String::from_utf8_lossy(&continued)
    );
    first.write_all(head).unwrap();
    // A second ingest waits for the place, unanswered, while reads are served.
    let mut second = connect(&server);
    let other = String::from_utf8_lossy(record).replace("a-1", "a-2");
    write!(
        second,
        "POST /api/analytics/events HTTP/1.1\r\nHost: tally\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        other.len()
    )
    .unwrap();
    second.write_all(other.as_bytes()).unwrap();
    assert_eq!(server.http.get("/api/analytics/health", None).status, 200);
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut early = [0_u8; 1];
    match second.read(&mut early) {
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("the second ingest was answered while the first held the place: {other:?}"),
    }
    // The first completes and frees the place; the second is then stored too.
    first.write_all(tail).unwrap();
    let mut answer = [0_u8; 12];
    first.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    second
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let answer = read_until_closed(&mut second);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""accepted":1"#), "{answer}");
}
