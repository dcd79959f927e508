//! Experiment definitions: variants and weights, coverage, metrics, start and stop.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_store::ExperimentRecord;

use super::assign::{bucket_ranges, choose_variant, hash_v2};
use super::{Error, Result};

/// Keys taken by the HTTP routes under `/api/analytics/experiments/`.
pub const RESERVED_KEYS: [&str; 2] = ["create", "power"];

/// One arm of an experiment; weights are normalized to sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    pub name: String,
    pub weight: f64,
}

/// Where an experiment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its start lies in the future.
    Scheduled,
    Running,
    Stopped,
    /// Not defined: known only from outcome events (variants discovered, equal weights).
    Undefined,
}

/// What a new experiment is made of (before validation).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExperimentSpec {
    pub key: String,
    /// Names and relative weights, the control first; weights need not sum to 1.
    pub variants: Vec<(String, f64)>,
    /// Share of users in the experiment (default 1).
    pub coverage: Option<f64>,
    /// Hashing seed (default: the key).
    pub seed: Option<String>,
    pub hypothesis: Option<String>,
    pub primary_metric: Option<String>,
    pub guardrail_metrics: Vec<String>,
    /// Metrics where lower is better (default: guessed from the names, see
    /// [`lower_is_better_by_name`]).
    pub lower_is_better: Option<Vec<String>>,
    pub started_at: Option<DateTime<Utc>>,
}

/// A validated experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    pub key: String,
    pub seed: String,
    pub variants: Vec<Variant>,
    pub coverage: f64,
    pub hypothesis: Option<String>,
    pub primary_metric: Option<String>,
    pub guardrail_metrics: Vec<String>,
    pub lower_is_better: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Whether a definition is stored (otherwise discovered from outcomes).
    pub defined: bool,
    /// The project the definition belongs to; `None`: global, or discovered.
    pub project: Option<String>,
}

/// Parses `control:50,treatment:50`: percentages adding up to 100, or no weights at
/// all (`a,b,c` splits evenly).
///
/// # Errors
/// An empty name, a weight that is not a number, weights on some variants only or
/// not adding up to 100, or fewer than two variants.
pub fn parse_variants(text: &str) -> Result<Vec<(String, f64)>> {
    let variants = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| match part.rsplit_once(':') {
            Some((name, weight)) => {
                let weight: f64 = weight.trim().parse().map_err(|_| {
                    Error::Invalid(format!(
                        "variant {part:?}: weight must be a number, like control:50"
                    ))
                })?;
                Ok((name.trim().to_owned(), weight))
            }
            None => Ok((part.to_owned(), 1.0)),
        })
        .collect::<Result<Vec<_>>>()?;
    if variants.len() < 2 {
        return Err(Error::Invalid(format!(
            "variants {text:?}: expected at least two, like control:50,treatment:50"
        )));
    }
    // Weights are percentages: ones that do not add up to 100 are a mistake, not a
    // ratio to normalize silently.
    let weighted = text.split(',').filter(|part| part.contains(':')).count();
    if weighted > 0 {
        if weighted != variants.len() {
            return Err(Error::Invalid(format!(
                "variants {text:?}: give every variant a weight (percentages adding up to \
                 100, like control:50,treatment:50) or none (an even split)"
            )));
        }
        let total: f64 = variants.iter().map(|(_, weight)| weight).sum();
        if (total - 100.0).abs() > 1e-6 {
            return Err(Error::Invalid(format!(
                "variants {text:?}: the weights add up to {total}, not 100; they are \
                 percentages of the users in the experiment, like control:50,treatment:50"
            )));
        }
    }
    Ok(variants)
}

