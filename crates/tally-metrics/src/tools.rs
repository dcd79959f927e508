//! Tool profiles (tier 3): executions, success rate, averages, latency percentiles,
//! a confidence level, risk patterns and a recommendation per tool, over a rolling
//! 30-day window merged from the tool rollups.
//!
//! **Confidence** comes from the Wilson score interval (95 %) of the success rate,
//! which accounts for the amount of evidence: `HIGH` when at least 20 executions and
//! the lower bound is ≥ 0.85; `MEDIUM` when at least 5 executions and the lower bound
//! is ≥ 0.60; `LOW` otherwise.
//!
//! **Risk patterns** are facet values (hour of day, model, effort, browser use) where
//! the failure rate is at least 1.5 times the tool's base failure rate, with at least 5
//! executions and 3 failures there; error classes are listed with their share of the
//! tool's failures.

use chrono::Duration;
use serde::Serialize;
use tally_models::Effort;
use tally_store::rollup::{Facet, Family, Measures};
use tally_store::{Filter, RollupReader};

use crate::Result;
use crate::fold::{ViewOptions, by_key, dollars, from_millis, ratio, rfc3339};

/// The default window of a tool profile.
pub const PROFILE_WINDOW_DAYS: i64 = 30;

/// The normal quantile of a two-sided 95 % interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// Wilson score interval of `successes` out of `n` at 95 %; `(0, 1)` when `n` is 0.
pub fn wilson_interval(successes: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z_95 * Z_95;
    let centre = p + z2 / (2.0 * n);
    let spread = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denominator = 1.0 + z2 / n;
    (
        ((centre - spread) / denominator).max(0.0),
        ((centre + spread) / denominator).min(1.0),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    pub fn of(successes: u64, n: u64) -> Confidence {
        let (lower, _) = wilson_interval(successes, n);
        if n >= 20 && lower >= 0.85 {
            Confidence::High
        } else if n >= 5 && lower >= 0.60 {
            Confidence::Medium
        } else {
            Confidence::Low
        }
    }
}

/// Where a tool's failures concentrate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskPattern {
    pub tool_name: String,
    /// `hour_of_day`, `model`, `effort`, `browser_used` or `error_class`.
    pub facet: Facet,
    /// The facet value in words (`14:00 UTC`, `gpt-4o`, `high`, `true`, `timeout`).
    pub value: String,
    pub executions: u64,
    pub failures: u64,
    pub failure_rate: f64,
    /// Failure rate here over the tool's base failure rate (`None` for error classes).
    pub lift: Option<f64>,
    /// This value's share of the tool's failures.
    pub share_of_failures: f64,
    /// The pattern in a sentence.
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolProfile {
    pub tool_name: String,
    pub total_executions: u64,
    pub successful_executions: u64,
    pub failed_executions: u64,
    pub success_rate: f64,
    pub success_rate_lower_95: f64,
    pub success_rate_upper_95: f64,
    pub confidence_level: Confidence,
    pub avg_duration_seconds: f64,
    pub p50_duration_ms: Option<f64>,
    pub p90_duration_ms: Option<f64>,
    pub p95_duration_ms: Option<f64>,
    pub p99_duration_ms: Option<f64>,
    pub avg_cost: f64,
    pub avg_tokens: f64,
    pub total_cost: f64,
    pub last_used: String,
    pub risk_patterns: Vec<RiskPattern>,
}

/// The window a profile covers: the filter's range, else the last 30 days.
fn window(filter: &Filter, options: &ViewOptions) -> Filter {
    let mut window = filter.clone();
    if window.from.is_none() && window.to.is_none() {
        window.from = Some(options.now - Duration::days(PROFILE_WINDOW_DAYS));
    }
    window
}

/// Names of facet values: model codes and error classes come from the store.
struct FacetNames {
    models: std::collections::BTreeMap<i64, String>,
    errors: std::collections::BTreeMap<i64, String>,
}

impl FacetNames {
    fn name(&self, facet: Facet, value: i64) -> String {
        match facet {
            Facet::HourOfDay => format!("{value:02}:00 UTC"),
            Facet::Model => self
                .models
                .get(&value)
                .cloned()
                .unwrap_or_else(|| "no model".to_owned()),
            Facet::Effort => u8::try_from(value - 1)
                .ok()
                .and_then(Effort::from_code)
                .map_or_else(|| "not given".to_owned(), |e| e.as_str().to_owned()),
            Facet::BrowserUsed => (value == 1).to_string(),
            Facet::ErrorClass => self
                .errors
                .get(&value)
                .cloned()
                .unwrap_or_else(|| format!("error #{value}")),
        }
    }
}

fn risk_patterns(tool: &str, m: &Measures, names: &FacetNames) -> Vec<RiskPattern> {
    let failures = m.n - m.ok;
    if failures == 0 {
        return Vec::new();
    }
    let base = failures as f64 / m.n as f64;
    let mut out = Vec::new();
    // Facet values in their own order (hours, efforts) or by name (models, error
    // classes): never by dictionary code, which differs from store to store, so that
    // ties come out the same whichever store answers.
    let mut facets: Vec<(Facet, i64, String, u64, u64)> = m
        .facets
        .sorted()
        .iter()
        .map(|&((facet, value), (n, failed))| (facet, value, names.name(facet, value), n, failed))
        .collect();
    facets.sort_by(|a, b| {
        let by_name = matches!(a.0, Facet::Model | Facet::ErrorClass);
        a.0.cmp(&b.0).then_with(|| {
            if by_name {
                a.2.cmp(&b.2)
            } else {
                a.1.cmp(&b.1)
            }
        })
    });
    for (facet, _, named, n, failed) in facets {
        let share = failed as f64 / failures as f64;
        if facet == Facet::ErrorClass {
            if failed >= 3 || share >= 0.25 {
                out.push(RiskPattern {
                    tool_name: tool.to_owned(),
                    facet,
                    description: format!(
                        "{:.0} % of {tool}'s failures are `{named}` ({failed} of {failures})",
                        share * 100.0
                    ),
                    value: named,
                    executions: n,
                    failures: failed,
                    failure_rate: 1.0,
                    lift: None,
                    share_of_failures: share,
                });
            }
            continue;
        }
        let rate = ratio(failed as f64, n as f64);
        let lift = rate / base;
        if n >= 5 && failed >= 3 && lift >= 1.5 {
            let label = match facet {
                Facet::HourOfDay => "at",
                Facet::Model => "with model",
                Facet::Effort => "with effort",
                Facet::BrowserUsed => "with browser used =",
                Facet::ErrorClass => "",
            };
            out.push(RiskPattern {
                tool_name: tool.to_owned(),
                facet,
                description: format!(
                    "{tool} fails {:.0} % of the time {label} {named} ({failed} of {n}), {lift:.1}× its usual {:.0} %",
                    rate * 100.0,
                    base * 100.0
                ),
                value: named,
                executions: n,
                failures: failed,
                failure_rate: rate,
                lift: Some(lift),
                share_of_failures: share,
            });
        }
    }
    out.sort_by(|a, b| {
        b.lift
            .unwrap_or(0.0)
            .total_cmp(&a.lift.unwrap_or(0.0))
            .then(b.failures.cmp(&a.failures))
    });
    out
}

fn facet_names(reader: &dyn RollupReader, filter: &Filter) -> Result<FacetNames> {
    // Model names come with the per-model rollups; error classes are not a rollup key,
    // so they are named through the dictionary the store exposes for facets.
    let models = by_key(reader, Family::ExecutionsByModel, filter)?
        .into_keys()
        .filter_map(|k| k.name.map(|name| (k.key, name)))
        .collect();
    let errors = reader.error_classes()?.into_iter().collect();
    Ok(FacetNames { models, errors })
}

/// Every tool used in the window, the busiest first.
///
/// # Errors
/// A storage failure.
pub fn tools(
    reader: &dyn RollupReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<Vec<ToolProfile>> {
    let window = window(filter, options);
    let names = facet_names(reader, &window)?;
    let mut out: Vec<ToolProfile> = by_key(reader, Family::ExecutionsByTool, &window)?
        .into_iter()
        .filter_map(|(key, m)| key.name.map(|name| (name, m)))
        .map(|(tool, m)| {
            let (lower, upper) = wilson_interval(m.ok, m.n);
            ToolProfile {
                risk_patterns: risk_patterns(&tool, &m, &names),
                tool_name: tool,
                total_executions: m.n,
                successful_executions: m.ok,
                failed_executions: m.n - m.ok,
                success_rate: ratio(m.ok as f64, m.n as f64),
                success_rate_lower_95: lower,
                success_rate_upper_95: upper,
                confidence_level: Confidence::of(m.ok, m.n),
                avg_duration_seconds: ratio(m.duration_us as f64 / 1e6, m.n as f64),
                p50_duration_ms: m.latency.quantile(0.5),
                p90_duration_ms: m.latency.quantile(0.9),
                p95_duration_ms: m.latency.quantile(0.95),
                p99_duration_ms: m.latency.quantile(0.99),
                avg_cost: ratio(dollars(m.cost_nusd), m.n as f64),
                avg_tokens: ratio(m.tokens() as f64, m.n as f64),
                total_cost: dollars(m.cost_nusd),
                last_used: rfc3339(from_millis(m.last_ts)),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.total_executions
            .cmp(&a.total_executions)
            .then_with(|| a.tool_name.cmp(&b.tool_name))
    });
    Ok(out)
}

/// Every tool's risk patterns, the strongest first.
///
/// # Errors
/// A storage failure.
pub fn risks(
    reader: &dyn RollupReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<Vec<RiskPattern>> {
    let mut out: Vec<RiskPattern> = tools(reader, filter, options)?
        .into_iter()
        .flat_map(|t| t.risk_patterns)
        .collect();
    out.sort_by(|a, b| {
        b.lift
            .unwrap_or(0.0)
            .total_cmp(&a.lift.unwrap_or(0.0))
            .then(b.failures.cmp(&a.failures))
            .then_with(|| a.tool_name.cmp(&b.tool_name))
    });
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Advice {
    Use,
    UseWithReview,
    Avoid,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub tool_name: String,
    pub recommendation: Advice,
    pub reason: String,
    pub confidence_level: Confidence,
    pub success_rate: f64,
    pub executions: u64,
}

/// One recommendation per tool: `use` when confidence is HIGH, `avoid` when even the
/// upper 95 % bound of its success rate is below 50 %, `use_with_review` otherwise.
///
/// # Errors
/// A storage failure.
pub fn recommendations(
    reader: &dyn RollupReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<Vec<Recommendation>> {
    Ok(tools(reader, filter, options)?
        .into_iter()
        .map(|t| {
            let rate = t.success_rate * 100.0;
            let n = t.total_executions;
            let watch = t
                .risk_patterns
                .iter()
                .find(|r| r.lift.is_some())
                .map(|r| format!("; watch out: {}", r.description))
                .unwrap_or_default();
            let (recommendation, reason) = if t.success_rate_upper_95 < 0.5 {
                (
                    Advice::Avoid,
                    format!(
                        "fails more often than it succeeds: {rate:.0} % success over {n} executions (at most {:.0} % at 95 % confidence){watch}",
                        t.success_rate_upper_95 * 100.0
                    ),
                )
            } else if t.confidence_level == Confidence::High {
                (
                    Advice::Use,
                    format!(
                        "reliable: {rate:.0} % success over {n} executions (at least {:.0} % at 95 % confidence){watch}",
                        t.success_rate_lower_95 * 100.0
                    ),
                )
            } else if n < 5 {
                (
                    Advice::UseWithReview,
                    format!("only {n} executions in the window: not enough evidence yet"),
                )
            } else {
                (
                    Advice::UseWithReview,
                    format!(
                        "{rate:.0} % success over {n} executions (at least {:.0} % at 95 % confidence): review its results{watch}",
                        t.success_rate_lower_95 * 100.0
                    ),
                )
            };
            Recommendation {
                tool_name: t.tool_name,
                recommendation,
                reason,
                confidence_level: t.confidence_level,
                success_rate: t.success_rate,
                executions: n,
            }
        })
        .collect())
}
