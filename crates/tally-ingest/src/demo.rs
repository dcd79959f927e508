//! `tally demo`: realistic synthetic telemetry of every kind, exactly deterministic for a seed.
//!
//! [`generate`] walks the window in fixed steps (an hour, shorter at high volume) and keeps
//! only a small time-ordered heap of pending events, so memory stays flat for any volume.
//! Effects are planted so every view has something true to show: daily and weekly rhythm,
//! a flaky night-time browser tool, a one-day cost spike, an incident hour, learner
//! streaks, gaps and drop-outs, a learnable skill-success rule, and an A/B test with a real
//! effect next to one without.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal, Poisson};
use tally_models::{
    Action, AgentStatus, AttrValue, Attrs, CostSource, Effort, ErrorEvent, Event, EventBody,
    EventId, Execution, Job, JobStatus, Kind, MetricValue, ModelUsage, Outcome, QaStatus,
    QualityBreakdown, Request, Run, Session, Severity, Skill, SystemMetrics, TokenUsage, Usd,
};

/// Settings of the demo generator.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Approximate total number of events of all kinds.
    pub events: u64,
    /// Days of history, ending at `end` (0 is treated as 1).
    pub days: u32,
    /// Seed of the random stream.
    pub seed: u64,
    /// The instant the history ends at (callers pass "now"; tests pass a fixed time).
    pub end: DateTime<Utc>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            events: 20_000,
            days: 30,
            seed: 42,
            end: Utc::now(),
        }
    }
}

/// An endless-free iterator of events in time order; exactly deterministic for a given
/// config (same config => identical events, including ids). It does not borrow `config`.
pub fn generate(config: &DemoConfig) -> impl Iterator<Item = Event> + use<> {
    Generator::new(config)
}

// ---------------------------------------------------------------------------------------
// Scenery: fixed tables the generator draws from.

/// The demo's projects (tenants).
const SUPPORT: &str = "support-bot";
const CODE: &str = "code-review";
const TUTOR: &str = "tutor-app";
const RESEARCH: &str = "research-agent";

/// The projects in agent-table order, with their share of executions.
const PROJECTS: [(&str, f64); 4] = [
    (SUPPORT, 0.35),
    (CODE, 0.25),
    (TUTOR, 0.15),
    (RESEARCH, 0.25),
];

/// The project whose LLM spend jumps about 8x on one day (60 % through the window):
/// enough for the total cost to stand out as an anomaly whichever weekday it falls on.
const SPIKE_PROJECT: &str = RESEARCH;
const SPIKE_FACTOR: f64 = 8.0;

/// Relative activity by hour of day (UTC): quiet nights, busy working hours.
#[rustfmt::skip]
const HOUR_WEIGHT: [f64; 24] = [
    0.30, 0.24, 0.20, 0.18, 0.20, 0.26, 0.38, 0.58, 0.82, 1.00, 1.08, 1.12,
    1.02, 1.06, 1.12, 1.10, 1.02, 0.90, 0.76, 0.62, 0.52, 0.46, 0.40, 0.34,
];
/// The largest value of `HOUR_WEIGHT`, where agents are at their typical load.
const PEAK_ACTIVITY: f64 = 1.12;

/// An LLM and its list prices in USD per million tokens.
struct Model {
    name: &'static str,
    weight: f64,
    input: f64,
    output: f64,
    cache_read: f64,
    /// Price of cache writes, for providers with explicit cache writes.
    cache_write: Option<f64>,
    /// Share of calls that report reasoning tokens.
    reasoning: f64,
}

/// Models with list prices (USD per million tokens) and how often each is used.
#[rustfmt::skip]
const MODELS: [Model; 5] = [
    Model { name: "gpt-4o", weight: 20.0, input: 2.50, output: 10.00, cache_read: 1.25, cache_write: None, reasoning: 0.0 },
    Model { name: "gpt-4o-mini", weight: 30.0, input: 0.15, output: 0.60, cache_read: 0.075, cache_write: None, reasoning: 0.0 },
    Model { name: "claude-sonnet-4", weight: 22.0, input: 3.00, output: 15.00, cache_read: 0.30, cache_write: Some(3.75), reasoning: 0.25 },
    Model { name: "claude-haiku-4", weight: 18.0, input: 1.00, output: 5.00, cache_read: 0.10, cache_write: Some(1.25), reasoning: 0.0 },
    Model { name: "gemini-2.5-pro", weight: 10.0, input: 1.25, output: 10.00, cache_read: 0.31, cache_write: None, reasoning: 0.8 },
];

/// A tool agents execute. `input`/`output` are median tokens (0: the tool uses no LLM).
struct Tool {
    name: &'static str,
    weight: f64,
    median_ms: f64,
    sigma: f64,
    /// Failure rate in the day and at night (00:00-05:59 UTC).
    fail_day: f64,
    fail_night: f64,
    browser: bool,
    input: f64,
    output: f64,
}

impl Tool {
    fn uses_llm(&self) -> bool {
        self.input > 0.0
    }

    /// How long a timed-out call of this tool ran.
    fn timeout_ms(&self) -> f64 {
        if self.browser {
            90_000.0
        } else if self.uses_llm() {
            60_000.0
        } else {
            30_000.0
        }
    }
}

/// `browser_automation` fails ~35 % overall, mostly at night; a few others are shaky too.
#[rustfmt::skip]
const TOOLS: [Tool; 15] = [
    Tool { name: "web_search", weight: 10.0, median_ms: 900.0, sigma: 0.5, fail_day: 0.03, fail_night: 0.04, browser: false, input: 0.0, output: 0.0 },
    Tool { name: "fetch_url", weight: 8.0, median_ms: 650.0, sigma: 0.7, fail_day: 0.06, fail_night: 0.07, browser: false, input: 0.0, output: 0.0 },
    Tool { name: "browser_automation", weight: 5.0, median_ms: 9_500.0, sigma: 0.6, fail_day: 0.32, fail_night: 0.70, browser: true, input: 3_500.0, output: 400.0 },
    Tool { name: "scrape_page", weight: 4.0, median_ms: 3_200.0, sigma: 0.6, fail_day: 0.12, fail_night: 0.15, browser: true, input: 0.0, output: 0.0 },
    Tool { name: "code_edit", weight: 10.0, median_ms: 4_200.0, sigma: 0.6, fail_day: 0.05, fail_night: 0.06, browser: false, input: 9_000.0, output: 1_400.0 },
    Tool { name: "run_tests", weight: 7.0, median_ms: 15_000.0, sigma: 0.8, fail_day: 0.13, fail_night: 0.13, browser: false, input: 0.0, output: 0.0 },
    Tool { name: "shell_command", weight: 6.0, median_ms: 1_100.0, sigma: 0.9, fail_day: 0.07, fail_night: 0.07, browser: false, input: 0.0, output: 0.0 },
    Tool { name: "summarize", weight: 9.0, median_ms: 3_500.0, sigma: 0.5, fail_day: 0.02, fail_night: 0.02, browser: false, input: 6_500.0, output: 500.0 },
    Tool { name: "plan_task", weight: 6.0, median_ms: 5_200.0, sigma: 0.5, fail_day: 0.03, fail_night: 0.03, browser: false, input: 4_200.0, output: 900.0 },
    Tool { name: "review_diff", weight: 6.0, median_ms: 6_800.0, sigma: 0.6, fail_day: 0.04, fail_night: 0.04, browser: false, input: 12_000.0, output: 1_100.0 },
    Tool { name: "answer_question", weight: 10.0, median_ms: 2_800.0, sigma: 0.5, fail_day: 0.03, fail_night: 0.03, browser: false, input: 2_600.0, output: 450.0 },
    Tool { name: "sql_query", weight: 5.0, median_ms: 420.0, sigma: 0.8, fail_day: 0.04, fail_night: 0.04, browser: false, input: 0.0, output: 0.0 },
    Tool { name: "file_read", weight: 6.0, median_ms: 110.0, sigma: 0.7, fail_day: 0.01, fail_night: 0.01, browser: false, input: 0.0, output: 0.0 },
    Tool { name: "send_email", weight: 2.0, median_ms: 700.0, sigma: 0.4, fail_day: 0.02, fail_night: 0.02, browser: false, input: 0.0, output: 0.0 },
    Tool { name: "translate", weight: 3.0, median_ms: 2_300.0, sigma: 0.5, fail_day: 0.02, fail_night: 0.02, browser: false, input: 1_500.0, output: 1_600.0 },
];

/// An agent: two per project, in `PROJECTS` order. `load` is its demand at peak relative
/// to capacity (cedar is overloaded, flux idles); `fail_bonus` adds to tool failure rates.
struct AgentDef {
    id: &'static str,
    project: &'static str,
    capacity: u64,
    load: f64,
    fail_bonus: f64,
}

