//! Which backend a store is: `health` (the command and the HTTP route) names it; a
//! PostgreSQL store's backup and restore point to `pg_dump` / `pg_restore`; a URL's
//! password shows nowhere.

use serde_json::Value;
use tally_store_contract::postgres_test::TestDatabase;

use crate::support::{TestServer, tally};

fn health(db: &str) -> Value {
    let out = tally()
        .args(["--db", db, "health", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn health_names_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tally.db");
    let db = path.to_str().unwrap();
    assert!(
        tally()
            .args(["--db", db, "demo", "--events", "100"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let sqlite = health(db);
    assert_eq!(sqlite["backend"], "sqlite", "{sqlite}");
    assert_eq!(sqlite["status"], "ok");
    assert!(sqlite.get("server_version").is_none(), "{sqlite}");
    assert_eq!(health("memory:")["backend"], "memory");

    let server = TestServer::start();
    let answer = server.http.get("/api/analytics/health", None).json();
    assert_eq!(answer["backend"], "sqlite", "{answer}");
    assert!(answer.get("database").is_none(), "{answer}");
}

#[test]
fn a_postgres_store_is_backed_up_and_restored_with_the_database_tools() {
    let database = TestDatabase::create();
    let url = database.url();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("copy.db");
    let backup = tally()
        .args(["--db", url, "backup", "--out", out_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!backup.status.success());
    let stderr = String::from_utf8_lossy(&backup.stderr);
    assert!(
        stderr.contains(&format!(
            "pg_dump --format=custom --file=tally.dump '{url}'"
        )),
        "{stderr}"
    );
    assert!(!out_file.exists());

    let with_password = "postgres://tally:s3cret@127.0.0.1:1/tally";
    let restore = tally()
        .args(["--db", with_password, "restore", out_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!restore.status.success());
    let stderr = String::from_utf8_lossy(&restore.stderr);
    assert!(
        stderr.contains("pg_restore --clean --if-exists"),
        "{stderr}"
    );
    assert!(
        stderr.contains("postgres://tally:***@127.0.0.1:1/tally"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_password_in_the_url_is_never_shown_when_the_server_does_not_answer() {
    let out = tally()
        .args([
            "--db",
            "postgres://tally:s3cret@127.0.0.1:1/tally?connect_timeout=1",
            "summary",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tally:***@127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
