//! The typed events of wire format v1 (`docs/events.md`), one struct per kind.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use serde::Serialize;

/// An event's idempotency key, unique within its project.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum EventId {
    /// The `id` the client sent.
    Given(CompactString),
    /// Derived from the record's canonical content when the client sent none, so that
    /// ingesting the same record twice stores it once.
    Derived(u128),
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventId::Given(id) => f.write_str(id),
            EventId::Derived(hash) => write!(f, "derived:{hash:032x}"),
        }
    }
}

/// An amount of money in US dollars.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
#[serde(transparent)]
pub struct Usd(pub f64);

impl Usd {
    /// Billionths of a dollar, the unit tally stores and sums exactly.
    pub fn to_nanos(self) -> i64 {
        (self.0 * 1e9).round() as i64
    }

    /// The amount from billionths of a dollar.
    pub fn from_nanos(nanos: i64) -> Usd {
        Usd(nanos as f64 / 1e9)
    }
}

/// Free-form dimensions: string, number or bool values, keys sorted.
pub type Attrs = BTreeMap<String, AttrValue>;

/// One `attrs` value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// One accepted telemetry record: the envelope every kind shares, and its body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// `None` until ingest derives one from the content.
    pub id: Option<EventId>,
    pub ts: DateTime<Utc>,
    pub project: CompactString,
    pub attrs: Attrs,
    #[serde(flatten)]
    pub body: EventBody,
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }
}

/// The kind-specific part of an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    Execution(Execution),
    Run(Run),
    Job(Job),
    Session(Session),
    Skill(Skill),
    Outcome(Outcome),
    AgentStatus(AgentStatus),
    Request(Request),
    Action(Action),
    System(SystemMetrics),
    Error(ErrorEvent),
}

impl EventBody {
    /// The kind of this body.
    pub fn kind(&self) -> Kind {
        match self {
            EventBody::Execution(_) => Kind::Execution,
            EventBody::Run(_) => Kind::Run,
            EventBody::Job(_) => Kind::Job,
            EventBody::Session(_) => Kind::Session,
            EventBody::Skill(_) => Kind::Skill,
            EventBody::Outcome(_) => Kind::Outcome,
            EventBody::AgentStatus(_) => Kind::AgentStatus,
            EventBody::Request(_) => Kind::Request,
            EventBody::Action(_) => Kind::Action,
            EventBody::System(_) => Kind::System,
            EventBody::Error(_) => Kind::Error,
        }
    }
}

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire word for this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The value for a wire word, if it is one.
            pub fn from_word(word: &str) -> Option<Self> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// A small stable code for storage (position in `ALL`).
            pub fn code(self) -> u8 {
                self as u8
            }

            /// The value for a storage code.
            pub fn from_code(code: u8) -> Option<Self> {
                Self::ALL.get(usize::from(code)).copied()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum! {
    /// The record kinds of wire format v1.
    Kind {
        Execution = "execution", Run = "run", Job = "job", Session = "session",
        Skill = "skill", Outcome = "outcome", AgentStatus = "agent_status",
        Request = "request", Action = "action", System = "system", Error = "error",
    }
}

word_enum! {
    /// Human effort an execution needed.
    Effort { None = "none", Low = "low", Medium = "medium", High = "high" }
}

word_enum! {
    /// The QA verdict of an orchestrator run.
    QaStatus {
        Passed = "passed", Warning = "warning", Failed = "failed", Error = "error",
        NotRun = "not_run",
    }
}

word_enum! {
    /// A background job's state.
    JobStatus {
        Queued = "queued", Running = "running", Completed = "completed",
        Failed = "failed", Cancelled = "cancelled",
    }
}

word_enum! {
    /// How serious an error event is.
    Severity { Info = "info", Warning = "warning", Error = "error", Critical = "critical" }
}

/// Token counts of one LLM call. Cached tokens are part of `input`, reasoning tokens
/// part of `output`; they are priced apart but never added twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TokenUsage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

impl TokenUsage {
    /// Input plus output tokens: every token counted once.
    pub fn total(&self) -> u64 {
        self.input_tokens.unwrap_or(0) + self.output_tokens.unwrap_or(0)
    }
}

/// One agent task or tool execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Execution {
    pub tool: CompactString,
    pub duration_ms: f64,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<CompactString>,
    #[serde(flatten)]
    pub tokens: TokenUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<Usd>,
    /// Whether `cost_usd` was sent or computed from the price table.
    #[serde(skip_serializing_if = "CostSource::is_reported")]
    pub cost_source: CostSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    pub browser_used: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<CompactString>,
}