/// The eight agents.
#[rustfmt::skip]
const AGENTS: [AgentDef; 8] = [
    AgentDef { id: "agent-atlas", project: SUPPORT, capacity: 6, load: 0.80, fail_bonus: 0.0 },
    AgentDef { id: "agent-bolt", project: SUPPORT, capacity: 8, load: 0.85, fail_bonus: 0.0 },
    AgentDef { id: "agent-cedar", project: CODE, capacity: 4, load: 1.35, fail_bonus: 0.04 },
    AgentDef { id: "agent-delta", project: CODE, capacity: 6, load: 0.70, fail_bonus: 0.0 },
    AgentDef { id: "agent-echo", project: TUTOR, capacity: 4, load: 0.75, fail_bonus: 0.0 },
    AgentDef { id: "agent-flux", project: TUTOR, capacity: 7, load: 0.45, fail_bonus: 0.0 },
    AgentDef { id: "agent-gale", project: RESEARCH, capacity: 8, load: 0.60, fail_bonus: 0.0 },
    AgentDef { id: "agent-halo", project: RESEARCH, capacity: 5, load: 1.00, fail_bonus: 0.06 },
];

/// A host reporting system metrics: cores, CPU at rest and its swing with load, memory
/// base, disk use at the start and its growth over the window.
struct HostDef {
    name: &'static str,
    project: &'static str,
    cores: f64,
    cpu_base: f64,
    cpu_swing: f64,
    mem_base: f64,
    disk_start: f64,
    disk_growth: f64,
}

/// The hosts reporting system metrics.
#[rustfmt::skip]
const HOSTS: [HostDef; 5] = [
    HostDef { name: "api-1", project: SUPPORT, cores: 4.0, cpu_base: 12.0, cpu_swing: 55.0, mem_base: 48.0, disk_start: 41.0, disk_growth: 6.0 },
    HostDef { name: "api-2", project: SUPPORT, cores: 4.0, cpu_base: 10.0, cpu_swing: 50.0, mem_base: 45.0, disk_start: 38.0, disk_growth: 6.0 },
    HostDef { name: "worker-1", project: CODE, cores: 8.0, cpu_base: 20.0, cpu_swing: 60.0, mem_base: 55.0, disk_start: 52.0, disk_growth: 10.0 },
    HostDef { name: "worker-2", project: RESEARCH, cores: 8.0, cpu_base: 18.0, cpu_swing: 58.0, mem_base: 52.0, disk_start: 47.0, disk_growth: 10.0 },
    HostDef { name: "db-1", project: TUTOR, cores: 16.0, cpu_base: 15.0, cpu_swing: 45.0, mem_base: 62.0, disk_start: 63.0, disk_growth: 18.0 },
];

/// Learning topics with a difficulty offset to session quality.
#[rustfmt::skip]
const TOPICS: [(&str, f64); 15] = [
    ("algebra", 0.0), ("geometry", 0.02), ("calculus", -0.08), ("statistics", -0.03),
    ("rust-ownership", -0.10), ("rust-traits", -0.06), ("python-basics", 0.06),
    ("sql-joins", -0.02), ("spanish-verbs", 0.01), ("spanish-vocabulary", 0.05),
    ("french-grammar", -0.04), ("japanese-kana", 0.03), ("music-theory", -0.01),
    ("chemistry-bonds", -0.05), ("world-history", 0.04),
];

/// Workflow phases of skill invocations, with their effect on the success logit.
const PHASES: [(&str, f64); 5] = [
    ("planning", 0.2),
    ("execution", 0.0),
    ("review", 0.1),
    ("debugging", -0.4),
    ("documentation", 0.4),
];

/// A skill: its natural phase, base success logit and a query template (`{m}`: a module).
struct SkillDef {
    name: &'static str,
    phase: &'static str,
    base: f64,
    query: &'static str,
}

/// The skills developers invoke.
#[rustfmt::skip]
const SKILLS: [SkillDef; 10] = [
    SkillDef { name: "commit-helper", phase: "execution", base: 1.3, query: "write a commit message for the {m} changes" },
    SkillDef { name: "test-writer", phase: "execution", base: 0.3, query: "write unit tests for the {m} module" },
    SkillDef { name: "refactor", phase: "execution", base: 0.0, query: "refactor {m} to remove duplicated error handling" },
    SkillDef { name: "doc-writer", phase: "documentation", base: 1.0, query: "document the public API of {m}" },
    SkillDef { name: "debugger", phase: "debugging", base: -0.3, query: "why does the {m} test fail intermittently?" },
    SkillDef { name: "pr-reviewer", phase: "review", base: 0.6, query: "review the open pull request touching {m}" },
    SkillDef { name: "migration-planner", phase: "planning", base: -0.4, query: "plan the schema migration for {m}" },
    SkillDef { name: "api-designer", phase: "planning", base: 0.2, query: "design a REST endpoint for {m}" },
    SkillDef { name: "perf-profiler", phase: "debugging", base: -0.6, query: "profile the slow path in {m}" },
    SkillDef { name: "security-audit", phase: "review", base: -0.2, query: "audit {m} for injection risks" },
];

/// Code modules that skill queries mention.
const MODULES: [&str; 8] = [
    "billing",
    "auth",
    "ingest",
    "scheduler",
    "search",
    "reports",
    "notifications",
    "storage",
];

/// An API endpoint: weight, median latency (ms) and spread; `created` answers 201.
struct Endpoint {
    path: &'static str,
    method: &'static str,
    weight: f64,
    median_ms: f64,
    sigma: f64,
    created: bool,
}

/// The API surface requests hit.
#[rustfmt::skip]
const ENDPOINTS: [Endpoint; 10] = [
    Endpoint { path: "/v1/chat", method: "POST", weight: 30.0, median_ms: 850.0, sigma: 0.6, created: false },
    Endpoint { path: "/v1/chat/stream", method: "POST", weight: 10.0, median_ms: 2_400.0, sigma: 0.5, created: false },
    Endpoint { path: "/v1/sessions", method: "GET", weight: 12.0, median_ms: 45.0, sigma: 0.5, created: false },
    Endpoint { path: "/v1/sessions", method: "POST", weight: 6.0, median_ms: 80.0, sigma: 0.5, created: true },
    Endpoint { path: "/v1/lessons", method: "GET", weight: 10.0, median_ms: 60.0, sigma: 0.6, created: false },
    Endpoint { path: "/v1/search", method: "GET", weight: 10.0, median_ms: 220.0, sigma: 0.7, created: false },
    Endpoint { path: "/v1/feedback", method: "POST", weight: 5.0, median_ms: 35.0, sigma: 0.4, created: true },
    Endpoint { path: "/v1/reports/export", method: "GET", weight: 2.0, median_ms: 3_800.0, sigma: 0.8, created: false },
    Endpoint { path: "/v1/auth/token", method: "POST", weight: 8.0, median_ms: 120.0, sigma: 0.4, created: false },
    Endpoint { path: "/healthz", method: "GET", weight: 7.0, median_ms: 3.0, sigma: 0.3, created: false },
];

/// User actions: name, weight, screen.
#[rustfmt::skip]
const ACTIONS: [(&str, f64, &str); 10] = [
    ("login", 14.0, "sign-in"), ("open_lesson", 16.0, "lessons"), ("submit_answer", 22.0, "lesson"),
    ("view_progress", 9.0, "dashboard"), ("start_chat", 12.0, "chat"), ("rate_answer", 7.0, "chat"),
    ("export_report", 2.0, "reports"), ("change_settings", 3.0, "settings"), ("share_link", 3.0, "lesson"),
    ("logout", 6.0, "menu"),
];

/// Error sources and the messages they raise.
#[rustfmt::skip]
const ERROR_SOURCES: [(&str, &[&str]); 6] = [
    ("api", &["unhandled exception in POST /v1/chat: missing field `messages`", "request body exceeds the 1 MiB limit", "upstream connection reset while streaming the response"]),
    ("worker", &["job exceeded max retries (5) and moved to the dead-letter queue", "out of memory while embedding a batch of 512 documents", "task heartbeat missed for 120 s; task requeued"]),
    ("scheduler", &["missed cron tick for nightly-report", "lock not acquired: another scheduler instance is running"]),
    ("llm-gateway", &["rate limit exceeded for gpt-4o (429), retrying in 20 s", "provider timeout after 60 s (claude-sonnet-4)", "model returned invalid JSON for a tool call"]),
    ("db", &["slow query (2.4 s) on sessions by user_id", "deadlock detected; transaction retried", "connection pool exhausted (50/50 in use)"]),
    ("billing", &["project research-agent passed 80 % of its monthly budget", "no price for a model in the price table; cost left empty"]),
];

/// Client devices with their shares, and API regions.
const DEVICES: [(&str, f64); 3] = [("web", 0.55), ("ios", 0.25), ("android", 0.20)];
const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-southeast-1"];

/// Events per job (4 % cancelled in the queue: 2 records; the rest: 3) and runs per job
/// (completed or failed after starting), used to split the run budget.
const JOB_EVENTS_PER_JOB: f64 = 0.04 * 2.0 + 0.96 * 3.0;
const JOB_RUNS_PER_JOB: f64 = 0.96 * 0.96;

// ---------------------------------------------------------------------------------------
// The plan: window, steps and the expected count of each kind, fixed up front.

/// Window, step grid, planted dates and expected counts, derived from the config.
#[derive(Debug)]
struct Plan {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    days: u32,
    step: Duration,
    steps: u64,
    /// Sum of step weights over the window, and over the experiment's part of it.
    weight_total: f64,
    weight_experiment: f64,
    executions: f64,
    jobs: f64,
    runs: f64,
    sessions: f64,
    skills: f64,
    outcomes: f64,
    requests: f64,
    actions: f64,
    errors: f64,
    agent_every: Option<Duration>,
    host_every: Option<Duration>,
    experiment_start: DateTime<Utc>,
    incident_start: DateTime<Utc>,
    spike_day: NaiveDate,
}

