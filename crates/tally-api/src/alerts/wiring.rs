//! What `tally serve` and `tally alerts` evaluate and deliver with: the one place that
//! names the observation of a rule and the delivery of notifications.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::engine::LogNotify;
use super::{AlertRule, Notify, Observation, RuleKind};
use crate::{Analytics, Error, Filter, Result};

/// Measures a rule as of `now`.
///
/// # Errors
/// The rule cannot be measured (the store fails, or its kind is not measured here).
pub fn observe_rule(
    analytics: &Analytics,
    rule: &AlertRule,
    now: DateTime<Utc>,
) -> Result<Observation> {
    match rule.rule {
        RuleKind::Budget | RuleKind::ProjectedBudget if rule.model.is_none() => {
            budget_share(analytics, rule, now)
        }
        _ => Err(Error::AlertInvalid {
            field: "rule".into(),
            message: format!(
                "rule {} {}is not measured by this build",
                rule.rule.as_str(),
                if rule.model.is_some() {
                    "limited to a model "
                } else {
                    ""
                }
            ),
        }),
    }
}

/// The share of the monthly budget spent this month (`budget`) or reached by the
/// month-end projection (`projected_budget`), of the rule's project or of all.
fn budget_share(
    analytics: &Analytics,
    rule: &AlertRule,
    now: DateTime<Utc>,
) -> Result<Observation> {
    let analytics = analytics.as_of(now);
    let Some(monthly) = analytics
        .config()
        .analytics
        .monthly_budget
        .filter(|b| *b > 0.0)
    else {
        return Ok(Observation {
            value: None,
            threshold: rule.threshold,
            firing: false,
            summary: "no monthly budget is set ([analytics] monthly_budget in tally.toml)".into(),
            events: None,
            test: None,
        });
    };
    let filter = Filter {
        project: rule.project.clone(),
        ..Filter::default()
    };
    let (spent, projected) = match analytics.budget(&filter) {
        Ok(budget) => (budget.current_month_cost, budget.projected_month_end_cost),
        // A project without data has spent nothing yet.
        Err(Error::UnknownProject { .. }) => (0.0, 0.0),
        Err(other) => return Err(other),
    };
    let (cost, what) = if rule.rule == RuleKind::Budget {
        (spent, "spent this month")
    } else {
        (projected, "projected for the month's end")
    };
    let share = cost / monthly;
    let whose = rule
        .project
        .as_ref()
        .map_or_else(String::new, |p| format!(" by project {p}"));
    Ok(Observation {
        value: Some(share),
        threshold: rule.threshold,
        firing: share >= rule.threshold,
        summary: format!(
            "${cost:.2} {what}{whose}: {:.1} % of the ${monthly:.2} monthly budget (threshold {:.1} %)",
            share * 100.0,
            rule.threshold * 100.0
        ),
        events: None,
        test: None,
    })
}

/// Where notifications go: each is written to the log at info level.
pub fn notifier(_analytics: &Analytics) -> Arc<dyn Notify> {
    Arc::new(LogNotify)
}
