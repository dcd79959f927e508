//! The views by name: one table that the `tally query` command and the HTTP routes
//! both dispatch through, so every view is reachable the same way everywhere.

use serde::Serialize;
use tally_metrics::Granularity;
use tally_store::Filter;

use crate::{Analytics, Result};

/// Every aggregate view of the metrics tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Summary,
    Projects,
    Models,
    Tools,
    Agents,
    Timeseries,
    Qa,
    Costs,
    Budget,
    Capacity,
    Pipeline,
    Risks,
    Recommendations,
    Realtime,
    Traces,
    Requests,
}

impl View {
    pub const ALL: [View; 16] = [
        View::Summary,
        View::Projects,
        View::Models,
        View::Tools,
        View::Agents,
        View::Timeseries,
        View::Qa,
        View::Costs,
        View::Budget,
        View::Capacity,
        View::Pipeline,
        View::Risks,
        View::Recommendations,
        View::Realtime,
        View::Traces,
        View::Requests,
    ];

    /// The name `tally query` takes.
    pub fn name(self) -> &'static str {
        match self {
            View::Summary => "summary",
            View::Projects => "projects",
            View::Models => "models",
            View::Tools => "tools",
            View::Agents => "agents",
            View::Timeseries => "timeseries",
            View::Qa => "qa",
            View::Costs => "costs",
            View::Budget => "budget",
            View::Capacity => "capacity",
            View::Pipeline => "pipeline",
            View::Risks => "risks",
            View::Recommendations => "recommendations",
            View::Realtime => "realtime",
            View::Traces => "traces",
            View::Requests => "requests",
        }
    }

    /// The path segments under `/api/analytics/` that answer this view (the seeds'
    /// names: `real-time`, and `learning` for the tool learning profiles).
    pub fn routes(self) -> &'static [&'static str] {
        match self {
            View::Summary => &["summary"],
            View::Projects => &["projects"],
            View::Models => &["models"],
            View::Tools => &["tools", "learning"],
            View::Agents => &["agents"],
            View::Timeseries => &["timeseries"],
            View::Qa => &["qa"],
            View::Costs => &["costs"],
            View::Budget => &["budget"],
            View::Capacity => &["capacity"],
            View::Pipeline => &["pipeline"],
            View::Risks => &["risks"],
            View::Recommendations => &["recommendations"],
            View::Realtime => &["real-time", "realtime"],
            View::Traces => &["traces"],
            View::Requests => &["requests"],
        }
    }

    /// What the view answers, in a line.
    pub fn description(self) -> &'static str {
        match self {
            View::Summary => "overall KPIs: runs, jobs, tokens, cost, QA, budget, executions",
            View::Projects => "per-project runs, tokens, cost, durations and QA",
            View::Models => "per-model tokens, cost, usage and cost share",
            View::Tools => "tool profiles: success rate, confidence, latency, risk patterns",
            View::Agents => "latest status, utilisation and executions per agent",
            View::Timeseries => "daily (or hourly) runs, tokens, cost and QA, zero-filled",
            View::Qa => "QA verdicts of runs and the pass rate",
            View::Costs => "cost by hour, day, project and model; storage cost estimate",
            View::Budget => "monthly budget, spend, status and month-end projection",
            View::Capacity => "utilisation trend, time to saturation and bottlenecks per agent",
            View::Pipeline => "jobs by state, throughput, queue wait and run durations",
            View::Risks => "where tools' failures concentrate, with lift",
            View::Recommendations => "use / use with review / avoid, per tool, with the reason",
            View::Realtime => "1, 5 and 15 minute windows and the system health score",
            View::Traces => {
                "recent OpenTelemetry traces: root span, project, start, duration, spans, tokens, cost, status"
            }
            View::Requests => {
                "requests served per endpoint: count, server errors, latency percentiles"
            }
        }
    }

    /// The view a `tally query` name or route segment names.
    pub fn from_name(name: &str) -> Option<View> {
        View::ALL
            .into_iter()
            .find(|v| v.name() == name || v.routes().contains(&name))
    }
}

fn json(value: impl Serialize) -> serde_json::Value {
    // The view types are plain data with string keys: serializing cannot fail.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl Analytics {
    /// A view as JSON, for the filter (and granularity, for `timeseries`).
    ///
    /// # Errors
    /// The store fails.
    pub fn view(
        &self,
        view: View,
        filter: &Filter,
        granularity: Granularity,
    ) -> Result<serde_json::Value> {
        Ok(match view {
            View::Summary => json(self.summary(filter)?),
            View::Projects => json(self.projects(filter)?),
            View::Models => json(self.models(filter)?),
            View::Tools => json(self.tools(filter)?),
            View::Agents => json(self.agents(filter)?),
            View::Timeseries => json(self.timeseries(filter, granularity)?),
            View::Qa => json(self.qa(filter)?),
            View::Costs => json(self.costs(filter)?),
            View::Budget => json(self.budget(filter)?),
            View::Capacity => json(self.capacity(filter)?),
            View::Pipeline => json(self.pipeline(filter)?),
            View::Risks => json(self.risks(filter)?),
            View::Recommendations => json(self.recommendations(filter)?),
            View::Realtime => json(self.realtime(filter)?),
            View::Traces => json(self.traces(filter)?),
            View::Requests => json(self.requests(filter)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_routes_find_their_view() {
        for view in View::ALL {
            assert_eq!(View::from_name(view.name()), Some(view));
            for route in view.routes() {
                assert_eq!(View::from_name(route), Some(view));
            }
        }
        assert_eq!(View::from_name("real-time"), Some(View::Realtime));
        assert_eq!(View::from_name("learning"), Some(View::Tools));
        assert_eq!(View::from_name("nope"), None);
    }
}
