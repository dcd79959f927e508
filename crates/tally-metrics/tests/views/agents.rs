//! Agents: each one's latest status and its executions.

use tally_metrics::{AgentCondition, AgentSnapshot, AgentSummary, agents};
use tally_store_contract::events::{Exec, agent_status};

use crate::support::{exec, failed, filter, oct, ok, store};

fn by(agent: &str, x: Exec) -> Exec {
    Exec {
        agent: Some(agent.to_owned()),
        ..x
    }
}

fn snapshot(project: &str, ts: &str, active: u64, queued: u64, capacity: u64) -> AgentSnapshot {
    AgentSnapshot {
        project: project.to_owned(),
        ts: ts.to_owned(),
        active_tasks: active,
        queued_tasks: queued,
        capacity,
        utilisation: active as f64 / capacity as f64,
        cpu_pct: Some(50.0),
        mem_pct: None,
    }
}

#[test]
fn every_agent_with_its_latest_status() {
    let events = [
        // agent-a was saturated at 10:00 and is half busy since 11:00.
        agent_status("s1", "p1", oct(2, 10, 0), "agent-a", 4, 3, 4),
        agent_status("s2", "p1", oct(2, 11, 0), "agent-a", 2, 1, 4),
        agent_status("s3", "p2", oct(2, 11, 0), "agent-b", 0, 0, 2),
        agent_status("s4", "p1", oct(2, 11, 30), "agent-d", 9, 0, 10),
        exec(
            "x1",
            "p1",
            oct(2, 9, 0),
            by(
                "agent-a",
                Exec {
                    duration_ms: 1000.0,
                    ..ok()
                },
            ),
        ),
        exec(
            "x2",
            "p1",
            oct(2, 9, 5),
            by(
                "agent-a",
                Exec {
                    duration_ms: 3000.0,
                    ..failed()
                },
            ),
        ),
        exec("x3", "p2", oct(2, 9, 10), by("agent-c", ok())),
        exec("x4", "p2", oct(2, 9, 15), ok()),
    ];
    let store = store(&events);
    let summary = |id: &str, condition, status, executions, ok, rate, seconds, cost| AgentSummary {
        agent_id: id.to_owned(),
        condition,
        status,
        executions,
        successful_executions: ok,
        success_rate: rate,
        avg_duration_seconds: seconds,
        total_cost: cost,
    };
    assert_eq!(
        agents(&store, &filter(None, None, None)).unwrap(),
        vec![
            summary(
                "agent-a",
                AgentCondition::Active,
                Some(snapshot("p1", "2026-10-02T11:00:00.000Z", 2, 1, 4)),
                2,
                1,
                0.5,
                2.0,
                0.004
            ),
            summary(
                "agent-b",
                AgentCondition::Idle,
                Some(snapshot("p2", "2026-10-02T11:00:00.000Z", 0, 0, 2)),
                0,
                0,
                0.0,
                0.0,
                0.0
            ),
            // Executions but no status: its state is unknown.
            summary(
                "agent-c",
                AgentCondition::Unknown,
                None,
                1,
                1,
                1.0,
                0.0015,
                0.002
            ),
            // 90 % of its capacity in use.
            summary(
                "agent-d",
                AgentCondition::Busy,
                Some(snapshot("p1", "2026-10-02T11:30:00.000Z", 9, 0, 10)),
                0,
                0,
                0.0,
                0.0,
                0.0
            ),
        ]
    );
    // One project's agents only.
    let p2: Vec<_> = agents(&store, &filter(Some("p2"), None, None))
        .unwrap()
        .into_iter()
        .map(|a| (a.agent_id, a.condition))
        .collect();
    assert_eq!(
        p2,
        vec![
            ("agent-b".to_owned(), AgentCondition::Idle),
            ("agent-c".to_owned(), AgentCondition::Unknown)
        ]
    );
}

#[test]
fn a_saturated_agent() {
    let store = store(&[agent_status("s1", "p1", oct(2, 10, 0), "agent-a", 5, 2, 4)]);
    let found = agents(&store, &filter(None, None, None)).unwrap();
    assert_eq!(found[0].condition, AgentCondition::Saturated);
    assert_eq!(found[0].status.as_ref().map(|s| s.utilisation), Some(1.25));
}