impl Plan {
    /// The plan for `config`.
    fn new(config: &DemoConfig) -> Plan {
        let days = config.days.max(1);
        let window = Duration::days(i64::from(days));
        // Whole milliseconds throughout: `end` rounded down, `start` rounded up.
        let end =
            DateTime::from_timestamp_millis(config.end.timestamp_millis()).unwrap_or(config.end);
        let start = end - window
            + if end < config.end {
                Duration::milliseconds(1)
            } else {
                Duration::zero()
            };
        let total = config.events as f64;
        // Split hours so that one step holds at most ~2,000 events on average.
        let per_hour = total / (f64::from(days) * 24.0);
        let split = [1u32, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]
            .into_iter()
            .find(|&k| per_hour / f64::from(k) <= 2_000.0)
            .unwrap_or(60);
        let step = Duration::seconds(3_600 / i64::from(split));
        let steps = if config.events == 0 {
            0
        } else {
            u64::from(days) * 24 * u64::from(split)
        };
        let at = |fraction: f64| {
            start + Duration::milliseconds((window.num_milliseconds() as f64 * fraction) as i64)
        };
        let experiment_start = at(0.2);
        // The incident is one clock-hour of steps, 35 % through the window.
        let incident_step = (steps as f64 * 0.35) as u64 / u64::from(split) * u64::from(split);
        let incident_start = start + steps_of(step, incident_step);

        let (mut weight_total, mut weight_experiment) = (0.0, 0.0);
        for i in 0..steps {
            let t0 = start + steps_of(step, i);
            let w = step_weight(
                t0,
                (t0 - start).num_seconds() as f64 / window.num_seconds() as f64,
            );
            weight_total += w;
            if t0 >= experiment_start {
                weight_experiment += w;
            }
        }

        let share = |s: f64| total * s;
        let (agent_every, agent_count) =
            periodic(share(0.03), AGENTS.len(), window, Duration::minutes(15));
        let (host_every, host_count) =
            periodic(share(0.01), HOSTS.len(), window, Duration::minutes(1));
        let jobs = share(0.05) / JOB_EVENTS_PER_JOB;
        Plan {
            start,
            end,
            days,
            step,
            steps,
            weight_total,
            weight_experiment,
            // Snapshots capped by their minimum interval leave their budget to executions.
            executions: share(0.60) + (share(0.03) - agent_count) + (share(0.01) - host_count),
            jobs,
            runs: (share(0.05) - jobs * JOB_RUNS_PER_JOB).max(0.0),
            sessions: share(0.08),
            skills: share(0.08),
            outcomes: share(0.04),
            requests: share(0.04),
            actions: share(0.015),
            errors: share(0.005),
            agent_every,
            host_every,
            experiment_start,
            incident_start,
            spike_day: at(0.6).date_naive(),
        }
    }

    /// True during the incident hour (5xx, slow requests, error burst, rate limits).
    fn in_incident(&self, t: DateTime<Utc>) -> bool {
        t >= self.incident_start && t < self.incident_start + Duration::hours(1)
    }

    /// True for `project`'s events on the cost-spike day.
    fn is_spike(&self, t: DateTime<Utc>, project: &str) -> bool {
        project == SPIKE_PROJECT && t.date_naive() == self.spike_day
    }

    /// How far through the window `t` is, in [0, 1].
    fn progress(&self, t: DateTime<Utc>) -> f64 {
        ((t - self.start).num_seconds() as f64
            / (self.end - self.start).num_seconds().max(1) as f64)
            .clamp(0.0, 1.0)
    }
}

/// Relative activity at `t`: hour-of-day rhythm times a quieter weekend.
fn activity(t: DateTime<Utc>) -> f64 {
    let weekday = match t.weekday() {
        Weekday::Sat => 0.45,
        Weekday::Sun => 0.40,
        _ => 1.0,
    };
    HOUR_WEIGHT[t.hour() as usize] * weekday
}

/// The weight of the step starting at `t0`: activity plus a gentle growth over the window.
fn step_weight(t0: DateTime<Utc>, progress: f64) -> f64 {
    activity(t0) * (0.85 + 0.3 * progress)
}

/// The interval of a per-source snapshot series that yields about `target` records in all
/// (never more often than `min`), and the count it really yields.
fn periodic(
    target: f64,
    sources: usize,
    window: Duration,
    min: Duration,
) -> (Option<Duration>, f64) {
    if target <= 0.0 {
        return (None, 0.0);
    }
    let per_source = target / sources as f64;
    let every_ms =
        (window.num_milliseconds() as f64 / per_source).max(min.num_milliseconds() as f64);
    (
        Some(Duration::milliseconds(every_ms as i64)),
        sources as f64 * window.num_milliseconds() as f64 / every_ms,
    )
}

// ---------------------------------------------------------------------------------------
// Population state.

/// How a learner practises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Habit {
    /// Almost every day: long streaks.
    Daily,
    /// Most weekdays, fewer weekends.
    Regular,
    /// Keen, but with breaks of several days.
    Gappy,
    /// Stops part-way through the window.
    Dropout,
    /// Joins part-way through the window.
    Late,
}

/// One learner of the tutoring app.
#[derive(Debug)]
struct Learner {
    id: String,
    habit: Habit,
    p_day: f64,
    /// Active day indices (from the window's first date): `first_day..last_day`.
    first_day: i64,
    last_day: i64,
    /// Preferred hour of day (UTC) for the first session.
    hour: f64,
    /// Quality at the start and its change over the window.
    base: f64,
    delta: f64,
    topics: Vec<(&'static str, f64)>,
    device: &'static str,
    gap_left: u32,
}

impl Learner {
    /// Learner `i`; every eighth index shares a habit, so all habits appear.
    fn new(rng: &mut ChaCha8Rng, i: usize, days: u32) -> Learner {
        let habit = match i % 8 {
            0 | 1 => Habit::Daily,
            2..=4 => Habit::Regular,
            5 => Habit::Gappy,
            6 => Habit::Dropout,
            _ => Habit::Late,
        };
        let d = i64::from(days);
        let part =
            |rng: &mut ChaCha8Rng, lo: f64, hi: f64| (d as f64 * rng.random_range(lo..hi)) as i64;
        let (p_day, first_day, last_day, delta) = match habit {
            Habit::Daily => (0.97, 0, d + 1, rng.random_range(0.12..0.25)),
            Habit::Regular => (0.62, 0, d + 1, rng.random_range(0.0..0.15)),
            Habit::Gappy => (0.85, 0, d + 1, rng.random_range(-0.05..0.10)),
            Habit::Dropout => (
                0.80,
                0,
                part(rng, 0.3, 0.75),
                rng.random_range(-0.20..-0.05),
            ),
            Habit::Late => (
                0.75,
                part(rng, 0.2, 0.6),
                d + 1,
                rng.random_range(0.10..0.25),
            ),
        };
        let base = if habit == Habit::Daily {
            rng.random_range(0.62..0.74)
        } else {
            rng.random_range(0.45..0.68)
        };
        let hour = [7.5, 12.5, 18.0, 20.5, 21.5]
            .choose(rng)
            .copied()
            .unwrap_or(19.0)
            + gauss(rng, 0.0, 0.6);
        let topic_count = rng_count(rng, 2, 4);
        let topics = TOPICS.choose_multiple(rng, topic_count).copied().collect();
        Learner {
            id: format!("learner-{:03}", i + 1),
            habit,
            p_day,
            first_day,
            last_day,
            hour,
            base,
            delta,
            topics,
            device: DEVICES[pick(rng, &DEVICES, |d| d.1)].0,
            gap_left: 0,
        }
    }

    /// Expected active days over the window, to calibrate sessions per active day.
    fn expected_active_days(&self, days: u32) -> f64 {
        let factor = match self.habit {
            Habit::Regular => (5.0 + 2.0 * 0.7) / 7.0,
            Habit::Gappy => 0.63,
            _ => 1.0,
        };
        (self.last_day.min(i64::from(days)) - self.first_day).max(0) as f64 * self.p_day * factor
    }

