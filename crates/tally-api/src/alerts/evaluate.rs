//! What each rule measures: [`observe`] turns a rule and an instant into an
//! [`Observation`] (the value in the threshold's unit, whether it fires, and a sentence
//! with the figures), from the views, the series and the rollup and minute tiers
//! (`window.rs`); never from an unbounded scan of raw rows. `docs/alerts.md`, "What each
//! rule measures", says the same for users.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use tally_predict::series::{self as predict, AnomalyConfig, AnomalyMethod};
use tally_store::Filter;
use tally_store::rollup::{Family, ProjectScope, RollupQuery};

use super::baseline::test_against_baseline;
use super::notification::Observation;
use super::rule::{AlertRule, RuleKind, SpikeSeries};
use super::window::{self, Counts, Subject};
use crate::{Analytics, Error, Granularity, Result, SeriesQuery, SeriesSource};

/// Evaluates `rule` as of `now`.
///
/// # Errors
/// The rule does not validate; its scope names a project, model, tool or agent without
/// data (except a silence rule's project, which is measured as never seen); the store
/// fails.
pub fn observe(analytics: &Analytics, rule: &AlertRule, now: DateTime<Utc>) -> Result<Observation> {
    rule.validate()
        .map_err(|message| Error::Filter(format!("rule {}: {message}", rule.name)))?;
    let analytics = analytics.as_of(now);
    if rule.rule != RuleKind::Silence {
        analytics.check_project(&project_filter(rule))?;
    }
    match rule.rule {
        RuleKind::Budget | RuleKind::ProjectedBudget => budget(&analytics, rule),
        RuleKind::CostSpike | RuleKind::TokenSpike => spike(&analytics, rule, now),
        RuleKind::QaFailureRate => qa_failure_rate(&analytics, rule, now),
        RuleKind::FailureRate => failure_rate(&analytics, rule, now),
        RuleKind::RequestErrorRate | RuleKind::RequestP95 => requests(&analytics, rule, now),
        RuleKind::AgentSaturation => agent_saturation(&analytics, rule),
        RuleKind::Silence => silence(&analytics, rule, now),
    }
}

fn project_filter(rule: &AlertRule) -> Filter {
    Filter {
        project: rule.project.clone(),
        ..Filter::default()
    }
}

