//! Agents: the latest status of each with its executions, and capacity forecasts from
//! the hourly load (utilisation trend, time to saturation, bottlenecks).

use std::collections::BTreeMap;

use chrono::Duration;
use serde::Serialize;
use tally_store::rollup::Family;
use tally_store::{AgentLoadSums, AgentState, Filter, RollupReader};

use crate::Result;
use crate::fold::{ViewOptions, by_key, dollars, ratio, rfc3339};
use crate::stats::least_squares_slope;

/// An agent's latest load snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentSnapshot {
    pub project: String,
    pub ts: String,
    pub active_tasks: u64,
    pub queued_tasks: u64,
    pub capacity: u64,
    /// Active tasks over capacity.
    pub utilisation: f64,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
}

/// `saturated` (active ≥ capacity), `busy` (≥ 80 %), `active`, `idle`, or `unknown`
/// when the agent never sent a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentCondition {
    Saturated,
    Busy,
    Active,
    Idle,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentSummary {
    pub agent_id: String,
    pub condition: AgentCondition,
    pub status: Option<AgentSnapshot>,
    pub executions: u64,
    pub successful_executions: u64,
    pub success_rate: f64,
    pub avg_duration_seconds: f64,
    pub total_cost: f64,
}

fn snapshot(state: &AgentState) -> AgentSnapshot {
    AgentSnapshot {
        project: state.project.clone(),
        ts: rfc3339(state.ts),
        active_tasks: state.active_tasks,
        queued_tasks: state.queued_tasks,
        capacity: state.capacity,
        utilisation: ratio(state.active_tasks as f64, state.capacity as f64),
        cpu_pct: state.cpu_pct,
        mem_pct: state.mem_pct,
    }
}

fn condition(status: Option<&AgentSnapshot>) -> AgentCondition {
    match status {
        None => AgentCondition::Unknown,
        Some(s) if s.utilisation >= 1.0 => AgentCondition::Saturated,
        Some(s) if s.utilisation >= 0.8 => AgentCondition::Busy,
        Some(s) if s.active_tasks > 0 => AgentCondition::Active,
        Some(_) => AgentCondition::Idle,
    }
}

/// The latest snapshot per agent id (the newest across projects).
fn latest(
    reader: &dyn RollupReader,
    project: Option<&str>,
) -> Result<BTreeMap<String, AgentState>> {
    let mut out: BTreeMap<String, AgentState> = BTreeMap::new();
    for state in reader.agent_states(project)? {
        match out.get(&state.agent_id) {
            Some(held) if held.ts >= state.ts => {}
            _ => {
                out.insert(state.agent_id.clone(), state);
            }
        }
    }
    Ok(out)
}

/// Every agent with a status or executions in the filter's range, by id.
///
/// # Errors
/// A storage failure.
pub fn agents(reader: &dyn RollupReader, filter: &Filter) -> Result<Vec<AgentSummary>> {
    let states = latest(reader, filter.project.as_deref())?;
    let executions: BTreeMap<String, _> = by_key(reader, Family::ExecutionsByAgent, filter)?
        .into_iter()
        .filter_map(|(key, m)| key.name.map(|name| (name, m)))
        .collect();
    let mut ids: Vec<&String> = states.keys().chain(executions.keys()).collect();
    ids.sort();
    ids.dedup();
    Ok(ids
        .into_iter()
        .map(|id| {
            let status = states.get(id).map(snapshot);
            let m = executions.get(id).cloned().unwrap_or_default();
            AgentSummary {
                agent_id: id.clone(),
                condition: condition(status.as_ref()),
                status,
                executions: m.n,
                successful_executions: m.ok,
                success_rate: ratio(m.ok as f64, m.n as f64),
                avg_duration_seconds: ratio(m.duration_us as f64 / 1e6, m.n as f64),
                total_cost: dollars(m.cost_nusd),
            }
        })
        .collect())
}

/// One agent's capacity outlook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityForecast {
    pub agent_id: String,
    pub capacity: u64,
    pub active_tasks: u64,
    pub queued_tasks: u64,
    pub current_utilisation: f64,
    /// Mean hourly utilisation over the window.
    pub avg_utilisation: f64,
    pub peak_active: u64,
    /// Least-squares slope of hourly utilisation, per hour.
    pub utilisation_trend_per_hour: f64,
    /// Hours until utilisation reaches 100 % at the current trend; `None` when not rising.
    pub hours_to_saturation: Option<f64>,
    pub bottleneck: bool,
    pub reasons: Vec<String>,
}