    /// One session `progress` through the window.
    fn session(&self, rng: &mut ChaCha8Rng, progress: f64) -> (Session, Attrs) {
        let count = 1 + usize::from(rng.random_bool(0.3));
        let mut topics: Vec<(&str, f64)> =
            self.topics.choose_multiple(rng, count).copied().collect();
        if rng.random_bool(0.1) {
            if let Some(&extra) = TOPICS.choose(rng) {
                if !topics.contains(&extra) {
                    topics.push(extra);
                }
            }
        }
        let difficulty = topics.iter().map(|t| t.1).sum::<f64>() / topics.len().max(1) as f64;
        let quality = (self.base + self.delta * progress + difficulty + gauss(rng, 0.0, 0.06))
            .clamp(0.05, 0.99);
        let duration_s = lognormal(rng, 840.0, 0.5);
        let exchanges = (duration_s / 60.0 * rng.random_range(0.8..2.2))
            .round()
            .max(1.0) as u64;
        let mut breakdown = QualityBreakdown::default();
        if rng.random_bool(0.55) {
            let engagement = 0.05 * (duration_s / 840.0).ln();
            let mut score = |offset: f64| {
                Some(round_to(
                    (quality + offset + gauss(rng, 0.0, 0.05)).clamp(0.0, 1.0),
                    3,
                ))
            };
            breakdown = QualityBreakdown {
                relevance: score(0.04),
                helpfulness: score(0.0),
                engagement: score(engagement),
                clarity: score(0.02),
                accuracy: score(-0.03),
            };
        }
        let session = Session {
            user_id: self.id.clone(),
            duration_s: round_to(duration_s, 1),
            exchanges,
            quality: rng.random_bool(0.85).then_some(round_to(quality, 3)),
            topics: topics.iter().map(|t| t.0.to_owned()).collect(),
            quality_breakdown: breakdown,
        };
        (session, attrs([("device", text(self.device))]))
    }
}

/// One developer using skills; `counts` are prior invocations per skill (familiarity).
#[derive(Debug)]
struct Developer {
    id: String,
    aptitude: f64,
    /// Cumulative preference weights over `SKILLS`.
    prefs: Vec<f64>,
    counts: Vec<u32>,
}

/// Where an agent stands: next snapshot and its current task.
#[derive(Debug)]
struct AgentState {
    next: Option<DateTime<Utc>>,
    task: u64,
    task_left: u64,
}

/// An event waiting in the heap, ordered by (ts, creation order), earliest first.
#[derive(Debug)]
struct Pending {
    seq: u64,
    event: Event,
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.event.ts, other.seq).cmp(&(self.event.ts, self.seq))
    }
}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}

impl Eq for Pending {}

// ---------------------------------------------------------------------------------------
// The generator.

/// The lazy event stream behind [`generate`].
#[derive(Debug)]
struct Generator {
    plan: Plan,
    rng: ChaCha8Rng,
    heap: BinaryHeap<Pending>,
    /// Last id number used per kind, by `Kind::code()`.
    counters: [u64; 11],
    seq: u64,
    next_step: u64,
    /// Pending events before this instant are final and may be emitted.
    horizon: DateTime<Utc>,
    next_day: NaiveDate,
    learners: Vec<Learner>,
    /// Scales learners' daily odds (below 1 when volume is low) and the mean number of
    /// extra sessions on an active day.
    activity_scale: f64,
    session_extra: f64,
    devs: Vec<Developer>,
    dev_cumulative: Vec<f64>,
    trial_users: u64,
    agents: Vec<AgentState>,
    hosts: Vec<Option<DateTime<Utc>>>,
    next_job: u64,
    next_task: u64,
}

impl Generator {
    /// Fixes the plan and draws the populations; no events yet.
    fn new(config: &DemoConfig) -> Generator {
        let plan = Plan::new(config);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let days = f64::from(plan.days);

        let learner_count = ((plan.sessions / days / 1.3).round() as usize).clamp(6, 5_000);
        let learners: Vec<Learner> = (0..learner_count)
            .map(|i| Learner::new(&mut rng, i, plan.days))
            .collect();
        let per_active_day = plan.sessions
            / learners
                .iter()
                .map(|l| l.expected_active_days(plan.days))
                .sum::<f64>()
                .max(1.0);
        let (activity_scale, session_extra) = if per_active_day >= 1.0 {
            (1.0, per_active_day - 1.0)
        } else {
            (per_active_day, 0.0)
        };

        let dev_count = ((plan.skills / days / 2.5).round() as usize).clamp(5, 2_000);
        let mut dev_weights = Vec::with_capacity(dev_count);
        let devs = (0..dev_count)
            .map(|i| {
                dev_weights.push(lognormal(&mut rng, 1.0, 0.7));
                let prefs: Vec<f64> = SKILLS
                    .iter()
                    .map(|_| lognormal(&mut rng, 1.0, 1.0))
                    .collect();
                Developer {
                    id: format!("dev-{:03}", i + 1),
                    aptitude: gauss(&mut rng, 0.0, 0.4),
                    prefs: cumulative(&prefs),
                    counts: vec![0; SKILLS.len()],
                }
            })
            .collect();

        let first = |rng: &mut ChaCha8Rng, every: Option<Duration>| {
            every.map(|e| {
                plan.start
                    + Duration::milliseconds(rng.random_range(0..e.num_milliseconds().max(1)))
            })
        };
        let agents = AGENTS
            .iter()
            .map(|_| AgentState {
                next: first(&mut rng, plan.agent_every),
                task: 0,
                task_left: 0,
            })
            .collect();
        let hosts = HOSTS
            .iter()
            .map(|_| first(&mut rng, plan.host_every))
            .collect();

        Generator {
            horizon: plan.start,
            next_day: plan.start.date_naive(),
            trial_users: ((plan.outcomes / 1.6).round() as u64).max(20),
            plan,
            rng,
            heap: BinaryHeap::new(),
            counters: [0; 11],
            seq: 0,
            next_step: 0,
            learners,
            activity_scale,
            session_extra,
            devs,
            dev_cumulative: cumulative(&dev_weights),
            agents,
            hosts,
            next_job: 0,
            next_task: 0,
        }
    }

    /// A fresh id of `kind`: `demo-{kind}-{n}`.
    fn next_id(&mut self, kind: Kind) -> EventId {
        let n = &mut self.counters[usize::from(kind.code())];
        *n += 1;
        EventId::Given(compact_str::format_compact!("demo-{kind}-{n}"))
    }

    /// Queues an event under a fresh id.
    fn push(&mut self, ts: DateTime<Utc>, project: &str, attrs: Attrs, body: EventBody) {
        let id = self.next_id(body.kind());
        self.push_with_id(id, ts, project, attrs, body);
    }

    /// Queues an event under an id allocated earlier.
    fn push_with_id(
        &mut self,
        id: EventId,
        ts: DateTime<Utc>,
        project: &str,
        attrs: Attrs,
        body: EventBody,
    ) {
        self.seq += 1;
        let event = Event {
            id: Some(id),
            ts,
            project: project.into(),
            attrs,
            body,
        };
        self.heap.push(Pending {
            seq: self.seq,
            event,
        });
    }

    /// Generates every event that starts in the next step.
    fn generate_step(&mut self) {
        let i = self.next_step;
        self.next_step += 1;
        let last = self.next_step == self.plan.steps;
        let t0 = self.plan.start + steps_of(self.plan.step, i);
        let t1 = (t0 + self.plan.step).min(self.plan.end);
        // The last step also owns the instant `end` itself.
        self.horizon = if last {
            self.plan.end + Duration::nanoseconds(1)
        } else {
            t1
        };
        let upper_ms = (t1 - t0).num_milliseconds() + i64::from(last);

        while midnight(self.next_day) < t1 {
            let day = self.next_day;
            self.plan_day(day);
            match day.succ_opt() {
                Some(next) => self.next_day = next,
                None => break,
            }
        }
        self.snapshot_agents();
        self.snapshot_hosts();

        let w = step_weight(t0, self.plan.progress(t0));
        let share = w / self.plan.weight_total;
        let incident = self.plan.in_incident(t0);
        for ts in self.times(t0, upper_ms, self.plan.executions * share) {
            self.execution(ts, incident);
        }
        for ts in self.times(t0, upper_ms, self.plan.jobs * share) {
            self.job(ts);
        }
        for ts in self.times(t0, upper_ms, self.plan.runs * share) {
            self.run(ts);
        }
        for ts in self.times(t0, upper_ms, self.plan.skills * share) {
            self.skill(ts);
        }
        if t0 >= self.plan.experiment_start && self.plan.weight_experiment > 0.0 {
            for ts in self.times(
                t0,
                upper_ms,
                self.plan.outcomes * w / self.plan.weight_experiment,
            ) {
                self.outcome(ts);
            }
        }
        for ts in self.times(t0, upper_ms, self.plan.requests * share) {
            self.request(ts, incident);
        }
        for ts in self.times(t0, upper_ms, self.plan.actions * share) {
            self.action(ts);
        }
        let error_boost = if incident { 12.0 } else { 1.0 };
        for ts in self.times(t0, upper_ms, self.plan.errors * share * error_boost) {
            self.error(ts, incident);
        }
        if last {
            self.stuck_jobs(t0, upper_ms);
        }
    }

    /// A Poisson number of sorted instants in `[t0, t0 + upper_ms)`.
    fn times(&mut self, t0: DateTime<Utc>, upper_ms: i64, expected: f64) -> Vec<DateTime<Utc>> {
        let n = poisson(&mut self.rng, expected);
        let mut offsets: Vec<i64> = (0..n)
            .map(|_| self.rng.random_range(0..upper_ms.max(1)))
            .collect();
        offsets.sort_unstable();
        offsets
            .into_iter()
            .map(|ms| t0 + Duration::milliseconds(ms))
            .collect()
    }

