//! An alert rule: what it watches, the threshold that makes it fire, where it is limited
//! to and which channels hear of it. `[[alerts]]` in `tally.toml`, the API and the CLI all
//! read and write this one shape.

use serde::{Deserialize, Serialize};

/// Longest rule name.
pub const MAX_RULE_NAME: usize = 64;
/// Longest window a rule may look back over: 90 days.
pub const MAX_WINDOW_MINUTES: u32 = 90 * 24 * 60;

/// What a rule watches. The meaning of `threshold` depends on it (see [`RuleKind::threshold_means`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Share of the monthly budget spent this month.
    Budget,
    /// Share of the monthly budget the month-end projection reaches.
    ProjectedBudget,
    /// An hourly or daily cost point the anomaly detector scores at or above the threshold.
    CostSpike,
    /// The same, on tokens.
    TokenSpike,
    /// Share of QA checks failing over the window.
    QaFailureRate,
    /// Share of tool executions or model calls failing over the window; with a
    /// baseline, only when also significantly above the rule's own baseline.
    FailureRate,
    /// Share of requests answered with a server error (5xx) over the window.
    RequestErrorRate,
    /// 95th percentile request latency over the window, in milliseconds.
    RequestP95,
    /// Hours until an agent saturates, below the threshold.
    AgentSaturation,
    /// Minutes without any event from the project (or from anywhere, unscoped).
    Silence,
}

impl RuleKind {
    pub const ALL: [RuleKind; 10] = [
        RuleKind::Budget,
        RuleKind::ProjectedBudget,
        RuleKind::CostSpike,
        RuleKind::TokenSpike,
        RuleKind::QaFailureRate,
        RuleKind::FailureRate,
        RuleKind::RequestErrorRate,
        RuleKind::RequestP95,
        RuleKind::AgentSaturation,
        RuleKind::Silence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Budget => "budget",
            RuleKind::ProjectedBudget => "projected_budget",
            RuleKind::CostSpike => "cost_spike",
            RuleKind::TokenSpike => "token_spike",
            RuleKind::QaFailureRate => "qa_failure_rate",
            RuleKind::FailureRate => "failure_rate",
            RuleKind::RequestErrorRate => "request_error_rate",
            RuleKind::RequestP95 => "request_p95",
            RuleKind::AgentSaturation => "agent_saturation",
            RuleKind::Silence => "silence",
        }
    }

    pub fn from_name(name: &str) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What `threshold` is for this kind, and the range it must lie in.
    pub fn threshold_means(self) -> (&'static str, f64, f64) {
        match self {
            RuleKind::Budget | RuleKind::ProjectedBudget => {
                ("share of the monthly budget (0.7 = 70 %)", 0.0, 100.0)
            }
            RuleKind::CostSpike | RuleKind::TokenSpike => {
                ("anomaly score of a point (robust z, e.g. 3.5)", 0.0, 1e6)
            }
            RuleKind::QaFailureRate | RuleKind::FailureRate | RuleKind::RequestErrorRate => {
                ("share failing over the window (0.2 = 20 %)", 0.0, 1.0)
            }
            RuleKind::RequestP95 => ("latency in milliseconds", 0.0, 1e9),
            RuleKind::AgentSaturation => ("hours to saturation", 0.0, 1e6),
            RuleKind::Silence => ("minutes without events", 1.0, MAX_WINDOW_MINUTES as f64),
        }
    }

    /// The scope fields this kind may be limited by (`project` always).
    pub fn scopes(self) -> &'static [ScopeField] {
        match self {
            RuleKind::Budget
            | RuleKind::ProjectedBudget
            | RuleKind::CostSpike
            | RuleKind::TokenSpike => &[ScopeField::Project, ScopeField::Model],
            RuleKind::FailureRate => &[ScopeField::Project, ScopeField::Model, ScopeField::Tool],
            RuleKind::AgentSaturation => &[ScopeField::Project, ScopeField::Agent],
            RuleKind::QaFailureRate
            | RuleKind::RequestErrorRate
            | RuleKind::RequestP95
            | RuleKind::Silence => &[ScopeField::Project],
        }
    }

    /// The window a rate or percentile rule looks back over when none is set.
    pub fn default_window_minutes(self) -> u32 {
        match self {
            RuleKind::QaFailureRate | RuleKind::FailureRate => 60,
            RuleKind::RequestErrorRate | RuleKind::RequestP95 => 15,
            _ => 60,
        }
    }
}

