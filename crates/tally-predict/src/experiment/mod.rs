//! Experiments (A/B/n tests): definitions stored through [`ExperimentStore`],
//! deterministic GrowthBook-compatible assignment ([`assign`]), and frequentist
//! analysis with verdicts ([`analysis`], [`stats`]). See `docs/experiments.md`.

pub mod analysis;
pub mod assign;
mod definition;
pub mod stats;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_store::{ExperimentRecord, ExperimentStore, Filter};

pub use crate::{Error, Result};
pub use analysis::{
    Analysis, Comparison, MetricAnalysis, MetricKind, MetricRole, Verdict, analyze,
};
pub use definition::{
    Experiment, ExperimentSpec, Status, Variant, lower_is_better_by_name, parse_variants,
};

/// Which experiments a caller sees and changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility<'a> {
    /// Every definition, and experiments discovered from every project's outcomes.
    #[default]
    All,
    /// The definitions of this project, and experiments discovered from its outcomes;
    /// global definitions and other projects' stay hidden.
    Project(&'a str),
}

impl Visibility<'_> {
    /// Whether a definition of `project` (`None`: global) is visible.
    pub fn sees(self, project: Option<&str>) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Project(own) => project == Some(own),
        }
    }

    /// The outcomes experiments are discovered from.
    fn outcome_filter(self) -> Filter {
        Filter {
            project: match self {
                Visibility::All => None,
                Visibility::Project(own) => Some(own.to_owned()),
            },
            ..Filter::default()
        }
    }
}

/// Stores a new experiment belonging to `project` (`None`: global).
///
/// # Errors
/// [`Error::Invalid`] for a bad spec, [`Error::Exists`] when the key is taken in
/// `project` (keys are unique within a project, and among global experiments), or a
/// storage failure.
pub fn create(
    store: &dyn ExperimentStore,
    spec: ExperimentSpec,
    project: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Experiment> {
    let mut experiment = Experiment::new(spec, now)?;
    experiment.project = project.map(str::to_owned);
    if !store.create_experiment(&experiment.to_record())? {
        return Err(Error::Exists(experiment.key));
    }
    Ok(experiment)
}

/// The experiment under `key` that `visibility` sees: its stored definition, else one
/// discovered from the visible outcome events (see [`Experiment::discovered`]).
///
/// # Errors
/// [`Error::Unknown`] when neither exists, or a storage failure.
pub fn find(store: &dyn ExperimentStore, key: &str, visibility: Visibility) -> Result<Experiment> {
    if let Some(record) = definition(store, key, visibility)? {
        return Ok(Experiment::from_record(record));
    }
    let outcomes = store.outcomes(key, &visibility.outcome_filter())?;
    discover(key, &outcomes).ok_or_else(|| Error::Unknown(key.to_owned()))
}

/// The stored definition of `key` that `visibility` sees: its project's; for
/// [`Visibility::All`] the global one, else the one project's that has it.
///
/// # Errors
/// [`Error::Invalid`] when several projects define `key` and no project is named, or a
/// storage failure.
fn definition(
    store: &dyn ExperimentStore,
    key: &str,
    visibility: Visibility,
) -> Result<Option<ExperimentRecord>> {
    let own = match visibility {
        Visibility::Project(own) => return Ok(store.experiment(Some(own), key)?),
        Visibility::All => store.experiment(None, key)?,
    };
    if own.is_some() {
        return Ok(own);
    }
    let mut defined: Vec<ExperimentRecord> = store
        .experiments()?
        .into_iter()
        .filter(|record| record.key == key)
        .collect();
    if defined.len() > 1 {
        let projects: Vec<&str> = defined
            .iter()
            .filter_map(|r| r.project.as_deref())
            .collect();
        return Err(Error::Invalid(format!(
            "experiment {key:?} is defined in projects {}: name one with project",
            projects.join(", ")
        )));
    }
    Ok(defined.pop())
}

fn discover(key: &str, outcomes: &[tally_store::OutcomeRecord]) -> Option<Experiment> {
    let mut variants: Vec<String> = outcomes.iter().map(|o| o.variant.clone()).collect();
    variants.sort();
    variants.dedup();
    if variants.is_empty() {
        return None;
    }
    let mut metrics: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.metrics.iter().map(|(m, _, _)| m.clone()))
        .collect();
    metrics.sort();
    metrics.dedup();
    Some(Experiment::discovered(key, variants, &metrics))
}

/// One user's assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub experiment: String,
    pub user_id: String,
    /// `null` when coverage leaves the user out.
    pub variant: Option<String>,
    /// The hash in `[0, 1)` the bucket was chosen by.
    pub hash: f64,
    pub in_experiment: bool,
}

/// Assigns `user` in `experiment`.
pub fn assignment(experiment: &Experiment, user: &str) -> Assignment {
    let variant = experiment.assign(user).map(|v| v.name.clone());
    Assignment {
        experiment: experiment.key.clone(),
        user_id: user.to_owned(),
        in_experiment: variant.is_some(),
        variant,
        hash: assign::hash_v2(&experiment.seed, user),
    }
}

