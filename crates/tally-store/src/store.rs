//! Every port at once: what the facade holds a store as.

use crate::{
    AlertStore, Catalog, DashboardStore, EngagementReader, EventPages, EventStore, ExperimentStore,
    Export, KeyStore, LearningReader, LearningWriter, Maintenance, PredictModelStore,
    QuarantineStore, Retention, RollupReader, SeriesReader, SkillHistoryReader, TotalsReader,
};

/// A store that implements every port; any type that does is one. The facade holds an
/// `Arc<dyn Store>` and hands each tier the ports it needs.
pub trait Store:
    std::fmt::Debug
    + EventStore
    + QuarantineStore
    + TotalsReader
    + RollupReader
    + Retention
    + SeriesReader
    + LearningReader
    + LearningWriter
    + SkillHistoryReader
    + PredictModelStore
    + KeyStore
    + ExperimentStore
    + Maintenance
    + Catalog
    + Export
    + EventPages
    + AlertStore
    + EngagementReader
    + DashboardStore
{
}

impl<T> Store for T where
    T: std::fmt::Debug
        + EventStore
        + QuarantineStore
        + TotalsReader
        + RollupReader
        + Retention
        + SeriesReader
        + LearningReader
        + LearningWriter
        + SkillHistoryReader
        + PredictModelStore
        + KeyStore
        + ExperimentStore
        + Maintenance
        + Catalog
        + Export
        + EventPages
        + AlertStore
        + EngagementReader
        + DashboardStore
        + ?Sized
{
}