/// A field a rule can be limited by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeField {
    Project,
    Model,
    Tool,
    Agent,
}

impl ScopeField {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeField::Project => "project",
            ScopeField::Model => "model",
            ScopeField::Tool => "tool",
            ScopeField::Agent => "agent",
        }
    }
}

/// How loud a rule is; carried to the channels (Slack colours, email subjects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Series a spike rule scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpikeSeries {
    #[default]
    Hourly,
    Daily,
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Unique among the rules: letters, digits, `-`, `_`, `.`; at most 64 characters.
    pub name: String,
    pub rule: RuleKind,
    /// What makes the rule fire; its unit depends on `rule`.
    pub threshold: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Names of `[channels.NAME]` that hear of each transition.
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub severity: Severity,
    /// Minutes a rate or percentile rule looks back over (default per kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u32>,
    /// Fewest events in the window before a rate rule may fire (default 20), so one
    /// failure in one call is not a 100 % failure rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_events: Option<u64>,
    /// `failure_rate` only: days before the window its baseline rate is taken over;
    /// when set, the rule fires only if the window's rate is also significantly above
    /// the baseline (one-sided test at `significance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_days: Option<u32>,
    /// Significance level of the baseline test (default 0.01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significance: Option<f64>,
    /// Spike rules: the hourly or daily series (default hourly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SpikeSeries>,
    /// Minutes after a notification before the same rule notifies again (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_minutes: Option<u32>,
    #[serde(default = "enabled", skip_serializing_if = "is_true")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// Default fewest events for a rate rule.
pub const DEFAULT_MIN_EVENTS: u64 = 20;
/// Default significance of the baseline test.
pub const DEFAULT_SIGNIFICANCE: f64 = 0.01;
/// Default cooldown between two notifications of a rule.
pub const DEFAULT_COOLDOWN_MINUTES: u32 = 60;

impl AlertRule {
    pub fn window_minutes(&self) -> u32 {
        self.window_minutes
            .unwrap_or_else(|| self.rule.default_window_minutes())
    }

    pub fn min_events(&self) -> u64 {
        self.min_events.unwrap_or(DEFAULT_MIN_EVENTS)
    }

    pub fn significance(&self) -> f64 {
        self.significance.unwrap_or(DEFAULT_SIGNIFICANCE)
    }

    pub fn cooldown_minutes(&self) -> u32 {
        self.cooldown_minutes.unwrap_or(DEFAULT_COOLDOWN_MINUTES)
    }

    pub fn series(&self) -> SpikeSeries {
        self.series.unwrap_or_default()
    }

    /// The value of a scope field, if the rule is limited by it.
    pub fn scope(&self, field: ScopeField) -> Option<&str> {
        match field {
            ScopeField::Project => self.project.as_deref(),
            ScopeField::Model => self.model.as_deref(),
            ScopeField::Tool => self.tool.as_deref(),
            ScopeField::Agent => self.agent.as_deref(),
        }
    }