    /// Plans one calendar day of learning sessions for every learner.
    fn plan_day(&mut self, date: NaiveDate) {
        let day = (date - self.plan.start.date_naive()).num_days();
        let progress = (day as f64 / f64::from(self.plan.days)).min(1.0);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let mut planned = Vec::new();
        for l in &mut self.learners {
            let rng = &mut self.rng;
            if day < l.first_day || day >= l.last_day {
                continue;
            }
            if l.gap_left > 0 {
                l.gap_left -= 1;
                continue;
            }
            if l.habit == Habit::Gappy && rng.random_bool(0.12) {
                l.gap_left = rng.random_range(2..=6);
                continue;
            }
            let weekend_factor = if weekend && l.habit == Habit::Regular {
                0.7
            } else {
                1.0
            };
            if !rng.random_bool((l.p_day * self.activity_scale * weekend_factor).clamp(0.0, 1.0)) {
                continue;
            }
            // Later sessions follow a few hours apart, wrapping to the morning.
            let first_hour = l.hour + gauss(rng, 0.0, 0.6);
            let count = 1 + poisson(rng, self.session_extra);
            let spacing = (24.0 / count as f64).min(4.0);
            for k in 0..count {
                let hour =
                    (first_hour + k as f64 * spacing * rng.random_range(0.8..1.0)).rem_euclid(24.0);
                let ts = midnight(date) + ms(hour.min(23.999) * 3_600_000.0);
                if ts >= self.plan.start && ts <= self.plan.end {
                    planned.push((ts, l.session(rng, progress)));
                }
            }
        }
        for (ts, (session, attrs)) in planned {
            self.push(ts, TUTOR, attrs, EventBody::Session(session));
        }
    }

    /// One agent tool execution, with tokens and cost when the tool calls an LLM.
    fn execution(&mut self, ts: DateTime<Utc>, incident: bool) {
        let rng = &mut self.rng;
        let p = pick(rng, &PROJECTS, |p| p.1);
        let project = PROJECTS[p].0;
        let a = 2 * p + usize::from(rng.random_bool(0.4));
        let agent = &AGENTS[a];
        let state = &mut self.agents[a];
        if state.task_left == 0 {
            self.next_task += 1;
            state.task = self.next_task;
            state.task_left = 1 + poisson(rng, 3.0);
        }
        state.task_left -= 1;
        let task_id = compact_str::format_compact!("task-{:06}", state.task);

        let tool = &TOOLS[pick(rng, &TOOLS, |t| t.weight)];
        let base_fail = if ts.hour() < 6 {
            tool.fail_night
        } else {
            tool.fail_day
        };
        let llm_trouble = if incident && tool.uses_llm() {
            0.25
        } else {
            0.0
        };
        let success =
            !rng.random_bool((base_fail + agent.fail_bonus + llm_trouble).clamp(0.0, 1.0));
        let error = (!success).then(|| error_class(rng, tool, incident));

        let mut duration = lognormal(rng, tool.median_ms, tool.sigma);
        let (mut model, mut tokens, mut cost) = (None, TokenUsage::default(), None);
        if tool.uses_llm() {
            let m = &MODELS[pick(rng, &MODELS, |m| m.weight)];
            model = Some(m.name.into());
            if error != Some("rate_limited") {
                let scale = if self.plan.is_spike(ts, project) {
                    SPIKE_FACTOR
                } else {
                    1.0
                };
                let (usage, usd) = llm_call(rng, m, tool.input, tool.output, scale);
                tokens = usage;
                cost = rng.random_bool(0.92).then_some(usd);
            }
        }
        match error {
            Some("timeout") => duration = tool.timeout_ms() + rng.random_range(0.0..250.0),
            Some("rate_limited") => duration = lognormal(rng, 350.0, 0.5),
            _ => {}
        }
        let effort = rng.random_bool(0.85).then(|| effort_for(rng, success));
        let (user_id, session_id) = if project != RESEARCH || rng.random_bool(0.4) {
            let (user, session) = user_for(rng, project, ts, &self.learners, &self.devs);
            (
                rng.random_bool(0.75).then_some(user),
                rng.random_bool(0.6).then_some(session),
            )
        } else {
            (None, None)
        };
        let env = if rng.random_bool(0.06) {
            "staging"
        } else {
            "prod"
        };
        let body = Execution {
            tool: tool.name.into(),
            duration_ms: round_to(duration, 1),
            success,
            agent_id: Some(agent.id.into()),
            task_id: Some(task_id),
            user_id: user_id.map(Into::into),
            session_id: session_id.map(Into::into),
            model,
            tokens,
            cost_usd: cost,
            cost_source: CostSource::Reported,
            effort,
            browser_used: tool.browser,
            error: error.map(Into::into),
        };
        self.push(
            ts,
            project,
            attrs([("env", text(env))]),
            EventBody::Execution(body),
        );
    }

    /// A background job: queued, then (usually) running, then its end state; the
    /// ones that ran also log their run. States after `end` are never emitted.
    fn job(&mut self, ts: DateTime<Utc>) {
        let rng = &mut self.rng;
        let project =
            [CODE, RESEARCH, SUPPORT, TUTOR][pick(rng, &[0.45, 0.35, 0.15, 0.05], |w| *w)];
        let priority = rng.random_bool(0.2);
        let wait_ms = lognormal(rng, if priority { 6_000.0 } else { 25_000.0 }, 0.9);
        let three_loop = rng.random_bool(0.4);
        let run_s = lognormal(rng, if three_loop { 210.0 } else { 95.0 }, 0.7);
        // Cancelled while queued, completed, failed, cancelled while running.
        let fate = pick(rng, &[0.04, 0.96 * 0.86, 0.96 * 0.10, 0.96 * 0.04], |w| *w);
        self.next_job += 1;
        let job_id = format!("job-{:06}", self.next_job);
        let tags = attrs([("queue", text(if priority { "priority" } else { "default" }))]);
        let record = |status, run_id: Option<&EventId>| {
            EventBody::Job(Job {
                job_id: job_id.clone(),
                status,
                run_id: run_id.map(ToString::to_string),
            })
        };

        self.push(ts, project, tags.clone(), record(JobStatus::Queued, None));
        let started = ts + ms(wait_ms);
        if fate == 0 {
            self.push(started, project, tags, record(JobStatus::Cancelled, None));
            return;
        }
        let run_id = (fate != 3).then(|| self.next_id(Kind::Run));
        self.push(
            started,
            project,
            tags.clone(),
            record(JobStatus::Running, run_id.as_ref()),
        );
        let finished = started + ms(run_s * 1_000.0);
        let status = [
            JobStatus::Completed,
            JobStatus::Completed,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ][fate];
        self.push(finished, project, tags, record(status, run_id.as_ref()));
        if let Some(id) = run_id {
            let qa = if fate == 2 {
                QaStatus::Error
            } else {
                qa_status(&mut self.rng, three_loop)
            };
            let run = self.run_body(finished, project, three_loop, qa, run_s);
            let tags = attrs([("trigger", text("job")), ("job_id", text(&job_id))]);
            self.push_with_id(id, finished, project, tags, EventBody::Run(run));
        }
    }

    /// A few jobs at the very end that are still queued or running.
    fn stuck_jobs(&mut self, t0: DateTime<Utc>, upper_ms: i64) {
        for (project, running) in [(CODE, false), (RESEARCH, true), (SUPPORT, true)] {
            let queued = t0 + Duration::milliseconds(self.rng.random_range(0..upper_ms.max(1)));
            let started = queued + ms(lognormal(&mut self.rng, 20_000.0, 0.5));
            self.next_job += 1;
            let job_id = format!("job-{:06}", self.next_job);
            let tags = attrs([("queue", text("default"))]);
            self.push(
                queued,
                project,
                tags.clone(),
                EventBody::Job(Job {
                    job_id: job_id.clone(),
                    status: JobStatus::Queued,
                    run_id: None,
                }),
            );
            if running && started <= self.plan.end {
                let run_id = Some(self.next_id(Kind::Run).to_string());
                self.push(
                    started,
                    project,
                    tags,
                    EventBody::Job(Job {
                        job_id,
                        status: JobStatus::Running,
                        run_id,
                    }),
                );
            }
        }
    }

    /// An orchestrator run started by hand or on a schedule.
    fn run(&mut self, ts: DateTime<Utc>) {
        let rng = &mut self.rng;
        let project =
            [CODE, RESEARCH, SUPPORT, TUTOR][pick(rng, &[0.40, 0.35, 0.15, 0.10], |w| *w)];
        let three_loop = rng.random_bool(0.4);
        let duration_s = lognormal(rng, if three_loop { 210.0 } else { 95.0 }, 0.6);
        let qa = qa_status(rng, three_loop);
        let trigger = if rng.random_bool(0.7) {
            "manual"
        } else {
            "schedule"
        };
        let run = self.run_body(ts, project, three_loop, qa, duration_s);
        self.push(
            ts,
            project,
            attrs([("trigger", text(trigger))]),
            EventBody::Run(run),
        );
    }

    /// A run with 1-3 models and their costs (8x volume on the spike day).
    fn run_body(
        &mut self,
        ts: DateTime<Utc>,
        project: &str,
        three_loop: bool,
        qa: QaStatus,
        duration_s: f64,
    ) -> Run {
        let scale = if self.plan.is_spike(ts, project) {
            SPIKE_FACTOR
        } else {
            1.0
        };
        let rng = &mut self.rng;
        let n = 1 + pick(rng, &[0.5, 0.35, 0.15], |w| *w);
        let chosen: Vec<&Model> = MODELS.choose_multiple(rng, n).collect();
        let (input_median, output_median) = if three_loop {
            (60_000.0, 7_000.0)
        } else {
            (30_000.0, 4_000.0)
        };
        let models = chosen
            .into_iter()
            .map(|m| {
                let input = (lognormal(rng, input_median / n as f64, 0.6) * scale).round() as u64;
                let output = (lognormal(rng, output_median / n as f64, 0.6) * scale).round() as u64;
                let usd = (input as f64 * m.input + output as f64 * m.output) / 1e6;
                ModelUsage {
                    model: m.name.to_owned(),
                    input_tokens: input,
                    output_tokens: output,
                    cost_usd: rng.random_bool(0.95).then(|| dollars(usd)),
                }
            })
            .collect();
        Run {
            duration_s: round_to(duration_s, 2),
            mode: Some(if three_loop { "3loop" } else { "2loop" }.to_owned()),
            qa_status: qa,
            models,
        }
    }

