//! tally's metrics tier: every aggregate view, composed from the rollup tier and the
//! live state the store keeps. Storage does the SQL; this crate owns the domain
//! arithmetic (rates, confidence, risk lift, forecasts, budget state) and the JSON
//! shapes clients see. No view scans raw events.

mod agents;
mod breakdowns;
mod costs;
mod engagement;
mod error;
mod fold;
mod pipeline;
mod realtime;
mod requests;
pub mod stats;
mod summary;
mod timeseries;
mod tools;

pub use agents::{
    AgentCondition, AgentSnapshot, AgentSummary, CAPACITY_WINDOW_HOURS, Capacity, CapacityForecast,
    agents, capacity,
};
pub use breakdowns::{ModelSummary, ProjectSummary, models, projects};
pub use costs::{
    Budget, BudgetStatus, CostPoint, CostShare, Costs, STORAGE_USD_PER_GB_MONTH, StorageCost,
    budget, costs,
};
pub use engagement::{
    Cohort, Cohorts, DEFAULT_SESSION_TIMEOUT_MINUTES, Engagement, EngagementGranularity,
    EngagementOptions, EngagementPeriod, cohorts, engagement,
};
pub use error::{Error, Result};
pub use fold::ViewOptions;
pub use pipeline::{JobsByState, Pipeline, QueueWait, RunDurations, Throughput, pipeline};
pub use realtime::{Health, HealthStatus, HealthWeights, Realtime, Window, realtime};
pub use requests::{
    EndpointSummary, EndpointTrend, PreviousPeriod, REQUESTS_WINDOW_DAYS, Requests, requests,
};
pub use summary::{AnalyticsSummary, QaSummary, qa, summary, summary_from_raw, totals};
pub use timeseries::{Granularity, TimeSeries, TimeSeriesPoint, timeseries};
pub use tools::{
    Advice, Confidence, PROFILE_WINDOW_DAYS, Recommendation, RiskPattern, ToolProfile,
    recommendations, risks, tools, wilson_interval,
};