/// The `capacity` view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    pub total_capacity: u64,
    pub total_active: u64,
    pub total_queued: u64,
    pub overall_utilisation: f64,
    pub agents: Vec<CapacityForecast>,
    /// Ids of the agents that are bottlenecks.
    pub bottlenecks: Vec<String>,
    pub window_hours: i64,
    pub generated_at: String,
}

/// The hours capacity trends are fitted over, by default.
pub const CAPACITY_WINDOW_HOURS: i64 = 24;

/// Capacity forecasts per agent, fitted over the filter's range or the last 24 hours.
///
/// An agent is a bottleneck when its latest utilisation is at least 90 %, when it has
/// queued tasks while saturated, or when it saturates within 6 hours at its trend.
///
/// # Errors
/// A storage failure.
pub fn capacity(
    reader: &dyn RollupReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<Capacity> {
    let mut window = filter.clone();
    if window.from.is_none() {
        window.from =
            Some(window.to.unwrap_or(options.now) - Duration::hours(CAPACITY_WINDOW_HOURS));
    }
    let window_hours = window.from.map_or(CAPACITY_WINDOW_HOURS, |from| {
        (window.to.unwrap_or(options.now) - from).num_hours().max(1)
    });
    let mut hourly: BTreeMap<String, Vec<(i64, AgentLoadSums)>> = BTreeMap::new();
    for row in reader.agent_load(&window)? {
        hourly
            .entry(row.agent_id)
            .or_default()
            .push((row.hour, row.sums));
    }
    let states = latest(reader, filter.project.as_deref())?;
    let mut agents = Vec::new();
    for (id, state) in &states {
        let hours = hourly.get(id).map(Vec::as_slice).unwrap_or_default();
        let points: Vec<(f64, f64)> = hours
            .iter()
            .map(|(hour, s)| {
                (
                    (*hour as f64) / 3600.0,
                    ratio(s.active_sum as f64, s.capacity_sum as f64),
                )
            })
            .collect();
        let current = ratio(state.active_tasks as f64, state.capacity as f64);
        let trend = least_squares_slope(&points).unwrap_or(0.0);
        let hours_to_saturation = (trend > 0.0 && current < 1.0).then(|| (1.0 - current) / trend);
        let mut reasons = Vec::new();
        if current >= 0.9 {
            reasons.push(format!("running at {:.0} % of capacity", current * 100.0));
        }
        if state.queued_tasks > 0 && current >= 1.0 {
            reasons.push(format!(
                "{} tasks queued while saturated",
                state.queued_tasks
            ));
        }
        if let Some(h) = hours_to_saturation.filter(|h| *h <= 6.0) {
            reasons.push(format!("saturates in about {h:.1} h at its current trend"));
        }
        agents.push(CapacityForecast {
            agent_id: id.clone(),
            capacity: state.capacity,
            active_tasks: state.active_tasks,
            queued_tasks: state.queued_tasks,
            current_utilisation: current,
            avg_utilisation: ratio(points.iter().map(|p| p.1).sum(), points.len() as f64),
            peak_active: hours
                .iter()
                .map(|(_, s)| s.peak_active)
                .max()
                .unwrap_or(state.active_tasks),
            utilisation_trend_per_hour: trend,
            hours_to_saturation,
            bottleneck: !reasons.is_empty(),
            reasons,
        });
    }
    let total_capacity = agents.iter().map(|a| a.capacity).sum::<u64>();
    let total_active = agents.iter().map(|a| a.active_tasks).sum::<u64>();
    Ok(Capacity {
        total_capacity,
        total_active,
        total_queued: agents.iter().map(|a| a.queued_tasks).sum(),
        overall_utilisation: ratio(total_active as f64, total_capacity as f64),
        bottlenecks: agents
            .iter()
            .filter(|a| a.bottleneck)
            .map(|a| a.agent_id.clone())
            .collect(),
        agents,
        window_hours,
        generated_at: options.generated_at(),
    })
}