    /// A skill invocation whose success follows a logistic rule of skill, phase, hour and
    /// the developer's familiarity with the skill, so a predictor has real signal.
    fn skill(&mut self, ts: DateTime<Utc>) {
        let rng = &mut self.rng;
        let dev = &mut self.devs[pick_cumulative(rng, &self.dev_cumulative)];
        let s = pick_cumulative(rng, &dev.prefs);
        let def = &SKILLS[s];
        let (phase, phase_effect) = if rng.random_bool(0.6) {
            PHASES
                .iter()
                .copied()
                .find(|p| p.0 == def.phase)
                .unwrap_or(PHASES[1])
        } else {
            PHASES.choose(rng).copied().unwrap_or(PHASES[1])
        };
        let fit = if phase == def.phase { 0.5 } else { -0.2 };
        let familiarity = 1.0 - (-f64::from(dev.counts[s]) / 5.0).exp();
        let hour_effect = match ts.hour() {
            9..=17 => 0.35,
            18..=21 => 0.0,
            _ => -0.8,
        };
        let logit =
            def.base + phase_effect + fit + 2.4 * familiarity - 1.2 + hour_effect + dev.aptitude;
        let completed = rng.random_bool(1.0 / (1.0 + (-logit).exp()));
        dev.counts[s] += 1;

        let duration = lognormal(rng, if completed { 45_000.0 } else { 80_000.0 }, 0.8);
        let (low, high) = if completed { (3, 5) } else { (1, 3) };
        let rating = rng
            .random_bool(0.6)
            .then(|| rng_count(rng, low, high) as u8);
        let query = rng.random_bool(0.5).then(|| {
            def.query
                .replace("{m}", MODULES.choose(rng).copied().unwrap_or("core"))
        });
        let session_id = rng
            .random_bool(0.85)
            .then(|| format!("{}-{}", dev.id, ts.format("%Y%m%d")));
        let body = Skill {
            user_id: dev.id.clone(),
            skill: def.name.to_owned(),
            completed,
            session_id,
            phase: Some(phase.to_owned()),
            duration_ms: Some(round_to(duration, 0)),
            rating,
            query,
        };
        self.push(ts, CODE, Attrs::new(), EventBody::Skill(body));
    }

    /// An A/B observation: "onboarding-v2" has a real effect (+6 points completion, -10 %
    /// duration, slightly better ratings); "hint-style" has none.
    fn outcome(&mut self, ts: DateTime<Utc>) {
        let rng = &mut self.rng;
        let user = format!("trial-{:06}", rng.random_range(1..=self.trial_users));
        let real = rng.random_bool(0.75);
        let experiment = if real { "onboarding-v2" } else { "hint-style" };
        let variant = demo_variant(experiment, &user);
        let treated = real && variant == "treatment";
        let (p_complete, median_ms) = if real {
            (0.60, 5_200.0)
        } else {
            (0.55, 3_000.0)
        };
        let completed = rng.random_bool(if treated {
            p_complete + 0.06
        } else {
            p_complete
        });
        let duration =
            lognormal(rng, if treated { median_ms * 0.9 } else { median_ms }, 0.45).round();
        let lift = if treated { 0.15 } else { 0.0 };
        let rating = (gauss(rng, if completed { 3.9 } else { 2.6 }, 0.8) + lift)
            .round()
            .clamp(1.0, 5.0);
        let metrics = BTreeMap::from([
            ("completed".to_owned(), MetricValue::Bool(completed)),
            ("duration_ms".to_owned(), MetricValue::Number(duration)),
            ("rating".to_owned(), MetricValue::Number(rating)),
        ]);
        let device = DEVICES[pick(rng, &DEVICES, |d| d.1)].0;
        let body = Outcome {
            experiment: experiment.to_owned(),
            user_id: user,
            variant: variant.to_owned(),
            metrics,
        };
        self.push(
            ts,
            TUTOR,
            attrs([("device", text(device))]),
            EventBody::Outcome(body),
        );
    }

    /// An API request: mostly 2xx, some 4xx, rare 5xx (many during the incident).
    fn request(&mut self, ts: DateTime<Utc>, incident: bool) {
        let rng = &mut self.rng;
        let project =
            [SUPPORT, CODE, TUTOR, RESEARCH][pick(rng, &[0.45, 0.10, 0.35, 0.10], |w| *w)];
        let e = &ENDPOINTS[pick(rng, &ENDPOINTS, |e| e.weight)];
        let auth = e.path == "/v1/auth/token";
        let p5 = if incident { 0.30 } else { 0.008 };
        let p4 = if auth { 0.12 } else { 0.045 } + if activity(ts) > 1.0 { 0.01 } else { 0.0 };
        let mut latency = lognormal(rng, e.median_ms, e.sigma) * if incident { 4.0 } else { 1.0 };
        let x: f64 = rng.random();
        let status = if x < p5 {
            let code = [500, 502, 503, 504][pick(rng, &[4.0, 2.0, 3.0, 1.0], |w| *w)];
            if code == 504 {
                latency = 30_000.0 + rng.random_range(0.0..500.0);
            }
            code
        } else if x < p5 + p4 {
            latency *= 0.3;
            if auth {
                401
            } else {
                [400, 401, 403, 404, 409, 422, 429]
                    [pick(rng, &[3.0, 1.0, 1.0, 3.0, 0.5, 1.5, 2.0], |w| *w)]
            }
        } else if e.created {
            201
        } else {
            200
        };
        let (user_id, session_id) = if e.path != "/healthz" && rng.random_bool(0.6) {
            let (user, session) = user_for(rng, project, ts, &self.learners, &self.devs);
            (Some(user), rng.random_bool(0.6).then_some(session))
        } else {
            (None, None)
        };
        let region = REGIONS.choose(rng).copied().unwrap_or("eu-west-1");
        let body = Request {
            endpoint: e.path.to_owned(),
            method: e.method.to_owned(),
            status,
            latency_ms: round_to(latency, 1),
            user_id,
            session_id,
        };
        self.push(
            ts,
            project,
            attrs([("region", text(region))]),
            EventBody::Request(body),
        );
    }

    /// A user action; details go to `attrs`.
    fn action(&mut self, ts: DateTime<Utc>) {
        let rng = &mut self.rng;
        let project = if rng.random_bool(0.6) { TUTOR } else { SUPPORT };
        let (name, _, screen) = ACTIONS[pick(rng, &ACTIONS, |a| a.1)];
        let (user, session) = user_for(rng, project, ts, &self.learners, &self.devs);
        let device = DEVICES[pick(rng, &DEVICES, |d| d.1)].0;
        let mut details = attrs([("screen", text(screen)), ("device", text(device))]);
        match name {
            "submit_answer" => {
                details.insert("correct".to_owned(), AttrValue::Bool(rng.random_bool(0.7)));
            }
            "export_report" => {
                details.insert(
                    "rows".to_owned(),
                    AttrValue::Int(rng.random_range(10..5_000)),
                );
            }
            _ => {}
        }
        let body = Action {
            user_id: user,
            action: name.to_owned(),
            session_id: rng.random_bool(0.7).then_some(session),
        };
        self.push(ts, project, details, EventBody::Action(body));
    }

    /// An error event; the incident raises llm-gateway and api errors.
    fn error(&mut self, ts: DateTime<Utc>, incident: bool) {
        let rng = &mut self.rng;
        let source = if incident {
            ERROR_SOURCES[pick(rng, &[0.3, 0.05, 0.0, 0.5, 0.15, 0.0], |w| *w)]
        } else {
            ERROR_SOURCES[pick(rng, &[0.25, 0.25, 0.1, 0.2, 0.15, 0.05], |w| *w)]
        };
        let message = source.1.choose(rng).copied().unwrap_or("unexpected error");
        let weights = if incident {
            [0.0, 0.1, 0.6, 0.3]
        } else {
            [0.12, 0.33, 0.45, 0.10]
        };
        let severity = [
            Severity::Info,
            Severity::Warning,
            Severity::Error,
            Severity::Critical,
        ][pick(rng, &weights, |w| *w)];
        let project = PROJECTS[pick(rng, &PROJECTS, |p| p.1)].0;
        let body = ErrorEvent {
            source: source.0.to_owned(),
            message: message.to_owned(),
            severity,
        };
        self.push(ts, project, Attrs::new(), EventBody::Error(body));
    }