impl Execution {
    /// The wire names of an execution's own fields (the envelope's aside), in the order
    /// of `docs/events.md`.
    pub const FIELDS: [&'static str; 17] = [
        "tool",
        "duration_ms",
        "success",
        "agent_id",
        "task_id",
        "user_id",
        "session_id",
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "cost_usd",
        "effort",
        "browser_used",
        "error",
    ];
}

/// Where an execution's cost came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// Sent by the client (or no cost at all).
    #[default]
    Reported,
    /// Computed by tally from the model's price and the token counts.
    Computed,
}

impl CostSource {
    pub fn is_reported(&self) -> bool {
        *self == CostSource::Reported
    }
}

/// One orchestrator run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub duration_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    pub qa_status: QaStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelUsage>,
}

impl Run {
    /// The run's tokens: the sum over its models.
    pub fn total_tokens(&self) -> u64 {
        self.models
            .iter()
            .map(|m| m.input_tokens + m.output_tokens)
            .sum()
    }

    /// The run's cost: the sum over its models that report one.
    pub fn total_cost(&self) -> Usd {
        Usd(self
            .models
            .iter()
            .filter_map(|m| m.cost_usd)
            .map(|c| c.0)
            .sum())
    }
}

/// One model's usage inside a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelUsage {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<Usd>,
}

/// One state change of a background job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub job_id: String,
    pub status: JobStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// Per-dimension quality scores of a learning session, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct QualityBreakdown {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helpfulness: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engagement: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clarity: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
}

impl QualityBreakdown {
    /// The dimension names, in storage order.
    pub const DIMENSIONS: [&'static str; 5] = [
        "relevance",
        "helpfulness",
        "engagement",
        "clarity",
        "accuracy",
    ];

    /// The scores in `DIMENSIONS` order.
    pub fn values(&self) -> [Option<f64>; 5] {
        [
            self.relevance,
            self.helpfulness,
            self.engagement,
            self.clarity,
            self.accuracy,
        ]
    }

    pub(crate) fn slot(&mut self, dimension: &str) -> Option<&mut Option<f64>> {
        match dimension {
            "relevance" => Some(&mut self.relevance),
            "helpfulness" => Some(&mut self.helpfulness),
            "engagement" => Some(&mut self.engagement),
            "clarity" => Some(&mut self.clarity),
            "accuracy" => Some(&mut self.accuracy),
            _ => None,
        }
    }

    /// True when no dimension was given.
    pub fn is_empty(&self) -> bool {
        self.values().iter().all(Option::is_none)
    }
}

/// One learning session of a tutoring app.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub user_id: String,
    pub duration_s: f64,
    pub exchanges: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    #[serde(skip_serializing_if = "QualityBreakdown::is_empty")]
    pub quality_breakdown: QualityBreakdown,
}

/// One skill invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skill {
    pub user_id: String,
    pub skill: String,
    pub completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// One observed metric value of an experiment outcome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MetricValue {
    Bool(bool),
    Number(f64),
}

impl MetricValue {
    /// The value as a number (`true` is 1).
    pub fn as_f64(self) -> f64 {
        match self {
            MetricValue::Bool(b) => f64::from(u8::from(b)),
            MetricValue::Number(x) => x,
        }
    }
}

/// One experiment observation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub experiment: String,
    pub user_id: String,
    pub variant: String,
    pub metrics: BTreeMap<String, MetricValue>,
}

/// A snapshot of one agent's load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentStatus {
    pub agent_id: String,
    pub active_tasks: u64,
    pub queued_tasks: u64,
    pub capacity: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_pct: Option<f64>,
}

/// One API request served by the user's system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub endpoint: String,
    pub method: String,
    pub status: u16,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// One user action; its details live in `attrs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub user_id: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// Host metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemMetrics {
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load1: Option<f64>,
}

/// An error raised in the user's system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorEvent {
    pub source: String,
    pub message: String,
    pub severity: Severity,
}
