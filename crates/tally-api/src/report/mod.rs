//! Standalone HTML reports: one file with inline CSS and SVG charts, no network. KPIs
//! with their change against the previous period of the same length, the charts a
//! reader wants, and findings in plain words from the views' own numbers.
//!
//! Every KPI carries `data-kpi` and `data-value` attributes with the exact figure, so a
//! report can be checked against the API.

mod learner;
mod svg;

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};
use tally_metrics::{Advice, AnalyticsSummary, BudgetStatus, Granularity};
use tally_predict::experiment::{Status, Verdict};
use tally_store::Filter;

use crate::{Analytics, Result, SeriesQuery, SeriesSource};

pub use learner::{GoalMove, LearnerReport, ReportFormat, ReportPeriod, TopicLine};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Spend, volume, quality and budget for the people who pay.
    Executive,
    /// Tools, latency, risks, pipeline and capacity for the people who run the agents.
    Technical,
    /// Every experiment's verdicts, intervals and split check.
    Experiments,
    /// Learning sessions, their quality and skill completion over time.
    Learning,
}

impl ReportKind {
    pub const ALL: [ReportKind; 4] = [
        ReportKind::Executive,
        ReportKind::Technical,
        ReportKind::Learning,
        ReportKind::Experiments,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Executive => "executive",
            ReportKind::Technical => "technical",
            ReportKind::Experiments => "experiments",
            ReportKind::Learning => "learning",
        }
    }

    pub fn from_name(name: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The days a report covers when its filter has no range.
pub const DEFAULT_REPORT_DAYS: i64 = 30;

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

fn usd(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("${:.0}", v)
    } else {
        format!("${v:.2}")
    }
}

fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

fn count(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// The report's period and the one before it, of the same length.
fn periods(filter: &Filter, now: DateTime<Utc>) -> (Filter, Filter) {
    let to = filter.to.unwrap_or(now);
    let from = filter
        .from
        .unwrap_or(to - Duration::days(DEFAULT_REPORT_DAYS));
    let current = Filter {
        project: filter.project.clone(),
        from: Some(from),
        to: Some(to),
    };
    let previous = Filter {
        project: filter.project.clone(),
        from: Some(from - (to - from)),
        to: Some(from),
    };
    (current, previous)
}

/// A KPI card: the figure, its change against the previous period, and whether up is
/// good. Rates change in percentage points, amounts in percent.
struct Kpi<'a> {
    id: &'a str,
    title: &'a str,
    value: f64,
    previous: f64,
    shown: String,
    up_is_good: bool,
    rate: bool,
}

/// A KPI of the summary: how to read it and show it.
struct SummaryKpi {
    id: &'static str,
    title: &'static str,
    value: fn(&AnalyticsSummary) -> f64,
    shown: fn(f64) -> String,
    up_is_good: bool,
    rate: bool,
}

const SUMMARY_KPIS: &[SummaryKpi] = &[
    SummaryKpi {
        id: "total_cost",
        title: "Total cost",
        value: |s| s.total_cost,
        shown: usd,
        up_is_good: false,
        rate: false,
    },
    SummaryKpi {
        id: "total_runs",
        title: "Runs",
        value: |s| s.total_runs as f64,
        shown: count,
        up_is_good: true,
        rate: false,
    },
    SummaryKpi {
        id: "total_executions",
        title: "Executions",
        value: |s| s.total_executions as f64,
        shown: count,
        up_is_good: true,
        rate: false,
    },
    SummaryKpi {
        id: "success_rate",
        title: "Execution success",
        value: |s| s.success_rate,
        shown: pct,
        up_is_good: true,
        rate: true,
    },
    SummaryKpi {
        id: "qa_pass_rate",
        title: "QA pass rate",
        value: |s| s.qa_summary.pass_rate,
        shown: pct,
        up_is_good: true,
        rate: true,
    },
    SummaryKpi {
        id: "total_tokens",
        title: "Tokens",
        value: |s| s.total_tokens as f64,
        shown: count,
        up_is_good: false,
        rate: false,
    },
    SummaryKpi {
        id: "avg_duration_seconds",
        title: "Avg run duration",
        value: |s| s.avg_duration_seconds,
        shown: |v| format!("{v:.1} s"),
        up_is_good: false,
        rate: false,
    },
    SummaryKpi {
        id: "jobs_failed",
        title: "Failed jobs",
        value: |s| s.jobs_failed as f64,
        shown: count,
        up_is_good: false,
        rate: false,
    },
];