    /// Agent load snapshots every interval; demand follows the daily rhythm, so busy
    /// agents queue at peak.
    fn snapshot_agents(&mut self) {
        let Some(every) = self.plan.agent_every else {
            return;
        };
        for (a, agent) in AGENTS.iter().enumerate() {
            while let Some(ts) = self.agents[a].next.filter(|&t| t < self.horizon) {
                let rng = &mut self.rng;
                let surge = if self.plan.in_incident(ts) { 0.3 } else { 0.0 };
                let load =
                    (activity(ts) / PEAK_ACTIVITY * agent.load * (1.0 + gauss(rng, 0.0, 0.12))
                        + surge)
                        .max(0.0);
                let capacity = agent.capacity as f64;
                let demand = capacity * load;
                let active = demand.round().clamp(0.0, capacity);
                let queued = ((demand - capacity) * 1.5 + gauss(rng, 0.0, 0.6))
                    .round()
                    .max(0.0);
                let busy = active / capacity;
                let body = AgentStatus {
                    agent_id: agent.id.to_owned(),
                    active_tasks: active as u64,
                    queued_tasks: queued as u64,
                    capacity: agent.capacity,
                    cpu_pct: Some(round_to(
                        (6.0 + 84.0 * busy + gauss(rng, 0.0, 4.0)).clamp(0.0, 100.0),
                        1,
                    )),
                    mem_pct: Some(round_to(
                        (30.0 + 45.0 * busy + gauss(rng, 0.0, 3.0)).clamp(0.0, 100.0),
                        1,
                    )),
                };
                self.agents[a].next = Some(ts + jittered(rng, every));
                self.push(
                    ts,
                    agent.project,
                    Attrs::new(),
                    EventBody::AgentStatus(body),
                );
            }
        }
    }

    /// Host metrics every interval: CPU with load, memory creeping until a nightly
    /// restart at 03:00 UTC, disk filling over the window; db-1 saturates in the incident.
    fn snapshot_hosts(&mut self) {
        let Some(every) = self.plan.host_every else {
            return;
        };
        for (h, host) in HOSTS.iter().enumerate() {
            while let Some(ts) = self.hosts[h].filter(|&t| t < self.horizon) {
                let rng = &mut self.rng;
                let load = activity(ts) / PEAK_ACTIVITY;
                let mut cpu = host.cpu_base + host.cpu_swing * load + gauss(rng, 0.0, 4.0);
                if self.plan.in_incident(ts) && host.name == "db-1" {
                    cpu = 95.0 + rng.random_range(0.0..5.0);
                }
                let cpu = cpu.clamp(0.5, 100.0);
                let since_restart =
                    f64::from((ts.hour() + 21) % 24) + f64::from(ts.minute()) / 60.0;
                let mem = (host.mem_base + 18.0 * since_restart / 24.0 + gauss(rng, 0.0, 2.0))
                    .clamp(0.0, 100.0);
                let disk = (host.disk_start
                    + host.disk_growth * self.plan.progress(ts)
                    + gauss(rng, 0.0, 0.2))
                .clamp(0.0, 100.0);
                let body = SystemMetrics {
                    host: host.name.to_owned(),
                    cpu_pct: Some(round_to(cpu, 1)),
                    mem_pct: rng.random_bool(0.95).then_some(round_to(mem, 1)),
                    disk_pct: rng.random_bool(0.75).then_some(round_to(disk, 1)),
                    load1: Some(round_to(
                        host.cores * cpu / 100.0 * rng.random_range(0.8..1.3),
                        2,
                    )),
                };
                self.hosts[h] = Some(ts + jittered(rng, every));
                self.push(
                    ts,
                    host.project,
                    attrs([("role", text(host.name.split('-').next().unwrap_or("host")))]),
                    EventBody::System(body),
                );
            }
        }
    }
}

impl Iterator for Generator {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if self.heap.peek().is_some_and(|p| p.event.ts < self.horizon) {
                return self.heap.pop().map(|p| p.event);
            }
            if self.next_step >= self.plan.steps {
                // What is left lies after `end`: jobs still queued or running.
                self.heap.clear();
                return None;
            }
            self.generate_step();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers.

/// The variant of `user` in `experiment`, as tally's experiment tier assigns it to an
/// undefined experiment (variants discovered, equal weights, the key as seed): GrowthBook's
/// hash v2, `fnv1a32(str(fnv1a32(key + user))) mod 10000 / 10000`, below 0.5 is control.
/// Mirrored here so that the demo's outcomes agree with the assignment they are checked
/// against (the integration tests analyze the demo and expect no mismatch).
fn demo_variant(experiment: &str, user: &str) -> &'static str {
    fn fnv1a32(text: &str) -> u32 {
        let mut hash: u32 = 0x811c_9dc5;
        for unit in text.encode_utf16() {
            hash ^= u32::from(unit);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        hash
    }
    let inner = fnv1a32(&format!("{experiment}{user}"));
    if fnv1a32(&inner.to_string()) % 10_000 < 5_000 {
        "control"
    } else {
        "treatment"
    }
}

/// A user and a per-day session id fitting `project`'s audience.
fn user_for(
    rng: &mut ChaCha8Rng,
    project: &str,
    ts: DateTime<Utc>,
    learners: &[Learner],
    devs: &[Developer],
) -> (String, String) {
    let user = match project {
        TUTOR => learners.choose(rng).map(|l| l.id.clone()),
        CODE => devs.choose(rng).map(|d| d.id.clone()),
        RESEARCH => Some(format!("analyst-{:02}", rng.random_range(1..=12))),
        _ => None,
    }
    .unwrap_or_else(|| format!("cust-{:04}", rng.random_range(1..=600)));
    let session = format!("{user}-{}", ts.format("%Y%m%d"));
    (user, session)
}

/// The error class of a failed execution.
fn error_class(rng: &mut ChaCha8Rng, tool: &Tool, incident: bool) -> &'static str {
    const CLASSES: [&str; 4] = ["timeout", "rate_limited", "tool_error", "bad_output"];
    let weights = if incident && tool.uses_llm() {
        [0.1, 0.8, 0.05, 0.05]
    } else if tool.browser {
        [0.45, 0.0, 0.45, 0.10]
    } else if tool.uses_llm() {
        [0.20, 0.30, 0.15, 0.35]
    } else {
        [0.30, 0.0, 0.55, 0.15]
    };
    CLASSES[pick(rng, &weights, |w| *w)]
}

/// Human effort: failures need more of it.
fn effort_for(rng: &mut ChaCha8Rng, success: bool) -> Effort {
    let weights = if success {
        [0.70, 0.25, 0.05, 0.0]
    } else {
        [0.0, 0.25, 0.45, 0.30]
    };
    [Effort::None, Effort::Low, Effort::Medium, Effort::High][pick(rng, &weights, |w| *w)]
}

/// A QA verdict; three-loop runs pass more often.
fn qa_status(rng: &mut ChaCha8Rng, three_loop: bool) -> QaStatus {
    let weights = if three_loop {
        [0.78, 0.10, 0.05, 0.02, 0.05]
    } else {
        [0.64, 0.16, 0.11, 0.04, 0.05]
    };
    [
        QaStatus::Passed,
        QaStatus::Warning,
        QaStatus::Failed,
        QaStatus::Error,
        QaStatus::NotRun,
    ][pick(rng, &weights, |w| *w)]
}

/// Tokens and cost of one LLM call (`scale` multiplies the volume). Cached tokens stay
/// within input and reasoning within output; the cost uses the model's list prices.
fn llm_call(
    rng: &mut ChaCha8Rng,
    m: &Model,
    input_median: f64,
    output_median: f64,
    scale: f64,
) -> (TokenUsage, Usd) {
    let input = (lognormal(rng, input_median, 0.7) * scale).round().max(1.0) as u64;
    let visible = (lognormal(rng, output_median, 0.6) * scale)
        .round()
        .max(1.0) as u64;
    let reasoning = rng
        .random_bool(m.reasoning)
        .then(|| (visible as f64 * rng.random_range(0.5..3.0)).round() as u64);
    let output = visible + reasoning.unwrap_or(0);
    let cache_read = rng
        .random_bool(0.45)
        .then(|| (input as f64 * rng.random_range(0.3..0.9)).round() as u64)
        .filter(|&n| n > 0);
    let read = cache_read.unwrap_or(0);
    let cache_write = match m.cache_write {
        Some(_) if rng.random_bool(0.2) => {
            Some(((input - read) as f64 * rng.random_range(0.1..0.6)).round() as u64)
                .filter(|&n| n > 0)
        }
        _ => None,
    };
    let write = cache_write.unwrap_or(0);
    let usd = ((input - read - write) as f64 * m.input
        + read as f64 * m.cache_read
        + write as f64 * m.cache_write.unwrap_or(m.input)
        + output as f64 * m.output)
        / 1e6;
    let tokens = TokenUsage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        reasoning_tokens: reasoning,
    };
    (tokens, dollars(usd))
}

/// Dollars rounded to whole nanodollars, the unit tally stores.
fn dollars(usd: f64) -> Usd {
    Usd::from_nanos((usd * 1e9).round() as i64)
}

/// `x` rounded to `decimals` places, so it survives a trip through JSON text unchanged.
fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// `n` steps of length `step`.
fn steps_of(step: Duration, n: u64) -> Duration {
    Duration::milliseconds(step.num_milliseconds().saturating_mul(n as i64))
}

/// A duration of `millis` milliseconds, rounded.
fn ms(millis: f64) -> Duration {
    Duration::milliseconds(millis.round() as i64)
}

/// 00:00 UTC of `date`.
fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// `every`, give or take 10 %.
fn jittered(rng: &mut ChaCha8Rng, every: Duration) -> Duration {
    ms(every.num_milliseconds() as f64 * rng.random_range(0.9..1.1)).max(Duration::milliseconds(1))
}

