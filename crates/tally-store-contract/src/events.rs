//! Events to write, built plainly: one constructor per kind, the fields a check varies
//! as arguments and the rest fixed.

use chrono::{DateTime, TimeZone, Utc};
use tally_models::{
    Action, AgentStatus, CostSource, Effort, ErrorEvent, Event, EventBody, EventId, Execution, Job,
    JobStatus, ModelUsage, Outcome, QaStatus, Request, Run, Session, Severity, Skill, TokenUsage,
    Usd,
};

/// An instant of 2026-09-30 plus `seconds` (a month boundary lies a day later).
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 30, 0, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn event(id: &str, project: &str, ts: DateTime<Utc>, body: EventBody) -> Event {
    Event {
        id: Some(EventId::Given(id.into())),
        ts,
        project: project.into(),
        attrs: Default::default(),
        body,
    }
}

/// What varies between executions.
#[derive(Debug, Clone, PartialEq)]
pub struct Exec {
    pub tool: String,
    pub model: Option<String>,
    pub agent: Option<String>,
    pub user: Option<String>,
    pub duration_ms: f64,
    pub success: bool,
    pub input: u64,
    pub output: u64,
    /// Reported cost in nano-dollars.
    pub cost_nanos: Option<i64>,
    pub effort: Option<Effort>,
    pub browser_used: bool,
    pub error: Option<String>,
}

impl Default for Exec {
    fn default() -> Self {
        Exec {
            tool: "web_search".to_owned(),
            model: Some("gpt-4o".to_owned()),
            agent: None,
            user: None,
            duration_ms: 1.5,
            success: true,
            input: 10,
            output: 5,
            cost_nanos: Some(2_000_000),
            effort: None,
            browser_used: false,
            error: None,
        }
    }
}

pub fn execution(id: &str, project: &str, ts: DateTime<Utc>, x: &Exec) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Execution(Execution {
            tool: x.tool.as_str().into(),
            duration_ms: x.duration_ms,
            success: x.success,
            agent_id: x.agent.as_deref().map(Into::into),
            task_id: None,
            user_id: x.user.as_deref().map(Into::into),
            session_id: None,
            model: x.model.as_deref().map(Into::into),
            tokens: TokenUsage {
                input_tokens: Some(x.input),
                output_tokens: Some(x.output),
                ..TokenUsage::default()
            },
            cost_usd: x.cost_nanos.map(Usd::from_nanos),
            cost_source: CostSource::Reported,
            effort: x.effort,
            browser_used: x.browser_used,
            error: x.error.as_deref().map(Into::into),
        }),
    )
}

/// A run using `models`: `(model, input tokens, output tokens, cost in nano-dollars)`.
pub fn run(
    id: &str,
    project: &str,
    ts: DateTime<Utc>,
    duration_s: f64,
    mode: Option<&str>,
    qa: QaStatus,
    models: &[(&str, u64, u64, Option<i64>)],
) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Run(Run {
            duration_s,
            mode: mode.map(str::to_owned),
            qa_status: qa,
            models: models
                .iter()
                .map(|&(model, input, output, cost)| ModelUsage {
                    model: model.to_owned(),
                    input_tokens: input,
                    output_tokens: output,
                    cost_usd: cost.map(Usd::from_nanos),
                })
                .collect(),
        }),
    )
}

pub fn job(id: &str, project: &str, ts: DateTime<Utc>, job_id: &str, status: JobStatus) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Job(Job {
            job_id: job_id.to_owned(),
            status,
            run_id: None,
        }),
    )
}

pub fn request(
    id: &str,
    project: &str,
    ts: DateTime<Utc>,
    endpoint: &str,
    status: u16,
    latency_ms: f64,
    user: Option<&str>,
) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Request(Request {
            endpoint: endpoint.to_owned(),
            method: "GET".to_owned(),
            status,
            latency_ms,
            user_id: user.map(str::to_owned),
            session_id: None,
        }),
    )
}

pub fn error(id: &str, project: &str, ts: DateTime<Utc>, severity: Severity) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Error(ErrorEvent {
            source: "worker".to_owned(),
            message: "failed".to_owned(),
            severity,
        }),
    )
}

pub fn agent_status(
    id: &str,
    project: &str,
    ts: DateTime<Utc>,
    agent: &str,
    active: u64,
    queued: u64,
    capacity: u64,
) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::AgentStatus(AgentStatus {
            agent_id: agent.to_owned(),
            active_tasks: active,
            queued_tasks: queued,
            capacity,
            cpu_pct: Some(50.0),
            mem_pct: None,
        }),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn session(
    id: &str,
    project: &str,
    ts: DateTime<Utc>,
    user: &str,
    duration_s: f64,
    exchanges: u64,
    quality: Option<f64>,
    topics: &[&str],
) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Session(Session {
            user_id: user.to_owned(),
            duration_s,
            exchanges,
            quality,
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            quality_breakdown: Default::default(),
        }),
    )
}

pub fn skill(
    id: &str,
    project: &str,
    ts: DateTime<Utc>,
    user: &str,
    skill: &str,
    completed: bool,
    session: Option<&str>,
) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Skill(Skill {
            user_id: user.to_owned(),
            skill: skill.to_owned(),
            completed,
            session_id: session.map(str::to_owned),
            phase: Some("build".to_owned()),
            duration_ms: Some(250.0),
            rating: Some(4),
            query: None,
        }),
    )
}

/// An outcome of `experiment` with its metrics: `(name, value, is_bool)`.
pub fn outcome(
    id: &str,
    project: &str,
    ts: DateTime<Utc>,
    experiment: &str,
    user: &str,
    variant: &str,
    metrics: &[(&str, f64, bool)],
) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Outcome(Outcome {
            experiment: experiment.to_owned(),
            user_id: user.to_owned(),
            variant: variant.to_owned(),
            metrics: metrics
                .iter()
                .map(|&(name, value, is_bool)| {
                    let value = if is_bool {
                        tally_models::MetricValue::Bool(value != 0.0)
                    } else {
                        tally_models::MetricValue::Number(value)
                    };
                    (name.to_owned(), value)
                })
                .collect(),
        }),
    )
}

pub fn action(
    id: &str,
    project: &str,
    ts: DateTime<Utc>,
    user: &str,
    action: &str,
    session: Option<&str>,
) -> Event {
    event(
        id,
        project,
        ts,
        EventBody::Action(Action {
            user_id: user.to_owned(),
            action: action.to_owned(),
            session_id: session.map(str::to_owned),
        }),
    )
}