    /// Refuses a rule that cannot be evaluated, naming the field: `Err("threshold: ...")`.
    /// Channels are checked against the configured ones by the caller.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty()
            || self.name.len() > MAX_RULE_NAME
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "name: {:?} must be 1 to {MAX_RULE_NAME} letters, digits, '-', '_' or '.'",
                self.name
            ));
        }
        let (means, low, high) = self.rule.threshold_means();
        if !(self.threshold.is_finite() && self.threshold >= low && self.threshold <= high) {
            return Err(format!(
                "threshold: {} for rule {}: expected the {means}, from {low} to {high}",
                self.threshold,
                self.rule.as_str()
            ));
        }
        for field in [ScopeField::Model, ScopeField::Tool, ScopeField::Agent] {
            if self.scope(field).is_some() && !self.rule.scopes().contains(&field) {
                let allowed: Vec<&str> = self.rule.scopes().iter().map(|f| f.as_str()).collect();
                return Err(format!(
                    "{}: rule {} can be limited by {} only",
                    field.as_str(),
                    self.rule.as_str(),
                    allowed.join(", ")
                ));
            }
        }
        for field in [
            ScopeField::Project,
            ScopeField::Model,
            ScopeField::Tool,
            ScopeField::Agent,
        ] {
            if self.scope(field).is_some_and(str::is_empty) {
                return Err(format!("{}: must not be empty when set", field.as_str()));
            }
        }
        if let Some(window) = self.window_minutes
            && !(1..=MAX_WINDOW_MINUTES).contains(&window)
        {
            return Err(format!(
                "window_minutes: {window} must be from 1 to {MAX_WINDOW_MINUTES} (90 days)"
            ));
        }
        if self.baseline_days.is_some() && self.rule != RuleKind::FailureRate {
            return Err("baseline_days: only rule failure_rate has a baseline".to_owned());
        }
        if let Some(days) = self.baseline_days
            && !(1..=90).contains(&days)
        {
            return Err(format!("baseline_days: {days} must be from 1 to 90"));
        }
        if let Some(alpha) = self.significance
            && !(alpha > 0.0 && alpha < 0.5)
        {
            return Err(format!(
                "significance: {alpha} must be above 0 and below 0.5"
            ));
        }
        if self.series.is_some() && !matches!(self.rule, RuleKind::CostSpike | RuleKind::TokenSpike)
        {
            return Err("series: only the spike rules score a series".to_owned());
        }
        if self.model.is_some()
            && matches!(self.rule, RuleKind::CostSpike | RuleKind::TokenSpike)
            && self.series() == SpikeSeries::Hourly
        {
            return Err(
                "series: a model's cost and tokens are kept by day only: set series = \"daily\""
                    .to_owned(),
            );
        }
        if let Some(minutes) = self.cooldown_minutes
            && minutes > MAX_WINDOW_MINUTES
        {
            return Err(format!(
                "cooldown_minutes: {minutes} must be at most {MAX_WINDOW_MINUTES} (90 days)"
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for channel in &self.channels {
            if !seen.insert(channel) {
                return Err(format!("channels: {channel:?} is listed twice"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> AlertRule {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_issue_example_parses_and_validates() {
        let r = rule(
            "name = \"budget-70\"\nrule = \"budget\"\nthreshold = 0.7\nproject = \"support-bot\"\nchannels = [\"ops\"]\n",
        );
        assert_eq!(r.rule, RuleKind::Budget);
        assert_eq!(r.project.as_deref(), Some("support-bot"));
        assert_eq!(r.cooldown_minutes(), DEFAULT_COOLDOWN_MINUTES);
        assert!(r.enabled);
        r.validate().unwrap();
    }

    #[test]
    fn bad_rules_are_refused_naming_the_field() {
        let base = "name = \"r\"\n";
        let cases = [
            (
                "rule = \"failure_rate\"\nthreshold = 1.5\n",
                "threshold: 1.5",
            ),
            (
                "rule = \"silence\"\nthreshold = 10\nmodel = \"m\"\n",
                "model: rule silence",
            ),
            (
                "rule = \"budget\"\nthreshold = 0.7\nbaseline_days = 7\n",
                "baseline_days:",
            ),
            (
                "rule = \"qa_failure_rate\"\nthreshold = 0.2\nwindow_minutes = 0\n",
                "window_minutes:",
            ),
            (
                "rule = \"budget\"\nthreshold = 0.7\nseries = \"daily\"\n",
                "series:",
            ),
            (
                "rule = \"cost_spike\"\nthreshold = 5\nmodel = \"m\"\n",
                "series: a model's",
            ),
            (
                "rule = \"budget\"\nthreshold = 0.7\nchannels = [\"a\", \"a\"]\n",
                "channels:",
            ),
            (
                "rule = \"budget\"\nthreshold = 0.7\nproject = \"\"\n",
                "project:",
            ),
        ];
        for (text, expected) in cases {
            let error = rule(&format!("{base}{text}")).validate().unwrap_err();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
        let mut named = rule("name = \"a b\"\nrule = \"budget\"\nthreshold = 0.7\n");
        assert!(named.validate().unwrap_err().starts_with("name:"));
        named.name = "x".repeat(65);
        assert!(named.validate().unwrap_err().starts_with("name:"));
        let unknown = toml::from_str::<AlertRule>(
            "name = \"r\"\nrule = \"budget\"\nthreshold = 1\nthreshhold = 2\n",
        );
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `threshhold`")
        );
    }

    #[test]
    fn every_kind_has_a_name_that_round_trips() {
        for kind in RuleKind::ALL {
            assert_eq!(RuleKind::from_name(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
