//! Reading rollups for a view: the options every view takes, and the folds that merge
//! rollup rows into per-key or per-period measures.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};
use tally_store::rollup::{Family, Measures, ProjectScope, Resolution, RollupQuery, RollupRow};
use tally_store::{Filter, RollupReader};

use crate::Result;

/// What every view needs besides the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewOptions {
    /// The instant the view is computed at (current month, rolling windows, realtime).
    pub now: DateTime<Utc>,
    /// USD per calendar month; `None` turns budget tracking off.
    pub monthly_budget: Option<f64>,
    /// Days in the default time series window.
    pub timeseries_days: u32,
    /// The weights of the health score (`realtime`).
    pub health: crate::HealthWeights,
}

impl ViewOptions {
    pub fn at(now: DateTime<Utc>) -> Self {
        ViewOptions {
            now,
            monthly_budget: None,
            timeseries_days: 30,
            health: crate::HealthWeights::default(),
        }
    }

    /// Midnight UTC of the first day of `now`'s month.
    pub fn month_start(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.now.year(), self.now.month(), 1, 0, 0, 0)
            .single()
            .unwrap_or(self.now)
    }

    pub fn generated_at(&self) -> String {
        rfc3339(self.now)
    }
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// Billionths of a dollar as dollars (sums are 128-bit; see `Measures`).
pub(crate) fn dollars(nanos: i128) -> f64 {
    nanos as f64 / 1e9
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The rows of `family` over the filter's range.
pub(crate) fn rows(
    reader: &dyn RollupReader,
    family: Family,
    projects: ProjectScope<'_>,
    filter: &Filter,
    by: Option<Resolution>,
) -> Result<Vec<RollupRow>> {
    Ok(reader.rollups(&RollupQuery {
        family,
        projects,
        from: filter.from,
        to: filter.to,
        by,
    })?)
}

/// All of `family` over the filter's range and project, merged.
pub(crate) fn total(
    reader: &dyn RollupReader,
    family: Family,
    filter: &Filter,
) -> Result<Measures> {
    let scope = ProjectScope::from_option(filter.project.as_deref());
    let mut total = Measures::default();
    for row in rows(reader, family, scope, filter, None)? {
        total.merge(&row.measures);
    }
    Ok(total)
}

/// A row's grouping key: its key code and, where the family has them, its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct KeyName {
    pub key: i64,
    pub name: Option<String>,
}

/// `family` over the filter's range, merged per key.
pub(crate) fn by_key(
    reader: &dyn RollupReader,
    family: Family,
    filter: &Filter,
) -> Result<BTreeMap<KeyName, Measures>> {
    let scope = ProjectScope::from_option(filter.project.as_deref());
    let mut out: BTreeMap<KeyName, Measures> = BTreeMap::new();
    for row in rows(reader, family, scope, filter, None)? {
        out.entry(KeyName {
            key: row.key,
            name: row.name,
        })
        .or_default()
        .merge(&row.measures);
    }
    Ok(out)
}

/// `family` over the filter's range, merged per project (the filter's project only,
/// when it names one).
pub(crate) fn by_project(
    reader: &dyn RollupReader,
    family: Family,
    filter: &Filter,
) -> Result<BTreeMap<String, BTreeMap<i64, Measures>>> {
    let mut out: BTreeMap<String, BTreeMap<i64, Measures>> = BTreeMap::new();
    let rows = match filter.project.as_deref() {
        Some(project) => rows(reader, family, ProjectScope::One(project), filter, None)?
            .into_iter()
            .map(|mut row| {
                row.project = Some(project.to_owned());
                row
            })
            .collect(),
        None => rows(reader, family, ProjectScope::Each, filter, None)?,
    };
    for row in rows {
        let project = row.project.unwrap_or_default();
        out.entry(project)
            .or_default()
            .entry(row.key)
            .or_default()
            .merge(&row.measures);
    }
    Ok(out)
}

/// `family` over the filter's range, merged per period of `resolution` (hour or day).
pub(crate) fn by_period(
    reader: &dyn RollupReader,
    family: Family,
    filter: &Filter,
    resolution: Resolution,
) -> Result<BTreeMap<(i64, i64), Measures>> {
    let scope = ProjectScope::from_option(filter.project.as_deref());
    let mut out: BTreeMap<(i64, i64), Measures> = BTreeMap::new();
    for row in rows(reader, family, scope, filter, Some(resolution))? {
        let period = resolution.bucket(row.bucket * 1000);
        out.entry((period, row.key))
            .or_default()
            .merge(&row.measures);
    }
    Ok(out)
}
