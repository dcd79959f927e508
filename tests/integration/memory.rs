//! `--db memory:`: a store that lives in the process and keeps nothing on disk.

use crate::http_serve::{serve_at, terminate};
use crate::support::tally;

#[test]
fn serve_demo_in_memory_answers_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let mut command = tally();
        command.current_dir(dir.path()).args(["--db", "memory:"]);
        serve_at(&mut command, &["--demo"])
    };
    let mut served = start();
    assert!(
        served
            .lines
            .iter()
            .any(|l| l.starts_with("wrote ") && l.ends_with(" demo events")),
        "{:?}",
        served.lines
    );
    assert_eq!(served.http.get("/api/analytics/health", None).status, 200);
    let summary = served.http.get("/api/analytics/summary", None).json();
    assert!(summary["total_runs"].as_u64().unwrap() > 100, "{summary}");
    assert!(
        summary["total_executions"].as_u64().unwrap() > 100,
        "{summary}"
    );
    terminate(&served.child);
    assert!(served.child.wait().unwrap().success());
    // Nothing was written to disk, and the next start is empty again: --demo fills it anew.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let mut again = start();
    assert!(
        again.lines.iter().any(|l| l.ends_with(" demo events")),
        "{:?}",
        again.lines
    );
    terminate(&again.child);
    assert!(again.child.wait().unwrap().success());
}

#[test]
fn a_memory_store_has_no_file_to_back_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = tally()
        .current_dir(dir.path())
        .args(["--db", "memory:", "backup", "--out", "copy.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("memory:"), "{stderr}");
    assert!(!dir.path().join("copy.db").exists());
}