/// A normal draw.
fn gauss(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd).map_or(mean, |d| d.sample(rng))
}

/// A log-normal draw with the given median and log-scale spread.
fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    LogNormal::new(median.ln(), sigma).map_or(median, |d| d.sample(rng))
}

/// A Poisson count (0 for a mean of 0).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    Poisson::new(mean).map_or(0, |d| d.sample(rng) as u64)
}

/// A uniform integer in `lo..=hi`.
fn rng_count(rng: &mut ChaCha8Rng, lo: usize, hi: usize) -> usize {
    rng.random_range(lo..=hi)
}

/// The index of an item drawn with probability proportional to `weight`.
fn pick<T>(rng: &mut ChaCha8Rng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.random::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        x -= weight(item);
        if x < 0.0 {
            return i;
        }
    }
    items.len().saturating_sub(1)
}

/// Running sums of `weights`, for [`pick_cumulative`].
fn cumulative(weights: &[f64]) -> Vec<f64> {
    weights
        .iter()
        .scan(0.0, |sum, w| {
            *sum += w;
            Some(*sum)
        })
        .collect()
}

/// An index drawn from running sums of weights, in O(log n).
fn pick_cumulative(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> usize {
    let x = rng.random::<f64>() * cumulative.last().copied().unwrap_or(0.0);
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len().saturating_sub(1))
}

/// `attrs` from key/value pairs.
fn attrs<const N: usize>(pairs: [(&str, AttrValue); N]) -> Attrs {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A string attribute value.
fn text(value: &str) -> AttrValue {
    AttrValue::Str(value.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use chrono::TimeZone;
    use tally_models::{FieldValue, ValidationContext};

    use super::*;

    fn config(events: u64) -> DemoConfig {
        let end =
            Utc.with_ymd_and_hms(2026, 3, 15, 17, 42, 9).unwrap() + Duration::milliseconds(123);
        DemoConfig {
            events,
            days: 30,
            seed: 7,
            end,
        }
    }

    fn body<T>(events: &[Event], f: impl Fn(&Event) -> Option<&T>) -> Vec<(&Event, &T)> {
        events.iter().filter_map(|e| f(e).map(|b| (e, b))).collect()
    }

    #[test]
    fn same_config_gives_identical_events() {
        let a: Vec<Event> = generate(&config(3_000)).collect();
        let b: Vec<Event> = generate(&config(3_000)).collect();
        assert_eq!(a, b);
        let other: Vec<Event> = generate(&DemoConfig {
            seed: 8,
            ..config(3_000)
        })
        .collect();
        assert_ne!(a, other);
    }

    #[test]
    fn covers_every_kind_in_the_window_in_time_order() {
        let cfg = config(3_000);
        let events: Vec<Event> = generate(&cfg).collect();
        let n = events.len() as f64;
        assert!((2_700.0..=3_300.0).contains(&n), "{n} events");
        let kinds: HashSet<Kind> = events.iter().map(Event::kind).collect();
        for kind in Kind::ALL {
            assert!(kinds.contains(kind), "no {kind} events");
        }
        let start = cfg.end - Duration::days(30);
        assert!(events.iter().all(|e| e.ts >= start && e.ts <= cfg.end));
        assert!(events.windows(2).all(|w| w[0].ts <= w[1].ts));
        let ids: HashSet<&EventId> = events.iter().filter_map(|e| e.id.as_ref()).collect();
        assert_eq!(ids.len(), events.len(), "ids missing or repeated");
        assert!(
            ids.iter()
                .all(|id| matches!(id, EventId::Given(s) if s.starts_with("demo-")))
        );
    }

    #[test]
    fn every_event_passes_validation_unchanged() {
        let cfg = config(3_000);
        let ctx = ValidationContext::at(cfg.end);
        for event in generate(&cfg) {
            let json = serde_json::to_string(&serde_json::to_value(&event).unwrap()).unwrap();
            let value: FieldValue<'_> = serde_json::from_str(&json).unwrap();
            let decoded = Event::decode(value, &ctx).unwrap_or_else(|e| panic!("{e}: {json}"));
            assert_eq!(decoded, event, "{json}");
        }
    }

    #[test]
    fn planted_effects_are_there() {
        let cfg = config(20_000);
        let events: Vec<Event> = generate(&cfg).collect();
        let execs = body(&events, |e| match &e.body {
            EventBody::Execution(x) => Some(x),
            _ => None,
        });

        // The flaky browser tool: ~35 % failures, worse at night.
        let browser: Vec<_> = execs
            .iter()
            .filter(|(_, x)| x.tool == "browser_automation")
            .collect();
        let rate = |night: bool| {
            let runs: Vec<_> = browser
                .iter()
                .filter(|(e, _)| (e.ts.hour() < 6) == night)
                .collect();
            runs.iter().filter(|(_, x)| !x.success).count() as f64 / runs.len() as f64
        };
        let overall =
            browser.iter().filter(|(_, x)| !x.success).count() as f64 / browser.len() as f64;
        assert!(
            (0.28..0.45).contains(&overall),
            "browser failure rate {overall}"
        );
        assert!(rate(true) > rate(false) + 0.2);

        // Weekdays are busier than weekends.
        let per_day = |weekend: bool| {
            let days: HashSet<NaiveDate> = execs
                .iter()
                .map(|(e, _)| e.ts.date_naive())
                .filter(|d| (d.weekday().number_from_monday() > 5) == weekend)
                .collect();
            execs
                .iter()
                .filter(|(e, _)| days.contains(&e.ts.date_naive()))
                .count() as f64
                / days.len() as f64
        };
        assert!(per_day(false) > 1.5 * per_day(true));

        // The cost spike: one day of research-agent costs ~8x the usual.
        let mut daily: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for (e, x) in &execs {
            if e.project == RESEARCH {
                *daily.entry(e.ts.date_naive()).or_default() += x.cost_usd.map_or(0.0, |c| c.0);
            }
        }
        let mut costs: Vec<f64> = daily.values().copied().collect();
        costs.sort_by(f64::total_cmp);
        let (top, median) = (costs[costs.len() - 1], costs[costs.len() / 2]);
        assert!(top > 3.0 * median, "spike {top} vs median {median}");

        // A/B: variants follow the demo hash and the treatment completes more often.
        let mut completion: HashMap<&str, (f64, f64)> = HashMap::new();
        for (_, o) in body(&events, |e| match &e.body {
            EventBody::Outcome(o) => Some(o),
            _ => None,
        }) {
            assert_eq!(o.variant, demo_variant(&o.experiment, &o.user_id));
            if o.experiment == "onboarding-v2" {
                let c = completion.entry(o.variant.as_str()).or_default();
                c.0 += o.metrics["completed"].as_f64();
                c.1 += 1.0;
            }
        }
        let share = |v: &str| completion[v].0 / completion[v].1;
        assert!(share("treatment") > share("control"), "{completion:?}");

        // Skills: working hours succeed more often than nights.
        let skills = body(&events, |e| match &e.body {
            EventBody::Skill(s) => Some(s),
            _ => None,
        });
        let success = |day: bool| {
            let set: Vec<_> = skills
                .iter()
                .filter(|(e, _)| (9..=17).contains(&e.ts.hour()) == day)
                .collect();
            set.iter().filter(|(_, s)| s.completed).count() as f64 / set.len() as f64
        };
        assert!(success(true) > success(false) + 0.1);

        // Learners: someone keeps a long daily streak, someone stops.
        let mut days_by_user: BTreeMap<&str, Vec<NaiveDate>> = BTreeMap::new();
        for (e, s) in body(&events, |e| match &e.body {
            EventBody::Session(s) => Some(s),
            _ => None,
        }) {
            days_by_user
                .entry(s.user_id.as_str())
                .or_default()
                .push(e.ts.date_naive());
        }
        let longest = days_by_user
            .values()
            .map(|days| {
                let mut days = days.clone();
                days.dedup();
                let (mut best, mut run) = (1, 1);
                for w in days.windows(2) {
                    run = if (w[1] - w[0]).num_days() == 1 {
                        run + 1
                    } else {
                        1
                    };
                    best = best.max(run);
                }
                best
            })
            .max()
            .unwrap();
        assert!(longest >= 14, "longest streak {longest}");
        let last_week = cfg.end.date_naive() - Duration::days(7);
        assert!(
            days_by_user
                .values()
                .any(|d| d.last().is_some_and(|&last| last < last_week))
        );

        // Jobs: some are still queued or running at the end.
        let mut latest: HashMap<&str, JobStatus> = HashMap::new();
        for (_, j) in body(&events, |e| match &e.body {
            EventBody::Job(j) => Some(j),
            _ => None,
        }) {
            latest.insert(j.job_id.as_str(), j.status);
        }
        assert!(
            latest
                .values()
                .any(|s| matches!(s, JobStatus::Queued | JobStatus::Running))
        );
    }

    #[test]
    fn large_volumes_stream_lazily() {
        let cfg = DemoConfig {
            events: 3_000_000,
            ..config(0)
        };
        let first: Vec<Event> = generate(&cfg).take(5_000).collect();
        assert_eq!(first.len(), 5_000);
        assert!(first.iter().all(|e| e.ts < cfg.end - Duration::days(29)));
    }
}