/// The summary KPIs named by `ids`, now against before.
fn summary_kpis(
    ids: &[&str],
    now: &AnalyticsSummary,
    before: &AnalyticsSummary,
) -> Vec<Kpi<'static>> {
    ids.iter()
        .filter_map(|id| SUMMARY_KPIS.iter().find(|k| k.id == *id))
        .map(|k| Kpi {
            id: k.id,
            title: k.title,
            value: (k.value)(now),
            previous: (k.value)(before),
            shown: (k.shown)((k.value)(now)),
            up_is_good: k.up_is_good,
            rate: k.rate,
        })
        .collect()
}

/// Whether the previous period holds enough events (a twentieth of this one's) for a
/// comparison to mean something.
fn comparable(now: &AnalyticsSummary, before: &AnalyticsSummary) -> bool {
    let events = |s: &AnalyticsSummary| s.total_runs + s.total_executions;
    events(before) > 0 && events(before) * 20 >= events(now)
}

/// The change of a KPI against the previous period, coloured by whether it is good;
/// below `flat` it counts as no change.
fn change_span(k: &Kpi<'_>, change: f64, flat: f64, unit: &str) -> String {
    let class = if change.abs() < flat {
        "flat"
    } else if (change >= 0.0) == k.up_is_good {
        "good"
    } else {
        "bad"
    };
    let sign = if change >= 0.0 { "+" } else { "" };
    format!(r#"<span class="change {class}">{sign}{change:.1} {unit} vs previous period</span>"#)
}

/// KPI cards; `comparable` is `None` when the report compares no periods.
fn kpis(out: &mut String, comparable: Option<bool>, cards: &[Kpi<'_>]) {
    out.push_str(r#"<section class="kpis">"#);
    for k in cards {
        let change = if comparable.is_none() {
            String::new()
        } else if comparable == Some(false) {
            r#"<span class="change flat">too little data in the previous period</span>"#.to_owned()
        } else if k.rate {
            // Rates move in percentage points.
            change_span(k, (k.value - k.previous) * 100.0, 0.05, "pt")
        } else if k.previous.abs() > f64::EPSILON {
            change_span(
                k,
                (k.value - k.previous) / k.previous.abs() * 100.0,
                0.5,
                "%",
            )
        } else {
            r#"<span class="change flat">none in the previous period</span>"#.to_owned()
        };
        let _ = write!(
            out,
            r#"<div class="kpi"><div class="label">{}</div><div class="value" data-kpi="{}" data-value="{}">{}</div>{change}</div>"#,
            escape(k.title),
            k.id,
            k.value,
            escape(&k.shown)
        );
    }
    out.push_str("</section>");
}

fn section(out: &mut String, title: &str, body: &str) {
    let _ = write!(
        out,
        r#"<section class="panel"><h2>{}</h2>{body}</section>"#,
        escape(title)
    );
}

fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return r#"<p class="muted">nothing in this period</p>"#.to_owned();
    }
    let mut out = String::from("<table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn findings(out: &mut String, items: &[String]) {
    let mut body = String::from("<ul class=\"findings\">");
    for item in items {
        let _ = write!(body, "<li>{}</li>", escape(item));
    }
    if items.is_empty() {
        body.push_str("<li>Nothing stands out in this period.</li>");
    }
    body.push_str("</ul>");
    section(out, "Findings", &body);
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#111827;background:#f3f4f8;margin:0}
header{background:#151827;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c7c9d9}
main{max-width:1000px;margin:0 auto;padding:18px}.kpis{display:grid;grid-template-columns:repeat(3,1fr);gap:12px;margin-bottom:14px}
.kpi,.panel{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}.panel{margin-bottom:14px}
.label{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#6b7280}.value{font-size:24px;font-weight:700;margin:2px 0}
.change{font-size:12px}.good{color:#15803d}.bad{color:#b91c1c}.flat{color:#6b7280}.muted{color:#6b7280}
h2{font-size:15px;margin:0 0 10px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e5e7eb;font-size:13px}
th{font-size:11px;text-transform:uppercase;color:#6b7280}.chart{width:100%;height:auto}.findings li{margin:4px 0}";

fn page(title: &str, filter: &Filter, generated: DateTime<Utc>, body: &str) -> String {
    let range = format!(
        "{} to {}{}",
        filter.from.map_or("the beginning".to_owned(), |t| t
            .format("%Y-%m-%d %H:%M UTC")
            .to_string()),
        filter.to.map_or("now".to_owned(), |t| t
            .format("%Y-%m-%d %H:%M UTC")
            .to_string()),
        filter
            .project
            .as_ref()
            .map_or(String::new(), |p| format!(", project {p}"))
    );
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><header><h1>{}</h1><p>{} · generated {}</p></header><main>{body}</main></body></html>",
        escape(title),
        escape(title),
        escape(&range),
        generated.format("%Y-%m-%d %H:%M UTC")
    )
}

fn change_sentence(
    comparable: bool,
    what: &str,
    now: f64,
    before: f64,
    shown: impl Fn(f64) -> String,
) -> Option<String> {
    if !comparable || before.abs() < f64::EPSILON {
        return None;
    }
    let delta = (now - before) / before.abs();
    (delta.abs() >= 0.1).then(|| {
        format!(
            "{what} {} {:.0} % against the previous period ({} → {}).",
            if delta > 0.0 { "rose" } else { "fell" },
            delta.abs() * 100.0,
            shown(before),
            shown(now)
        )
    })
}

impl Analytics {
    /// A standalone HTML report over the filter's range (the last 30 days by default).
    ///
    /// # Errors
    /// The store fails.
    pub fn report(&self, kind: ReportKind, filter: &Filter) -> Result<String> {
        self.check_project(filter)?;
        let now = self.view_options().now;
        let (current, previous) = periods(filter, now);
        let body = match kind {
            ReportKind::Executive => self.executive(&current, &previous)?,
            ReportKind::Technical => self.technical(&current, &previous)?,
            ReportKind::Experiments => self.experiments_report(&current)?,
            ReportKind::Learning => self.learning_report(&current, &previous)?,
        };
        let title = match kind {
            ReportKind::Executive => "tally · executive report",
            ReportKind::Technical => "tally · technical report",
            ReportKind::Experiments => "tally · experiments report",
            ReportKind::Learning => "tally · learning report",
        };
        Ok(page(title, &current, now, &body))
    }

    fn executive(&self, current: &Filter, previous: &Filter) -> Result<String> {
        let s = self.summary(current)?;
        let p = self.summary(previous)?;
        let mut out = String::new();
        let same = comparable(&s, &p);
        let cards = summary_kpis(
            &[
                "total_cost",
                "total_runs",
                "total_executions",
                "success_rate",
                "qa_pass_rate",
                "total_tokens",
            ],
            &s,
            &p,
        );
        kpis(&mut out, Some(same), &cards);
        let series = self.timeseries(current, Granularity::Day)?;
        let daily: Vec<(String, f64, f64)> = series
            .points()
            .iter()
            .map(|d| {
                (
                    d.date.clone().unwrap_or_default().chars().skip(5).collect(),
                    d.cost,
                    d.runs as f64,
                )
            })
            .collect();
        let costs: Vec<(String, f64)> = daily.iter().map(|d| (d.0.clone(), d.1)).collect();
        let runs: Vec<(String, f64)> = daily.iter().map(|d| (d.0.clone(), d.2)).collect();
        section(
            &mut out,
            "Cost per day",
            &svg::line_chart(&costs, "#6d4aff", usd),
        );
        section(
            &mut out,
            "Runs per day",
            &svg::line_chart(&runs, "#16a34a", count),
        );
        let budget = self.budget(current)?;
        let budget_text = match budget.monthly_budget {
            Some(limit) => format!(
                "{} of {} this month ({}), {} projected by month end: {}.",
                usd(budget.current_month_cost),
                usd(limit),
                pct(budget.percent_used.unwrap_or(0.0) / 100.0),
                usd(budget.projected_month_end_cost),
                match budget.status {
                    BudgetStatus::Green => "on track",
                    BudgetStatus::Yellow => "watch it",
                    BudgetStatus::Red => "over or near the limit",
                    BudgetStatus::None => "no budget",
                }
            ),
            None => format!(
                "No monthly budget is set; this month so far {}, {} projected by month end.",
                usd(budget.current_month_cost),
                usd(budget.projected_month_end_cost)
            ),
        };
        // The month's spend so far, day by day, cumulated: the budget burn-down.
        let month = Filter {
            project: current.project.clone(),
            from: Some(self.view_options().month_start()),
            to: None,
        };
        let mut spent = 0.0;
        let burn: Vec<(String, f64)> = self
            .timeseries(&month, Granularity::Day)?
            .points()
            .iter()
            .map(|d| {
                spent += d.cost;
                (
                    d.date.clone().unwrap_or_default().chars().skip(5).collect(),
                    spent,
                )
            })
            .collect();
        let mut budget_body = format!("<p>{}</p>", escape(&budget_text));
        budget_body.push_str(&svg::line_chart(&burn, "#f59e0b", usd));
        section(
            &mut out,
            "Budget: spend this month, cumulated",
            &budget_body,
        );
        let qa = &s.qa_summary;
        let verdicts = vec![
            ("passed".to_owned(), qa.qa_passed as f64),
            ("warning".to_owned(), qa.qa_warning as f64),
            ("failed".to_owned(), qa.qa_failed as f64),
            ("error".to_owned(), qa.qa_error as f64),
            ("not run".to_owned(), qa.qa_not_run as f64),
        ];
        section(
            &mut out,
            "QA verdicts of runs",
            &svg::bar_chart(&verdicts, "#16a34a", count),
        );
        let models: Vec<(String, f64)> = self
            .models(current)?
            .into_iter()
            .take(8)
            .map(|m| (m.model_name, m.total_cost))
            .collect();
        section(
            &mut out,
            "Top models by cost",
            &svg::bar_chart(&models, "#6d4aff", usd),
        );
        let mut projects: Vec<(String, f64)> = self
            .projects(current)?
            .into_iter()
            .map(|p| (p.project_name, p.total_cost))
            .collect();
        projects.sort_by(|a, b| b.1.total_cmp(&a.1));
        projects.truncate(8);
        section(
            &mut out,
            "Top projects by cost",
            &svg::bar_chart(&projects, "#0ea5e9", usd),
        );
        let mut items = Vec::new();
        items.extend(change_sentence(
            same,
            "Spend",
            s.total_cost,
            p.total_cost,
            usd,
        ));
        items.extend(change_sentence(
            same,
            "Execution success",
            s.success_rate,
            p.success_rate,
            pct,
        ));
        items.extend(change_sentence(
            same,
            "The QA pass rate",
            s.qa_summary.pass_rate,
            p.qa_summary.pass_rate,
            pct,
        ));
        if budget.status == BudgetStatus::Red || budget.status == BudgetStatus::Yellow {
            items.push(budget_text);
        }
        items.extend(self.tool_findings(current)?);
        findings(&mut out, &items);
        Ok(out)
    }

    fn tool_findings(&self, filter: &Filter) -> Result<Vec<String>> {
        let mut items = Vec::new();
        for r in self.recommendations(filter)? {
            if r.recommendation == Advice::Avoid {
                items.push(format!("Avoid {}: {}.", r.tool_name, r.reason));
            }
        }
        if let Some(risk) = self.risks(filter)?.into_iter().find(|r| r.lift.is_some()) {
            items.push(format!("{}.", risk.description));
        }
        for agent in self
            .capacity(filter)?
            .agents
            .into_iter()
            .filter(|a| a.bottleneck)
        {
            items.push(format!(
                "Agent {} is a bottleneck: {}.",
                agent.agent_id,
                agent.reasons.join("; ")
            ));
        }
        Ok(items)
    }

    fn technical(&self, current: &Filter, previous: &Filter) -> Result<String> {
        let s: AnalyticsSummary = self.summary(current)?;
        let p = self.summary(previous)?;
        let pipeline = self.pipeline(current)?;
        let before = self.pipeline(previous)?;
        let mut out = String::new();
        let same = comparable(&s, &p);
        let mut cards = summary_kpis(
            &[
                "total_executions",
                "success_rate",
                "avg_duration_seconds",
                "jobs_failed",
                "qa_pass_rate",
            ],
            &s,
            &p,
        );
        let wait = |p: &tally_metrics::Pipeline| p.queue_wait.p95_seconds.unwrap_or(0.0);
        cards.insert(
            4,
            Kpi {
                id: "queue_wait_p95",
                title: "Queue wait p95",
                value: wait(&pipeline),
                previous: wait(&before),
                shown: format!("{:.1} s", wait(&pipeline)),
                up_is_good: false,
                rate: false,
            },
        );
        kpis(&mut out, Some(same), &cards);
        let series = self.timeseries(current, Granularity::Day)?;
        let success: Vec<(String, f64)> = series
            .points()
            .iter()
            .map(|d| {
                (
                    d.date.clone().unwrap_or_default().chars().skip(5).collect(),
                    d.success_rate,
                )
            })
            .collect();
        section(
            &mut out,
            "Execution success per day",
            &svg::line_chart(&success, "#16a34a", pct),
        );
        let tools = self.tools(current)?;
        let rows: Vec<Vec<String>> = tools
            .iter()
            .take(20)
            .map(|t| {
                vec![
                    t.tool_name.clone(),
                    count(t.total_executions as f64),
                    pct(t.success_rate),
                    format!("{:?}", t.confidence_level).to_uppercase(),
                    t.p95_duration_ms
                        .map_or("–".to_owned(), |v| format!("{v:.0} ms")),
                    usd(t.avg_cost),
                ]
            })
            .collect();
        section(
            &mut out,
            "Tools",
            &table(
                &[
                    "Tool",
                    "Executions",
                    "Success",
                    "Confidence",
                    "p95",
                    "Avg cost",
                ],
                &rows,
            ),
        );
        let p95: Vec<(String, f64)> = tools
            .iter()
            .take(10)
            .filter_map(|t| Some((t.tool_name.clone(), t.p95_duration_ms?)))
            .collect();
        section(
            &mut out,
            "p95 duration by tool",
            &svg::bar_chart(&p95, "#f59e0b", |v| format!("{v:.0} ms")),
        );
        let risks: Vec<Vec<String>> = self
            .risks(current)?
            .into_iter()
            .take(10)
            .map(|r| {
                vec![
                    r.tool_name,
                    format!("{:?}", r.facet),
                    r.value,
                    pct(r.failure_rate),
                    r.lift.map_or("–".to_owned(), |l| format!("{l:.1}×")),
                ]
            })
            .collect();
        section(
            &mut out,
            "Risk patterns",
            &table(&["Tool", "Facet", "Value", "Failure rate", "Lift"], &risks),
        );
        let jobs = &pipeline.jobs;
        let pipeline_rows = vec![
            vec!["queued".to_owned(), count(jobs.queued as f64)],
            vec!["running".to_owned(), count(jobs.running as f64)],
            vec!["completed".to_owned(), count(jobs.completed as f64)],
            vec!["failed".to_owned(), count(jobs.failed as f64)],
            vec!["cancelled".to_owned(), count(jobs.cancelled as f64)],
        ];
        section(
            &mut out,
            "Jobs by state",
            &table(&["State", "Jobs"], &pipeline_rows),
        );
        let mut items = Vec::new();
        items.extend(change_sentence(
            same,
            "Execution success",
            s.success_rate,
            p.success_rate,
            pct,
        ));
        items.extend(change_sentence(
            same,
            "Failed jobs",
            s.jobs_failed as f64,
            p.jobs_failed as f64,
            count,
        ));
        items.extend(self.tool_findings(current)?);
        findings(&mut out, &items);
        Ok(out)
    }
}

impl Analytics {
    fn experiments_report(&self, current: &Filter) -> Result<String> {
        let listings = self.experiments()?;
        let mut analyses = Vec::new();
        for listing in &listings {
            analyses.push((
                listing,
                self.analyze_experiment(&listing.experiment.key, current)?,
            ));
        }
        let comparisons = || {
            analyses.iter().flat_map(|(_, a)| {
                a.metrics
                    .iter()
                    .flat_map(|m| m.comparisons.iter().map(move |c| (m, c)))
            })
        };
        let number = |v: usize| v as f64;
        let wins = comparisons()
            .filter(|(_, c)| c.verdict == Verdict::Win)
            .count();
        let losses = comparisons()
            .filter(|(_, c)| c.verdict == Verdict::Loss)
            .count();
        let srm = analyses.iter().filter(|(_, a)| a.srm.mismatch).count();
        let running = listings
            .iter()
            .filter(|l| l.status == Status::Running)
            .count();
        let outcomes: u64 = analyses.iter().map(|(_, a)| a.assignment.consistent).sum();
        let mismatched: u64 = analyses.iter().map(|(_, a)| a.assignment.mismatched).sum();
        let mut out = String::new();
        kpis(
            &mut out,
            None,
            &[
                Kpi {
                    id: "experiments",
                    title: "Experiments",
                    value: number(listings.len()),
                    previous: 0.0,
                    shown: count_text(listings.len()),
                    up_is_good: true,
                    rate: false,
                },
                Kpi {
                    id: "running",
                    title: "Running",
                    value: number(running),
                    previous: 0.0,
                    shown: count_text(running),
                    up_is_good: true,
                    rate: false,
                },
                Kpi {
                    id: "wins",
                    title: "Winning comparisons",
                    value: number(wins),
                    previous: 0.0,
                    shown: count_text(wins),
                    up_is_good: true,
                    rate: false,
                },
                Kpi {
                    id: "losses",
                    title: "Losing comparisons",
                    value: number(losses),
                    previous: 0.0,
                    shown: count_text(losses),
                    up_is_good: false,
                    rate: false,
                },
                Kpi {
                    id: "srm_failures",
                    title: "Split check failed",
                    value: number(srm),
                    previous: 0.0,
                    shown: count_text(srm),
                    up_is_good: false,
                    rate: false,
                },
                Kpi {
                    id: "outcomes",
                    title: "Outcomes analyzed",
                    value: outcomes as f64,
                    previous: 0.0,
                    shown: count(outcomes as f64),
                    up_is_good: true,
                    rate: false,
                },
            ],
        );
        let signed = |v: Option<f64>, percent: bool| match v {
            None => "–".to_owned(),
            Some(v) if percent => format!("{:+.1} %", v * 100.0),
            Some(v) => format!("{v:+.4}"),
        };
        for (listing, analysis) in &analyses {
            let e = &listing.experiment;
            let mut body = format!(
                "<p>{}{} · {} users in the split check, χ² p = {:.4}{}</p>",
                escape(&format!("{:?}", listing.status).to_lowercase()),
                e.hypothesis
                    .as_ref()
                    .map_or(String::new(), |h| format!(" · {}", escape(h))),
                analysis.srm.variants.iter().map(|v| v.users).sum::<u64>(),
                analysis.srm.p_value,
                if analysis.srm.mismatch {
                    " · <strong class=\"bad\">sample ratio mismatch: no verdict is trusted</strong>"
                } else {
                    ""
                }
            );
            let split: Vec<(String, f64)> = analysis
                .srm
                .variants
                .iter()
                .map(|v| {
                    (
                        format!("{} ({:.0} %)", v.variant, v.weight * 100.0),
                        v.users as f64,
                    )
                })
                .collect();
            body.push_str(&svg::bar_chart(&split, "#6d4aff", |v| {
                format!("{} users", count(v))
            }));
            let rows: Vec<Vec<String>> = analysis
                .metrics
                .iter()
                .flat_map(|m| {
                    m.comparisons.iter().map(move |c| {
                        vec![
                            m.metric.clone(),
                            format!("{} vs {}", c.variant, c.baseline),
                            format!(
                                "{} [{}, {}]",
                                signed(c.diff, false),
                                signed(c.ci_low, false),
                                signed(c.ci_high, false)
                            ),
                            format!(
                                "{} [{}, {}]",
                                signed(c.rel_lift, true),
                                signed(c.rel_ci_low, true),
                                signed(c.rel_ci_high, true)
                            ),
                            c.p_adjusted.map_or("–".to_owned(), |p| format!("{p:.4}")),
                            format!("{:?}", c.verdict).to_lowercase(),
                        ]
                    })
                })
                .collect();
            body.push_str(&table(
                &[
                    "Metric",
                    "Comparison",
                    "Difference [95 % CI]",
                    "Relative lift [95 % CI]",
                    "p (Holm)",
                    "Verdict",
                ],
                &rows,
            ));
            section(&mut out, &format!("Experiment {}", e.key), &body);
        }
        let mut items = Vec::new();
        for (listing, analysis) in &analyses {
            let key = &listing.experiment.key;
            if analysis.srm.mismatch {
                items.push(format!("{key}: the users split off the weights (χ² p = {:.2e}); fix the assignment before trusting any result.", analysis.srm.p_value));
            }
            for m in &analysis.metrics {
                for c in m
                    .comparisons
                    .iter()
                    .filter(|c| matches!(c.verdict, Verdict::Win | Verdict::Loss))
                {
                    items.push(format!(
                        "{key}: {} {} {} on {} by {} (Holm-adjusted p = {:.4}).",
                        c.variant,
                        if c.verdict == Verdict::Win {
                            "beats"
                        } else {
                            "loses to"
                        },
                        c.baseline,
                        m.metric,
                        signed(c.rel_lift, true),
                        c.p_adjusted.unwrap_or(1.0)
                    ));
                }
            }
        }
        if mismatched > 0 {
            items.push(format!("{mismatched} outcome events named another variant than the user's assignment and were left out."));
        }
        findings(&mut out, &items);
        Ok(out)
    }
}

/// The learning figures of a period, from the daily learning series.
struct LearningFigures {
    sessions: f64,
    active_days: f64,
    /// Session-weighted mean of the daily average quality.
    quality: Option<f64>,
    /// Mean of the daily skill completion rates.
    completion: Option<f64>,
    daily: Vec<(String, f64, Option<f64>)>,
}

impl Analytics {
    fn learning_series(&self, metric: &str, filter: &Filter) -> Result<Vec<(i64, Option<f64>)>> {
        let source = SeriesSource::Store(SeriesQuery {
            metric: metric.to_owned(),
            filter: filter.clone(),
            granularity: Granularity::Day,
            tool: None,
            model: None,
            skill: None,
            user: None,
        });
        Ok(self
            .series(&source)?
            .points
            .into_iter()
            .map(|p| (p.timestamp, p.value))
            .collect())
    }

    /// The figures `report --kind learning` shows for a period.
    ///
    /// # Errors
    /// The store fails.
    fn learning_figures(&self, filter: &Filter) -> Result<LearningFigures> {
        let sessions = self.learning_series("sessions", filter)?;
        let quality: std::collections::BTreeMap<i64, Option<f64>> = self
            .learning_series("quality", filter)?
            .into_iter()
            .collect();
        let completion = self.learning_series("completion_rate", filter)?;
        let total: f64 = sessions.iter().filter_map(|(_, v)| *v).sum();
        let weighted: f64 = sessions
            .iter()
            .filter_map(|(day, n)| Some(n.unwrap_or(0.0) * quality.get(day).copied().flatten()?))
            .sum();
        let rated: f64 = sessions
            .iter()
            .filter(|(day, _)| quality.get(day).copied().flatten().is_some())
            .filter_map(|(_, n)| *n)
            .sum();
        let rates: Vec<f64> = completion.iter().filter_map(|(_, v)| *v).collect();
        Ok(LearningFigures {
            sessions: total,
            active_days: sessions
                .iter()
                .filter(|(_, v)| v.unwrap_or(0.0) > 0.0)
                .count() as f64,
            quality: (rated > 0.0).then(|| weighted / rated),
            completion: (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64),
            daily: sessions
                .iter()
                .map(|(day, n)| {
                    let label = DateTime::from_timestamp(*day, 0)
                        .map_or(String::new(), |d| d.format("%m-%d").to_string());
                    (label, n.unwrap_or(0.0), quality.get(day).copied().flatten())
                })
                .collect(),
        })
    }

    fn learning_report(&self, current: &Filter, previous: &Filter) -> Result<String> {
        let now = self.learning_figures(current)?;
        let before = self.learning_figures(previous)?;
        let same = before.sessions > 0.0 && before.sessions * 20.0 >= now.sessions;
        let mut out = String::new();
        let rate = |v: Option<f64>| v.unwrap_or(0.0);
        kpis(
            &mut out,
            Some(same),
            &[
                Kpi {
                    id: "sessions",
                    title: "Sessions",
                    value: now.sessions,
                    previous: before.sessions,
                    shown: count(now.sessions),
                    up_is_good: true,
                    rate: false,
                },
                Kpi {
                    id: "active_days",
                    title: "Days with sessions",
                    value: now.active_days,
                    previous: before.active_days,
                    shown: count(now.active_days),
                    up_is_good: true,
                    rate: false,
                },
                Kpi {
                    id: "quality",
                    title: "Average quality",
                    value: rate(now.quality),
                    previous: rate(before.quality),
                    shown: now.quality.map_or("–".to_owned(), |q| format!("{q:.2}")),
                    up_is_good: true,
                    rate: true,
                },
                Kpi {
                    id: "completion",
                    title: "Skill completion",
                    value: rate(now.completion),
                    previous: rate(before.completion),
                    shown: now.completion.map_or("–".to_owned(), pct),
                    up_is_good: true,
                    rate: true,
                },
            ],
        );
        let sessions: Vec<(String, f64)> = now.daily.iter().map(|d| (d.0.clone(), d.1)).collect();
        section(
            &mut out,
            "Sessions per day",
            &svg::line_chart(&sessions, "#0ea5e9", count),
        );
        let quality: Vec<(String, f64)> = now
            .daily
            .iter()
            .filter_map(|d| Some((d.0.clone(), d.2?)))
            .collect();
        section(
            &mut out,
            "Average session quality per day",
            &svg::line_chart(&quality, "#16a34a", |v| format!("{v:.2}")),
        );
        let mut items = Vec::new();
        items.extend(change_sentence(
            same,
            "Sessions",
            now.sessions,
            before.sessions,
            count,
        ));
        items.extend(change_sentence(
            same,
            "Skill completion",
            rate(now.completion),
            rate(before.completion),
            pct,
        ));
        for metric in ["sessions", "quality", "completion_rate"] {
            let source = SeriesSource::Store(SeriesQuery {
                metric: metric.to_owned(),
                filter: current.clone(),
                granularity: Granularity::Day,
                tool: None,
                model: None,
                skill: None,
                user: None,
            });
            if let Ok(trend) = self.trend(&source) {
                if trend.trend.direction != tally_predict::series::Direction::Flat {
                    let p = trend.trend.mk_p_value;
                    let p = if p < 0.001 {
                        "p < 0.001".to_owned()
                    } else {
                        format!("p = {p:.3}")
                    };
                    // The summary says the direction and whether it is good news.
                    let summary = &trend.trend.summary;
                    let mut first = summary.chars();
                    let capitalised: String = first
                        .next()
                        .map(|c| c.to_uppercase().chain(first).collect())
                        .unwrap_or_default();
                    items.push(format!("{capitalised} (Mann-Kendall {p})."));
                }
            }
        }
        findings(&mut out, &items);
        Ok(out)
    }
}

fn count_text(n: usize) -> String {
    count(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(1_234_567.0), "1,234,567");
        assert_eq!(count(-1000.0), "-1,000");
        assert_eq!(count(12.0), "12");
        assert_eq!(usd(2.345), "$2.35");
        assert_eq!(usd(12_345.6), "$12346");
        assert_eq!(pct(0.756), "75.6 %");
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
        );
    }
}
