//! The facade's experiment methods: define, assign, stop, list and analyze A/B tests
//! (`tally_predict::experiment` over the store).

use tally_predict::experiment::{
    self, Analysis, Assignment, Experiment, ExperimentSpec, Listing, PowerPlan, PowerQuestion,
    Visibility,
};
use tally_store::Filter;

use crate::{Analytics, Result};

impl Analytics {
    /// The experiments this facade sees: those of its project limit, or all.
    fn visibility(&self) -> Visibility<'_> {
        self.project_limit
            .as_deref()
            .map_or(Visibility::All, Visibility::Project)
    }

    /// Stores a new experiment definition, belonging to the project limit (global
    /// without one).
    ///
    /// # Errors
    /// An invalid spec, a key in use, or a storage failure.
    pub fn create_experiment(&self, spec: ExperimentSpec) -> Result<Experiment> {
        self.observe_write(experiment::create(
            &*self.store,
            spec,
            self.project_limit.as_deref(),
            self.view_options().now,
        ))
    }

    /// Every defined experiment, and those only outcome events name.
    ///
    /// # Errors
    /// A storage failure.
    pub fn experiments(&self) -> Result<Vec<Listing>> {
        Ok(experiment::list(
            &*self.store,
            self.visibility(),
            self.view_options().now,
        )?)
    }

    /// One experiment: its stored definition, else the one its outcomes imply.
    ///
    /// # Errors
    /// No such experiment, or a storage failure.
    pub fn experiment(&self, key: &str) -> Result<Listing> {
        let experiment = experiment::find(&*self.store, key, self.visibility())?;
        Ok(Listing {
            status: experiment.status(self.view_options().now),
            experiment,
        })
    }

    /// The variant `user` gets in experiment `key`.
    ///
    /// # Errors
    /// No such experiment, or a storage failure.
    pub fn assign_experiment(&self, key: &str, user: &str) -> Result<Assignment> {
        let experiment = experiment::find(&*self.store, key, self.visibility())?;
        Ok(experiment::assignment(&experiment, user))
    }

    /// Stops experiment `key` now.
    ///
    /// # Errors
    /// No such defined experiment, stopped already, or a storage failure.
    pub fn stop_experiment(&self, key: &str) -> Result<Experiment> {
        self.observe_write(experiment::stop(
            &*self.store,
            key,
            self.visibility(),
            self.view_options().now,
        ))
    }

    /// The analysis of experiment `key` over its outcomes within `filter`.
    ///
    /// # Errors
    /// No such experiment, a project without data, or a storage failure.
    pub fn analyze_experiment(&self, key: &str, filter: &Filter) -> Result<Analysis> {
        self.check_project(filter)?;
        Ok(experiment::analyze_stored(
            &*self.store,
            key,
            self.visibility(),
            filter,
            self.view_options().now,
        )?)
    }

    /// The power calculator (see [`experiment::power_plan`]).
    ///
    /// # Errors
    /// Arguments out of range.
    pub fn experiment_power(
        &self,
        question: PowerQuestion,
        variance: f64,
        baseline_mean: Option<f64>,
        alpha: f64,
        power: f64,
    ) -> Result<PowerPlan> {
        Ok(experiment::power_plan(
            question,
            variance,
            baseline_mean,
            alpha,
            power,
        )?)
    }
}
