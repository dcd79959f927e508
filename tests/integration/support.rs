//! Shared helpers: a fresh database, a fixed clock, ingesting text, running `tally`, and
//! the real HTTP server on an ephemeral port with a blocking client.

use std::path::PathBuf;
use std::process::{Command, Output};

use chrono::{DateTime, TimeZone, Utc};
use tally_api::{Analytics, IngestOptions, IngestReport, Input};

/// The validation clock of the tests: records up to 2026-11-02 are accepted.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

pub fn options() -> IngestOptions {
    IngestOptions {
        now: Some(now()),
        ..IngestOptions::default()
    }
}

/// A database in its own temporary directory.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub analytics: Analytics,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let analytics = Analytics::open(dir.path().join("tally.db")).unwrap();
        TestDb { dir, analytics }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("tally.db")
    }

    pub fn ingest(&self, name: &str, body: impl AsRef<[u8]>) -> IngestReport {
        let input = Input::Bytes {
            name: name.to_owned(),
            data: body.as_ref().into(),
        };
        self.analytics
            .ingest_with(&input, &options(), &mut ())
            .unwrap()
    }

    pub fn events(&self) -> u64 {
        self.analytics.stats().unwrap().events
    }

    /// Runs `tally --db <this db> ARGS`.
    pub fn tally(&self, args: &[&str]) -> Output {
        tally()
            .arg("--db")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap()
    }
}

/// The `tally` binary built for these tests.
pub fn tally() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tally"))
}

/// A valid execution record with this id.
pub fn execution(id: &str) -> String {
    format!(
        r#"{{"kind":"execution","id":"{id}","ts":"2026-10-01T00:00:00Z","tool":"web_search","duration_ms":5,"success":true}}"#
    )
}

/// An answer of the HTTP server.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: status {} body {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `error.code` of a JSON error answer.
    pub fn error_code(&self) -> String {
        let json = self.json();
        json["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error document: {json}"))
            .to_owned()
    }
}

/// A blocking HTTP client for one server.
pub struct Http {
    pub base: String,
    agent: ureq::Agent,
}

impl Http {
    pub fn new(addr: std::net::SocketAddr) -> Http {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Http {
            base: format!("http://{addr}"),
            agent,
        }
    }

    fn answer(response: ureq::http::Response<ureq::Body>) -> Answer {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = response
            .into_body()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str, key: Option<&str>) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        Http::answer(request.call().unwrap())
    }

    pub fn post(&self, path: &str, key: Option<&str>, body: impl AsRef<[u8]>) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        Http::answer(request.send(body.as_ref()).unwrap())
    }

    /// Any method with a JSON body (`PUT`, `DELETE`, ...) and an optional key.
    pub fn send(&self, method: &str, path: &str, key: Option<&str>, body: &str) -> Answer {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let request = request.body(body.to_owned()).unwrap();
        Http::answer(self.agent.run(request).unwrap())
    }

    /// A `POST` with these extra headers (a `Content-Encoding`, say) and no key.
    pub fn post_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl AsRef<[u8]>,
    ) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Http::answer(request.send(body.as_ref()).unwrap())
    }

    /// Any method, for the 405 checks.
    pub fn request(&self, method: &str, path: &str) -> Answer {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .body(())
            .unwrap();
        Http::answer(self.agent.run(request).unwrap())
    }
}

/// The real server, in process, on an ephemeral loopback port, over a fresh database.
pub struct TestServer {
    pub db: TestDb,
    pub http: Http,
    handle: Option<tally_api::http::ServerHandle>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(|_| {})
    }

    pub fn start_with(adjust: impl FnOnce(&mut tally_api::http::ServerOptions)) -> TestServer {
        TestServer::on(TestDb::new(), adjust)
    }

    /// A server over an existing database (keys made before it starts, say).
    pub fn on(db: TestDb, adjust: impl FnOnce(&mut tally_api::http::ServerOptions)) -> TestServer {
        let mut options = tally_api::http::ServerOptions {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_body_bytes: 16 * 1024 * 1024,
            max_batch_records: 100_000,
            retention_every: tally_api::http::RETENTION_EVERY,
            ..tally_api::http::ServerOptions::default()
        };
        adjust(&mut options);
        let server = tally_api::http::Server::bind(db.analytics.clone(), &options).unwrap();
        let handle = server.spawn().unwrap();
        TestServer {
            http: Http::new(handle.addr()),
            db,
            handle: Some(handle),
        }
    }

    /// Stops the server, waits for work in flight, and hands the database back.
    pub fn stop(mut self) -> TestDb {
        if let Some(handle) = self.handle.take() {
            handle.stop().unwrap();
        }
        self.db
    }
}

/// A valid execution record of `project` with this id, timestamped now.
pub fn execution_now(id: &str, project: &str) -> String {
    format!(
        r#"{{"kind":"execution","id":"{id}","project":"{project}","ts":"{}","tool":"web_search","duration_ms":5,"success":true,"cost_usd":0.5,"input_tokens":10,"output_tokens":5}}"#,
        Utc::now().to_rfc3339()
    )
}

/// The interpreter the oracles run in: `TALLY_TEST_PYTHON` (set by `cargo xtask test` to
/// its virtual environment), else `python3` from the PATH.
pub fn python() -> Command {
    Command::new(std::env::var_os("TALLY_TEST_PYTHON").unwrap_or_else(|| "python3".into()))
}

/// What to say when an oracle cannot run.
pub const ORACLES_HINT: &str = "run the suite with `cargo xtask test`, which installs the \
    oracles (tests/oracles/requirements.txt) into a virtual environment, or install them \
    with `python3 -m pip install -r tests/oracles/requirements.txt`";

/// Cargo's target directory, found from this test binary's own path
/// (`TARGET/debug/deps/integration-*`), so `CARGO_TARGET_DIR` is honoured.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Runs the Python oracle `tests/oracles/SCRIPT` with `args` on its command line and
/// returns the JSON it prints. Fails, saying which packages to install, when the script
/// cannot run.
pub fn python_oracle_args<S: AsRef<std::ffi::OsStr>>(
    script: &str,
    args: &[S],
) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oracles")
        .join(script);
    let output = python().arg(path).args(args).output().unwrap_or_else(|e| {
        panic!("python does not run ({e}); the {script} oracle needs it: {ORACLES_HINT}")
    });
    assert!(
        output.status.success(),
        "the {script} oracle failed ({ORACLES_HINT}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs the Python oracle `tests/oracles/SCRIPT` with `cases` as JSON on its standard
/// input and returns the JSON it prints. Fails, saying which packages to install, when
/// the script cannot run.
pub fn python_oracle(script: &str, cases: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    use std::process::Stdio;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oracles")
        .join(script);
    let mut child = python()
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("python does not run ({e}); the {script} oracle needs it: {ORACLES_HINT}")
        });
    let mut stdin = child.stdin.take().unwrap();
    let body = cases.to_string();
    // Written from another thread, so a large input cannot deadlock against the output. An
    // oracle that exits early (a missing package) closes its input: its status says why.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(body.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        output.status.success(),
        "the {script} oracle failed ({ORACLES_HINT}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