/// Whether a metric reads better when lower, judged by its name: durations, latencies,
/// costs and errors (`duration_ms`, `latency`, `cost_usd`, `errors`, `*_ms`, `*_s`).
pub fn lower_is_better_by_name(metric: &str) -> bool {
    let name = metric.to_ascii_lowercase();
    ["duration", "latency", "cost", "error", "bounce", "churn"]
        .iter()
        .any(|word| name.contains(word))
        || [
            "_ms", "_s", "_us", "_sec", "_seconds", "_usd", "_time", "_tokens",
        ]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

impl Experiment {
    /// Validates a spec.
    ///
    /// # Errors
    /// [`Error::Invalid`] with what was wrong: an empty or overlong key, fewer than two
    /// variants, duplicate or empty names, a weight that is not a positive number, a
    /// coverage outside `(0, 1]`.
    pub fn new(spec: ExperimentSpec, created_at: DateTime<Utc>) -> Result<Experiment> {
        let invalid = |message: String| Err(Error::Invalid(message));
        let key = spec.key.trim().to_owned();
        if key.is_empty() || key.len() > 200 {
            return invalid(format!(
                "key {key:?}: expected 1 to 200 characters, like onboarding-v2"
            ));
        }
        if RESERVED_KEYS.contains(&key.as_str()) || key.contains('/') {
            return invalid(format!(
                "key {key:?}: {} and keys with '/' are reserved by the HTTP routes",
                RESERVED_KEYS.join(", ")
            ));
        }
        if spec.variants.len() < 2 {
            return invalid(format!(
                "{key}: expected at least two variants (the control first), got {}",
                spec.variants.len()
            ));
        }
        let mut names: Vec<&str> = Vec::new();
        for (name, weight) in &spec.variants {
            if name.is_empty() {
                return invalid(format!("{key}: a variant has an empty name"));
            }
            if names.contains(&name.as_str()) {
                return invalid(format!("{key}: variant {name:?} appears twice"));
            }
            if !(weight.is_finite() && *weight > 0.0) {
                return invalid(format!(
                    "{key}: variant {name:?} has weight {weight}; expected a number > 0"
                ));
            }
            names.push(name);
        }
        let coverage = spec.coverage.unwrap_or(1.0);
        if !(coverage > 0.0 && coverage <= 1.0) {
            return invalid(format!(
                "{key}: coverage {coverage}: expected a share in (0, 1], like 0.5"
            ));
        }
        let total: f64 = spec.variants.iter().map(|(_, w)| w).sum();
        let mut metrics: Vec<String> = spec.primary_metric.iter().cloned().collect();
        metrics.extend(spec.guardrail_metrics.iter().cloned());
        let lower_is_better = spec.lower_is_better.unwrap_or_else(|| {
            metrics
                .into_iter()
                .filter(|m| lower_is_better_by_name(m))
                .collect()
        });
        Ok(Experiment {
            seed: spec.seed.filter(|s| !s.is_empty()).unwrap_or(key.clone()),
            key,
            variants: spec
                .variants
                .into_iter()
                .map(|(name, weight)| Variant {
                    name,
                    weight: weight / total,
                })
                .collect(),
            coverage,
            hypothesis: spec.hypothesis.filter(|h| !h.is_empty()),
            primary_metric: spec.primary_metric.filter(|m| !m.is_empty()),
            guardrail_metrics: spec.guardrail_metrics,
            lower_is_better,
            created_at: Some(created_at),
            started_at: spec.started_at,
            stopped_at: None,
            defined: true,
            project: None,
        })
    }

    /// An experiment known only from its outcome events: the variants seen, `control`
    /// first when present, then by name; equal weights, full coverage, the key as seed,
    /// lower-is-better guessed from metric names.
    pub fn discovered(key: &str, mut variant_names: Vec<String>, metrics: &[String]) -> Experiment {
        variant_names.sort_by(|a, b| (a != "control", a).cmp(&(b != "control", b)));
        variant_names.dedup();
        let weight = 1.0 / variant_names.len().max(1) as f64;
        Experiment {
            key: key.to_owned(),
            seed: key.to_owned(),
            variants: variant_names
                .into_iter()
                .map(|name| Variant { name, weight })
                .collect(),
            coverage: 1.0,
            hypothesis: None,
            primary_metric: None,
            guardrail_metrics: Vec::new(),
            lower_is_better: metrics
                .iter()
                .filter(|m| lower_is_better_by_name(m))
                .cloned()
                .collect(),
            created_at: None,
            started_at: None,
            stopped_at: None,
            defined: false,
            project: None,
        }
    }

    /// The variant `user` is assigned to, or `None` when coverage leaves them out.
    pub fn assign(&self, user: &str) -> Option<&Variant> {
        let weights: Vec<f64> = self.variants.iter().map(|v| v.weight).collect();
        let ranges = bucket_ranges(self.variants.len(), self.coverage, Some(&weights));
        choose_variant(hash_v2(&self.seed, user), &ranges).map(|i| &self.variants[i])
    }

    /// The control variant (the first).
    pub fn control(&self) -> &Variant {
        &self.variants[0]
    }

    /// Where the experiment stands at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        match (self.defined, self.started_at, self.stopped_at) {
            (false, _, _) => Status::Undefined,
            (_, _, Some(_)) => Status::Stopped,
            (_, Some(start), None) if start > now => Status::Scheduled,
            _ => Status::Running,
        }
    }

    /// Whether `metric` improves by decreasing.
    pub fn is_lower_better(&self, metric: &str) -> bool {
        self.lower_is_better.iter().any(|m| m == metric)
    }

    pub(crate) fn to_record(&self) -> ExperimentRecord {
        ExperimentRecord {
            key: self.key.clone(),
            seed: self.seed.clone(),
            variants: self
                .variants
                .iter()
                .map(|v| (v.name.clone(), v.weight))
                .collect(),
            coverage: self.coverage,
            hypothesis: self.hypothesis.clone(),
            primary_metric: self.primary_metric.clone(),
            guardrail_metrics: self.guardrail_metrics.clone(),
            lower_is_better: self.lower_is_better.clone(),
            created_at: self.created_at.unwrap_or_default(),
            started_at: self.started_at,
            stopped_at: self.stopped_at,
            project: self.project.clone(),
        }
    }

    pub(crate) fn from_record(record: ExperimentRecord) -> Experiment {
        Experiment {
            key: record.key,
            seed: record.seed,
            variants: record
                .variants
                .into_iter()
                .map(|(name, weight)| Variant { name, weight })
                .collect(),
            coverage: record.coverage,
            hypothesis: record.hypothesis,
            primary_metric: record.primary_metric,
            guardrail_metrics: record.guardrail_metrics,
            lower_is_better: record.lower_is_better,
            created_at: Some(record.created_at),
            started_at: record.started_at,
            stopped_at: record.stopped_at,
            defined: true,
            project: record.project,
        }
    }
}