/// What the rule is about, for its summary: `support-bot`, `model gpt-4o in support-bot`,
/// `all projects`.
fn subject(rule: &AlertRule) -> String {
    let project = rule.project.as_deref().unwrap_or("all projects");
    let thing = match (&rule.model, &rule.tool, &rule.agent) {
        (Some(model), _, _) => Some(format!("model {model}")),
        (_, Some(tool), _) => Some(format!("tool {tool}")),
        (_, _, Some(agent)) => Some(format!("agent {agent}")),
        _ => None,
    };
    match (thing, &rule.project) {
        (Some(thing), Some(project)) => format!("{thing} in {project}"),
        (Some(thing), None) => thing,
        (None, _) => project.to_owned(),
    }
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

fn dollars(amount: f64) -> String {
    format!("${amount:.2}")
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn window_text(minutes: u32) -> String {
    if minutes % 1440 == 0 {
        format!("{} d", minutes / 1440)
    } else if minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

fn observation(rule: &AlertRule, value: Option<f64>, firing: bool, summary: String) -> Observation {
    Observation {
        value,
        threshold: rule.threshold,
        firing,
        summary,
        events: None,
        test: None,
    }
}

/// Refuses a name the store has no data of, listing the known ones.
fn check_known(field: &str, name: &str, known: &BTreeSet<String>) -> Result<()> {
    if known.contains(name) {
        return Ok(());
    }
    let listed: Vec<&str> = known.iter().map(String::as_str).collect();
    Err(Error::Filter(if listed.is_empty() {
        format!("{field}: unknown {field} {name:?}: no {field} has data yet")
    } else {
        format!(
            "{field}: unknown {field} {name:?}; {field}s with data: {}",
            listed.join(", ")
        )
    }))
}

/// The names a keyed family holds over all time and projects (its monthly rows).
fn names(analytics: &Analytics, families: &[Family]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for &family in families {
        let rows = analytics.store.rollups(&RollupQuery {
            family,
            projects: ProjectScope::All,
            from: None,
            to: None,
            by: None,
        })?;
        out.extend(rows.into_iter().filter_map(|row| row.name));
    }
    Ok(out)
}

fn check_model(analytics: &Analytics, model: &str) -> Result<()> {
    let known = names(analytics, &[Family::ExecutionsByModel, Family::RunsByModel])?;
    check_known("model", model, &known)
}

fn check_tool(analytics: &Analytics, tool: &str) -> Result<()> {
    check_known(
        "tool",
        tool,
        &names(analytics, &[Family::ExecutionsByTool])?,
    )
}

/// `budget` and `projected_budget`: month-to-date spend (or its linear month-end
/// projection, the budget view's) over the monthly budget.
fn budget(analytics: &Analytics, rule: &AlertRule) -> Result<Observation> {
    let view = analytics.budget(&project_filter(rule))?;
    let spent = match &rule.model {
        Some(model) => {
            check_model(analytics, model)?;
            let month = Filter {
                project: rule.project.clone(),
                from: Some(analytics.view_options().month_start()),
                to: None,
            };
            analytics
                .models(&month)?
                .into_iter()
                .find(|m| &m.model_name == model)
                .map_or(0.0, |m| m.total_cost)
        }
        None => view.current_month_cost,
    };
    // The budget view's projection: the month so far's average daily spend, carried to
    // the month's end.
    let projected = spent / view.days_elapsed * f64::from(view.days_in_month);
    let who = subject(rule);
    let Some(monthly) = view.monthly_budget else {
        return Ok(observation(
            rule,
            None,
            false,
            format!(
                "{who} spent {} this month, but no monthly budget is set ([analytics] monthly_budget)",
                dollars(spent)
            ),
        ));
    };
    let share = |amount: f64| {
        if monthly > 0.0 {
            amount / monthly
        } else if amount > 0.0 {
            1.0
        } else {
            0.0
        }
    };
    let threshold = percent(rule.threshold);
    let (value, summary) = if rule.rule == RuleKind::Budget {
        let value = share(spent);
        let summary = format!(
            "{who} spent {} of {} ({}) this month; threshold {threshold}",
            dollars(spent),
            dollars(monthly),
            percent(value)
        );
        (value, summary)
    } else {
        let value = share(projected);
        let summary = format!(
            "{who} is projected to spend {} of {} ({}) by the end of {} ({} over {:.1} of {} days, \
             at the same daily rate); threshold {threshold}",
            dollars(projected),
            dollars(monthly),
            percent(value),
            view.month,
            dollars(spent),
            view.days_elapsed,
            view.days_in_month
        );
        (value, summary)
    };
    Ok(observation(
        rule,
        Some(value),
        value >= rule.threshold,
        summary,
    ))
}

/// `cost_spike` and `token_spike`: the latest whole hour (or day) of the series, scored
/// by the anomaly detector against its seasonal baseline with the rule's threshold;
/// fires when the detector flags it above the band.
fn spike(analytics: &Analytics, rule: &AlertRule, now: DateTime<Utc>) -> Result<Observation> {
    if let Some(model) = &rule.model {
        check_model(analytics, model)?;
    }
    let (metric, what) = match rule.rule {
        RuleKind::CostSpike => (predict::Metric::Cost, "cost"),
        _ => (predict::Metric::Tokens, "tokens"),
    };
    let (granularity, period, rolling_window) = match rule.series() {
        SpikeSeries::Hourly => (Granularity::Hour, "hour", 24),
        SpikeSeries::Daily => (Granularity::Day, "day", 7),
    };
    let series = analytics.series(&SeriesSource::Store(SeriesQuery {
        metric: metric.name().to_owned(),
        filter: project_filter(rule),
        granularity,
        model: rule.model.clone(),
        ..SeriesQuery::default()
    }))?;
    let config = AnomalyConfig {
        baseline_threshold: rule.threshold,
        rolling_window,
        ..AnomalyConfig::default()
    };
    let who = subject(rule);
    // A count's 0 may be only the fill of an empty period: zeros nobody sent are no
    // history to score against.
    if !series
        .points
        .iter()
        .any(|p| p.value.is_some_and(|v| v != 0.0))
    {
        return Ok(observation(
            rule,
            None,
            false,
            format!(
                "{who}: no {what} recorded in the {} {period}s before {}",
                series.points.len(),
                time(now)
            ),
        ));
    }
    let report = predict::anomalies(&series, &config);
    let (Some(last), Some(baseline)) = (series.points.last(), report.baseline.as_ref()) else {
        return Ok(observation(
            rule,
            None,
            false,
            format!(
                "{who}: not enough {what} history to score the last {period} before {} ({})",
                time(now),
                report
                    .note
                    .as_deref()
                    .unwrap_or("no whole period recorded yet")
            ),
        ));
    };
    let index = series.points.len() - 1;
    let score = report
        .scores
        .iter()
        .find(|s| s.method == AnomalyMethod::Seasonal)
        .and_then(|s| s.scores.get(index).copied().flatten());
    let expected = baseline.expected_at(index);
    let flagged = report
        .anomalies
        .iter()
        .find(|a| a.timestamp == last.time())
        .filter(|a| a.score > 0.0);
    let show = |v: f64| match rule.rule {
        RuleKind::CostSpike => dollars(v),
        _ => format!("{v:.0} tokens"),
    };
    let summary = match (last.value, expected, score) {
        (Some(value), Some((expected, _)), Some(score)) => format!(
            "{who}: {what} of the {period} from {} was {}, expected {} (score {score:.1} against \
             the seasonal baseline){}; threshold {}",
            last.time(),
            show(value),
            show(expected),
            if flagged.is_some() && score < rule.threshold {
                ", after a stretch without any spread"
            } else {
                ""
            },
            rule.threshold
        ),
        _ => format!(
            "{who}: the {period} from {} has no {what} to score; threshold {}",
            last.time(),
            rule.threshold
        ),
    };
    Ok(observation(rule, score, flagged.is_some(), summary))
}

/// A rate's value, or `None` with a sentence when the window holds too few events.
fn rate_value(rule: &AlertRule, failures: u64, events: u64) -> Option<f64> {
    (events >= rule.min_events() && events > 0).then(|| failures as f64 / events as f64)
}

fn too_few(rule: &AlertRule, who: &str, what: &str, events: u64, since: DateTime<Utc>) -> String {
    format!(
        "{who}: only {events} {what} since {}, fewer than the {} the rule needs; threshold {}",
        time(since),
        rule.min_events(),
        percent(rule.threshold)
    )
}

/// `qa_failure_rate`: runs whose QA check failed or errored over runs whose QA ran,
/// from the hourly rollups (the window's start rounded down to the hour).
fn qa_failure_rate(
    analytics: &Analytics,
    rule: &AlertRule,
    now: DateTime<Utc>,
) -> Result<Observation> {
    let start = now - Duration::minutes(i64::from(rule.window_minutes()));
    let from = DateTime::from_timestamp(start.timestamp() - start.timestamp().rem_euclid(3600), 0)
        .unwrap_or(start);
    let qa = analytics.qa(&Filter {
        project: rule.project.clone(),
        from: Some(from),
        to: Some(now),
    })?;
    let (failing, checks) = (qa.qa_failed + qa.qa_error, qa.total_qa_runs);
    let who = subject(rule);
    let value = rate_value(rule, failing, checks);
    let summary = match value {
        Some(rate) => format!(
            "{who}: {failing} of {checks} QA checks failed ({}) since {}; threshold {}",
            percent(rate),
            time(from),
            percent(rule.threshold)
        ),
        None => too_few(rule, &who, "QA checks", checks, from),
    };
    let mut observed = observation(
        rule,
        value,
        value.is_some_and(|v| v >= rule.threshold),
        summary,
    );
    observed.events = Some(checks);
    Ok(observed)
}

/// `failure_rate`: failed executions of the tool (executions calling the model, or all)
/// over the window; with `baseline_days`, only when also significantly above the rate
/// of the days before (`baseline.rs`).
fn failure_rate(
    analytics: &Analytics,
    rule: &AlertRule,
    now: DateTime<Utc>,
) -> Result<Observation> {
    let subject_of = match (&rule.tool, &rule.model) {
        (Some(tool), _) => {
            check_tool(analytics, tool)?;
            Subject::Tool(tool)
        }
        (_, Some(model)) => {
            check_model(analytics, model)?;
            Subject::Model(model)
        }
        _ => Subject::Executions,
    };
    let project = rule.project.as_deref();
    let store = &*analytics.store;
    let counts = window::window(store, project, subject_of, now, rule.window_minutes())?;
    let who = subject(rule);
    let Counts {
        events, failures, ..
    } = counts;
    let value = rate_value(rule, failures, events);
    let over = value.is_some_and(|v| v >= rule.threshold);
    let mut summary = match value {
        Some(rate) => format!(
            "{who}: {failures} of {events} executions failed ({}) in the last {}; threshold {}",
            percent(rate),
            window_text(rule.window_minutes()),
            percent(rule.threshold)
        ),
        None => too_few(rule, &who, "executions", events, counts.from),
    };
    let mut firing = over;
    let mut test = None;
    if let (Some(days), Some(_)) = (rule.baseline_days, value) {
        let base = window::baseline(store, project, subject_of, counts.from, days)?;
        test = test_against_baseline(failures, events, base.failures, base.events);
        match &test {
            Some(t) => {
                let significant = t.p_value < rule.significance();
                firing = over && significant;
                summary.push_str(&format!(
                    "; baseline {} ({} of {} from {} to {}), p = {:.2e} by the {} ({}significant at {})",
                    percent(t.baseline_rate),
                    base.failures,
                    base.events,
                    time(base.from),
                    time(base.to),
                    t.p_value,
                    t.name,
                    if significant { "" } else { "not " },
                    rule.significance()
                ));
            }
            None => {
                firing = false;
                summary.push_str(&format!(
                    "; no executions in the {days} d baseline before {}, so no rise above it can be shown",
                    time(base.to)
                ));
            }
        }
    }
    Ok(Observation {
        value,
        threshold: rule.threshold,
        firing,
        summary,
        events: Some(events),
        test,
    })
}

/// `request_error_rate` (5xx over all requests) and `request_p95` (ms, from the
/// latency sketch) over the window.
fn requests(analytics: &Analytics, rule: &AlertRule, now: DateTime<Utc>) -> Result<Observation> {
    let minutes = rule.window_minutes();
    let counts = window::window(
        &*analytics.store,
        rule.project.as_deref(),
        Subject::Requests,
        now,
        minutes,
    )?;
    let who = subject(rule);
    let enough = counts.events >= rule.min_events() && counts.events > 0;
    let (value, summary) = if !enough {
        let mut summary = too_few(rule, &who, "requests", counts.events, counts.from);
        if rule.rule == RuleKind::RequestP95 {
            summary = summary.replace(
                &format!("threshold {}", percent(rule.threshold)),
                &format!("threshold {} ms", rule.threshold),
            );
        }
        (None, summary)
    } else if rule.rule == RuleKind::RequestErrorRate {
        let rate = counts.failures as f64 / counts.events as f64;
        (
            Some(rate),
            format!(
                "{who}: {} of {} requests answered 5xx ({}) in the last {}; threshold {}",
                counts.failures,
                counts.events,
                percent(rate),
                window_text(minutes),
                percent(rule.threshold)
            ),
        )
    } else {
        let p95 = counts.latency.quantile(0.95);
        let summary = match p95 {
            Some(p95) => format!(
                "{who}: p95 latency {p95:.0} ms over {} requests in the last {}; threshold {} ms",
                counts.events,
                window_text(minutes),
                rule.threshold
            ),
            None => format!(
                "{who}: no request latency in the last {}",
                window_text(minutes)
            ),
        };
        (p95, summary)
    };
    let mut observed = observation(
        rule,
        value,
        value.is_some_and(|v| v >= rule.threshold),
        summary,
    );
    observed.events = Some(counts.events);
    Ok(observed)
}

/// `agent_saturation`: the capacity view's hours to saturation of the agent, or the
/// lowest of the project's (or all) agents; an agent at or past capacity counts 0.
fn agent_saturation(analytics: &Analytics, rule: &AlertRule) -> Result<Observation> {
    let capacity = analytics.capacity(&project_filter(rule))?;
    if let Some(agent) = &rule.agent {
        let known: BTreeSet<String> = capacity.agents.iter().map(|a| a.agent_id.clone()).collect();
        check_known("agent", agent, &known)?;
    }
    let hours = |a: &tally_metrics::CapacityForecast| {
        if a.current_utilisation >= 1.0 {
            Some(0.0)
        } else {
            a.hours_to_saturation
        }
    };
    let soonest = capacity
        .agents
        .iter()
        .filter(|a| rule.agent.as_ref().is_none_or(|id| &a.agent_id == id))
        .filter_map(|a| hours(a).map(|h| (h, a)))
        .min_by(|x, y| x.0.total_cmp(&y.0));
    let who = subject(rule);
    Ok(match soonest {
        Some((h, agent)) => observation(
            rule,
            Some(h),
            h < rule.threshold,
            format!(
                "{who}: agent {} saturates in {h:.1} h ({} of capacity now, rising {} an hour \
                 over the last {} h); threshold {} h",
                agent.agent_id,
                percent(agent.current_utilisation),
                percent(agent.utilisation_trend_per_hour),
                capacity.window_hours,
                rule.threshold
            ),
        ),
        None => observation(
            rule,
            None,
            false,
            format!(
                "{who}: no agent's utilisation is rising or at capacity ({} agents, last {} h); \
                 threshold {} h",
                capacity
                    .agents
                    .iter()
                    .filter(|a| rule.agent.as_ref().is_none_or(|id| &a.agent_id == id))
                    .count(),
                capacity.window_hours,
                rule.threshold
            ),
        ),
    })
}

/// `silence`: minutes since the latest event of the project (or of any), from the
/// monthly count of events of every kind, whose rows keep their latest event time.
fn silence(analytics: &Analytics, rule: &AlertRule, now: DateTime<Utc>) -> Result<Observation> {
    let who = subject(rule);
    if let Some(project) = &rule.project
        && !analytics.store.project_names()?.contains(project)
    {
        return Ok(observation(
            rule,
            None,
            false,
            format!("project {project} has never sent an event, so it cannot fall silent"),
        ));
    }
    let rows = analytics.store.rollups(&RollupQuery {
        family: Family::Events,
        projects: ProjectScope::from_option(rule.project.as_deref()),
        from: None,
        to: None,
        by: None,
    })?;
    let last = rows
        .iter()
        .filter(|row| row.measures.n > 0)
        .map(|row| row.measures.last_ts)
        .max()
        .and_then(DateTime::from_timestamp_millis);
    let Some(last) = last else {
        return Ok(observation(
            rule,
            None,
            false,
            format!("{who}: no event stored yet, so nothing can fall silent"),
        ));
    };
    let minutes = ((now - last).num_seconds().max(0) as f64 / 60.0).floor();
    Ok(observation(
        rule,
        Some(minutes),
        minutes >= rule.threshold,
        format!(
            "{who}: last event at {}, {minutes:.0} min before {}; threshold {} min",
            time(last),
            time(now),
            rule.threshold
        ),
    ))
}

#[cfg(test)]
mod tests;