/// Stops a running experiment that `visibility` sees at `now`; later outcomes are not
/// part of it.
///
/// # Errors
/// [`Error::Unknown`] when no visible definition is stored, [`Error::NotRunning`] when
/// it was stopped already, or a storage failure.
pub fn stop(
    store: &dyn ExperimentStore,
    key: &str,
    visibility: Visibility,
    now: DateTime<Utc>,
) -> Result<Experiment> {
    let Some(record) = definition(store, key, visibility)? else {
        return Err(Error::Unknown(key.to_owned()));
    };
    let project = record.project.as_deref();
    if !store.stop_experiment(project, key, now)? {
        return Err(Error::NotRunning(key.to_owned()));
    }
    let stopped = store.experiment(project, key)?;
    stopped
        .map(Experiment::from_record)
        .ok_or_else(|| Error::Unknown(key.to_owned()))
}

/// An experiment as listed: its definition and status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing {
    #[serde(flatten)]
    pub experiment: Experiment,
    pub status: Status,
}

/// Every defined experiment `visibility` sees, and every experiment the visible outcome
/// events name without a visible definition, by key.
///
/// # Errors
/// A storage failure.
pub fn list(
    store: &dyn ExperimentStore,
    visibility: Visibility,
    now: DateTime<Utc>,
) -> Result<Vec<Listing>> {
    let mut listings: Vec<Listing> = store
        .experiments()?
        .into_iter()
        .filter(|record| visibility.sees(record.project.as_deref()))
        .map(Experiment::from_record)
        .map(|experiment| Listing {
            status: experiment.status(now),
            experiment,
        })
        .collect();
    for key in store.experiment_keys_seen()? {
        if listings.iter().any(|l| l.experiment.key == key) {
            continue;
        }
        let outcomes = store.outcomes(&key, &visibility.outcome_filter())?;
        if let Some(experiment) = discover(&key, &outcomes) {
            listings.push(Listing {
                status: experiment.status(now),
                experiment,
            });
        }
    }
    listings.sort_by(|a, b| a.experiment.key.cmp(&b.experiment.key));
    Ok(listings)
}

/// Analyzes the experiment under `key` that `visibility` sees over the outcomes within
/// `filter` and within the experiment's start and stop. A project's experiment is
/// judged on its project's outcomes only (the definition of `filter`'s project is
/// chosen first); a global one on those of every project, or of `filter`'s.
///
/// # Errors
/// [`Error::Unknown`] when there is no such experiment (or `filter` names a project
/// other than its own), or a storage failure.
pub fn analyze_stored(
    store: &dyn ExperimentStore,
    key: &str,
    visibility: Visibility,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Analysis> {
    let asked = filter.project.as_deref();
    let visibility = match (visibility, asked) {
        (Visibility::All, Some(asked)) if store.experiment(Some(asked), key)?.is_some() => {
            Visibility::Project(asked)
        }
        _ => visibility,
    };
    let experiment = find(store, key, visibility)?;
    let mut window = filter.clone();
    let own = match visibility {
        Visibility::Project(own) => Some(own),
        Visibility::All => experiment.project.as_deref(),
    };
    if let Some(own) = own {
        if asked.is_some_and(|asked| asked != own) {
            return Err(Error::Unknown(key.to_owned()));
        }
        window.project = Some(own.to_owned());
    }
    if let Some(start) = experiment.started_at {
        window.from = Some(window.from.map_or(start, |from| from.max(start)));
    }
    if let Some(stop) = experiment.stopped_at {
        window.to = Some(window.to.map_or(stop, |to| to.min(stop)));
    }
    let outcomes = store.outcomes(key, &window)?;
    Ok(analyze(&experiment, &outcomes, now))
}

/// The power calculator's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerPlan {
    /// Users in each of two variants.
    pub n_per_variant: f64,
    /// The smallest absolute difference detected with `power` at `alpha` (two-sided).
    pub mde: f64,
    /// `mde` relative to the baseline mean, when one is given and not zero.
    pub relative_mde: Option<f64>,
    pub variance: f64,
    pub alpha: f64,
    pub power: f64,
}

/// What the power calculator is asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PowerQuestion {
    /// The MDE for this many users per variant.
    MdeForUsers(f64),
    /// The users per variant for this absolute MDE.
    UsersForMde(f64),
}

/// The power calculator for a two-variant test with a per-user `variance` (for a
/// conversion rate `p`, `p (1 - p)`).
///
/// # Errors
/// [`Error::Invalid`] for a variance, n or MDE that is not positive, or an `alpha` or
/// `power` outside `(0, 1)`.
pub fn power_plan(
    question: PowerQuestion,
    variance: f64,
    baseline_mean: Option<f64>,
    alpha: f64,
    power: f64,
) -> Result<PowerPlan> {
    let positive = |x: f64, what: &str| {
        if x.is_finite() && x > 0.0 {
            Ok(x)
        } else {
            Err(Error::Invalid(format!(
                "{what} must be a number > 0, got {x}"
            )))
        }
    };
    positive(variance, "variance")?;
    for (x, what) in [(alpha, "alpha"), (power, "power")] {
        if !(x > 0.0 && x < 1.0) {
            return Err(Error::Invalid(format!("{what} must be in (0, 1), got {x}")));
        }
    }
    let (n, mde) = match question {
        PowerQuestion::MdeForUsers(n) => {
            let n = positive(n, "users per variant")?;
            (
                n,
                stats::minimum_detectable_effect(n, variance, alpha, power),
            )
        }
        PowerQuestion::UsersForMde(mde) => {
            let mde = positive(mde, "mde")?;
            (stats::sample_size(mde, variance, alpha, power).ceil(), mde)
        }
    };
    Ok(PowerPlan {
        n_per_variant: n,
        mde,
        relative_mde: baseline_mean.filter(|m| *m != 0.0).map(|m| mde / m.abs()),
        variance,
        alpha,
        power,
    })
}
