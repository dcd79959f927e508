//! Spend: cost by hour, day, project and model, the storage cost estimate, and the
//! monthly budget with its burn-rate projection.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use serde::Serialize;
use tally_store::rollup::{Family, Resolution};
use tally_store::{Filter, RollupReader};

use crate::Result;
use crate::breakdowns::models;
use crate::fold::{ViewOptions, by_period, by_project, dollars, ratio, total};
use crate::summary::current_month_cost;

/// What storing telemetry costs, at a stated price per GB-month (the seed's
/// `CostAnalyzer` storage cost).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageCost {
    /// Bytes of the database file and its write-ahead log.
    pub bytes_used: u64,
    /// Events the rollup tier counts (all kinds, all projects): read from the rollups,
    /// so the view scans no raw table.
    pub events_stored: u64,
    pub bytes_per_event: f64,
    /// USD per GB (10^9 bytes) and month assumed: block storage list price.
    pub usd_per_gb_month: f64,
    pub estimated_monthly_cost: f64,
}

/// USD per GB-month of SSD block storage (a cloud list price), for the estimate.
pub const STORAGE_USD_PER_GB_MONTH: f64 = 0.10;

impl StorageCost {
    pub fn of(bytes_used: u64, events: u64) -> StorageCost {
        StorageCost {
            bytes_used,
            events_stored: events,
            bytes_per_event: ratio(bytes_used as f64, events as f64),
            usd_per_gb_month: STORAGE_USD_PER_GB_MONTH,
            estimated_monthly_cost: bytes_used as f64 / 1e9 * STORAGE_USD_PER_GB_MONTH,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostShare {
    pub name: String,
    pub cost: f64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostPoint {
    /// `YYYY-MM-DD` or RFC 3339 hour.
    pub period: String,
    pub cost: f64,
    pub tokens: u128,
}

/// The `costs` view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Costs {
    pub total_cost: f64,
    /// The part tally computed from its price table (records that sent no cost).
    pub computed_cost: f64,
    pub total_tokens: u128,
    pub by_project: Vec<CostShare>,
    pub by_model: Vec<CostShare>,
    /// Daily cost over the filter's range, or the last `timeseries_days` days.
    pub daily: Vec<CostPoint>,
    /// Hourly cost over the last 24 hours (within the filter's range).
    pub hourly: Vec<CostPoint>,
    pub storage: StorageCost,
    pub generated_at: String,
}

fn points(
    reader: &dyn RollupReader,
    filter: &Filter,
    resolution: Resolution,
    from: i64,
    to: i64,
) -> Result<Vec<CostPoint>> {
    let range = Filter {
        project: filter.project.clone(),
        from: DateTime::from_timestamp(from, 0),
        to: DateTime::from_timestamp(to, 0),
    };
    let mut sums: BTreeMap<i64, (i128, u128)> = BTreeMap::new();
    for family in [Family::Executions, Family::Runs] {
        for ((period, _), m) in by_period(reader, family, &range, resolution)? {
            let entry = sums.entry(period).or_default();
            entry.0 += m.cost_nusd;
            entry.1 += m.tokens();
        }
    }
    let mut out = Vec::new();
    let mut period = from;
    while period < to {
        let (cost, tokens) = sums.get(&period).copied().unwrap_or_default();
        let at = DateTime::from_timestamp(period, 0).unwrap_or_default();
        out.push(CostPoint {
            period: match resolution {
                Resolution::Hour => at.format("%Y-%m-%dT%H:00:00Z").to_string(),
                _ => at.format("%Y-%m-%d").to_string(),
            },
            cost: dollars(cost),
            tokens,
        });
        period = resolution.next(period);
    }
    Ok(out)
}

/// Cost by hour, day, project and model, and the storage estimate.
///
/// # Errors
/// A storage failure.
pub fn costs(
    reader: &dyn RollupReader,
    filter: &Filter,
    bytes_used: u64,
    options: &ViewOptions,
) -> Result<Costs> {
    let executions = total(reader, Family::Executions, filter)?;
    let runs = total(reader, Family::Runs, filter)?;
    let total_nanos = executions.cost_nusd + runs.cost_nusd;
    let mut per_project: BTreeMap<String, i128> = BTreeMap::new();
    for family in [Family::Executions, Family::Runs] {
        for (project, keys) in by_project(reader, family, filter)? {
            *per_project.entry(project).or_default() +=
                keys.values().map(|m| m.cost_nusd).sum::<i128>();
        }
    }
    let mut by_project: Vec<CostShare> = per_project
        .into_iter()
        .map(|(name, nanos)| CostShare {
            name,
            cost: dollars(nanos),
            share: ratio(nanos as f64, total_nanos as f64),
        })
        .collect();
    by_project.sort_by(|a, b| b.cost.total_cmp(&a.cost).then_with(|| a.name.cmp(&b.name)));
    let by_model = models(reader, filter)?
        .into_iter()
        .map(|m| CostShare {
            name: m.model_name,
            cost: m.total_cost,
            share: m.cost_share,
        })
        .collect();
    let end = filter.to.unwrap_or(options.now + Duration::seconds(1));
    let last = (end - Duration::milliseconds(1)).timestamp_millis();
    let day_to = Resolution::Day.next(Resolution::Day.bucket(last));
    let day_from = match filter.from {
        Some(from) => Resolution::Day.bucket(from.timestamp_millis()),
        None => day_to - 86_400 * i64::from(options.timeseries_days.max(1)),
    };
    let hour_to = Resolution::Hour.next(Resolution::Hour.bucket(last));
    let mut hour_from = hour_to - 24 * 3600;
    if let Some(from) = filter.from {
        hour_from = hour_from.max(Resolution::Hour.bucket(from.timestamp_millis()));
    }
    Ok(Costs {
        total_cost: dollars(total_nanos),
        computed_cost: dollars(executions.computed_cost_nusd + runs.computed_cost_nusd),
        total_tokens: executions.tokens() + runs.tokens(),
        by_project,
        by_model,
        daily: points(reader, filter, Resolution::Day, day_from, day_to)?,
        hourly: points(reader, filter, Resolution::Hour, hour_from, hour_to)?,
        storage: StorageCost::of(
            bytes_used,
            total(reader, Family::Events, &Filter::default())?.n,
        ),
        generated_at: options.generated_at(),
    })
}

/// Where spending stands against the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetStatus {
    /// Under 70 % of the budget.
    Green,
    /// 70 % to under 90 %.
    Yellow,
    /// 90 % or more.
    Red,
    /// No budget configured.
    None,
}

/// The `budget` view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    pub monthly_budget: Option<f64>,
    pub current_month_cost: f64,
    pub budget_remaining: Option<f64>,
    /// Current month cost over budget, in percent.
    pub percent_used: Option<f64>,
    pub status: BudgetStatus,
    /// The month's cost if it goes on at the average rate of its elapsed part.
    pub projected_month_end_cost: f64,
    pub projected_percent: Option<f64>,
    pub month: String,
    pub days_elapsed: f64,
    pub days_in_month: u32,
    pub generated_at: String,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single();
    let next = Utc
        .with_ymd_and_hms(next_year, next_month, 1, 0, 0, 0)
        .single();
    match (first, next) {
        (Some(a), Some(b)) => (b - a).num_days() as u32,
        _ => 30,
    }
}

/// The budget of the filter's project (or of all) for `options.now`'s month.
///
/// # Errors
/// A storage failure.
pub fn budget(reader: &dyn RollupReader, filter: &Filter, options: &ViewOptions) -> Result<Budget> {
    let cost = current_month_cost(reader, filter.project.as_deref(), options)?;
    let start = options.month_start();
    let days = days_in_month(start.year(), start.month());
    let elapsed = ((options.now - start).num_seconds() as f64 / 86_400.0).max(1.0 / 24.0);
    let projected = cost / elapsed * f64::from(days);
    // A zero budget is fully used by any spending.
    let percent_of = |amount: f64, budget: f64| {
        if budget > 0.0 {
            amount / budget * 100.0
        } else if amount > 0.0 {
            100.0
        } else {
            0.0
        }
    };
    let percent = options.monthly_budget.map(|b| percent_of(cost, b));
    let status = match percent {
        None => BudgetStatus::None,
        Some(p) if p >= 90.0 => BudgetStatus::Red,
        Some(p) if p >= 70.0 => BudgetStatus::Yellow,
        Some(_) => BudgetStatus::Green,
    };
    Ok(Budget {
        monthly_budget: options.monthly_budget,
        current_month_cost: cost,
        budget_remaining: options.monthly_budget.map(|b| b - cost),
        percent_used: percent,
        status,
        projected_month_end_cost: projected,
        projected_percent: options.monthly_budget.map(|b| percent_of(projected, b)),
        month: start.format("%Y-%m").to_string(),
        days_elapsed: elapsed,
        days_in_month: days,
        generated_at: options.generated_at(),
    })
}
