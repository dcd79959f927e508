//! The four organisation reports built as data from the views: KPIs against the
//! previous period, the charts and tables a reader wants, and findings in plain words
//! from the views' own numbers.

use chrono::DateTime;
use tally_metrics::{Advice, AnalyticsSummary, BudgetStatus, Granularity};
use tally_predict::experiment::{Status, Verdict};
use tally_store::Filter;

use super::model::{Block, Chart, Kpi, KpiSpec, Section, Table, Unit, count, pct, usd};
use crate::{Analytics, Result, SeriesQuery, SeriesSource};

/// What a report body holds before its header is put on.
pub(super) struct Body {
    pub kpis: Vec<Kpi>,
    pub sections: Vec<Section>,
    pub findings: Vec<String>,
}

/// A KPI of the summary: how to read it and show it.
struct SummaryKpi {
    id: &'static str,
    title: &'static str,
    value: fn(&AnalyticsSummary) -> f64,
    unit: Unit,
    up_is_good: bool,
    rate: bool,
}

const SUMMARY_KPIS: &[SummaryKpi] = &[
    SummaryKpi {
        id: "total_cost",
        title: "Total cost",
        value: |s| s.total_cost,
        unit: Unit::Usd,
        up_is_good: false,
        rate: false,
    },
    SummaryKpi {
        id: "total_runs",
        title: "Runs",
        value: |s| s.total_runs as f64,
        unit: Unit::Count,
        up_is_good: true,
        rate: false,
    },
    SummaryKpi {
        id: "total_executions",
        title: "Executions",
        value: |s| s.total_executions as f64,
        unit: Unit::Count,
        up_is_good: true,
        rate: false,
    },
    SummaryKpi {
        id: "success_rate",
        title: "Execution success",
        value: |s| s.success_rate,
        unit: Unit::Share,
        up_is_good: true,
        rate: true,
    },
    SummaryKpi {
        id: "qa_pass_rate",
        title: "QA pass rate",
        value: |s| s.qa_summary.pass_rate,
        unit: Unit::Share,
        up_is_good: true,
        rate: true,
    },
    SummaryKpi {
        id: "total_tokens",
        title: "Tokens",
        value: |s| s.total_tokens as f64,
        unit: Unit::Count,
        up_is_good: false,
        rate: false,
    },
    SummaryKpi {
        id: "avg_duration_seconds",
        title: "Avg run duration",
        value: |s| s.avg_duration_seconds,
        unit: Unit::Seconds,
        up_is_good: false,
        rate: false,
    },
    SummaryKpi {
        id: "jobs_failed",
        title: "Failed jobs",
        value: |s| s.jobs_failed as f64,
        unit: Unit::Count,
        up_is_good: false,
        rate: false,
    },
];

/// The summary KPIs named by `ids`, now against before.
fn summary_kpis(
    ids: &[&str],
    now: &AnalyticsSummary,
    before: &AnalyticsSummary,
) -> Vec<KpiSpec<'static>> {
    ids.iter()
        .filter_map(|id| SUMMARY_KPIS.iter().find(|k| k.id == *id))
        .map(|k| KpiSpec {
            id: k.id,
            title: k.title,
            value: (k.value)(now),
            previous: (k.value)(before),
            shown: k.unit.show((k.value)(now)),
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

/// A daily series' date as `MM-DD`.
fn day_label(date: Option<&String>) -> String {
    date.map_or_else(String::new, |d| d.chars().skip(5).collect())
}

fn chart_section(title: &str, block: Block) -> Section {
    Section::new(title, vec![block])
}

impl Analytics {
    pub(super) fn executive(&self, current: &Filter, previous: &Filter) -> Result<Body> {
        let s = self.summary(current)?;
        let p = self.summary(previous)?;
        let same = comparable(&s, &p);
        let kpis = summary_kpis(
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
        )
        .into_iter()
        .map(|k| k.kpi(Some(same)))
        .collect();
        let mut sections = Vec::new();
        let series = self.timeseries(current, Granularity::Day)?;
        let days = series.points();
        sections.push(chart_section(
            "Cost per day",
            Block::LineChart(Chart::new(
                ["day", "cost"],
                Unit::Usd,
                "#6d4aff",
                days.iter().map(|d| (day_label(d.date.as_ref()), d.cost)),
            )),
        ));
        sections.push(chart_section(
            "Runs per day",
            Block::LineChart(Chart::new(
                ["day", "runs"],
                Unit::Count,
                "#16a34a",
                days.iter()
                    .map(|d| (day_label(d.date.as_ref()), d.runs as f64)),
            )),
        ));
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
                (day_label(d.date.as_ref()), spent)
            })
            .collect();
        sections.push(Section::new(
            "Budget: spend this month, cumulated",
            vec![
                Block::Text {
                    text: budget_text.clone(),
                },
                Block::LineChart(Chart::new(["day", "spent"], Unit::Usd, "#f59e0b", burn)),
            ],
        ));
        let qa = &s.qa_summary;
        let verdicts = [
            ("passed", qa.qa_passed),
            ("warning", qa.qa_warning),
            ("failed", qa.qa_failed),
            ("error", qa.qa_error),
            ("not run", qa.qa_not_run),
        ];
        sections.push(chart_section(
            "QA verdicts of runs",
            Block::BarChart(Chart::new(
                ["verdict", "runs"],
                Unit::Count,
                "#16a34a",
                verdicts.iter().map(|(v, n)| ((*v).to_owned(), *n as f64)),
            )),
        ));
        let models = self
            .models(current)?
            .into_iter()
            .take(8)
            .map(|m| (m.model_name, m.total_cost));
        sections.push(chart_section(
            "Top models by cost",
            Block::BarChart(Chart::new(["model", "cost"], Unit::Usd, "#6d4aff", models)),
        ));
        let mut projects: Vec<(String, f64)> = self
            .projects(current)?
            .into_iter()
            .map(|p| (p.project_name, p.total_cost))
            .collect();
        projects.sort_by(|a, b| b.1.total_cmp(&a.1));
        projects.truncate(8);
        sections.push(chart_section(
            "Top projects by cost",
            Block::BarChart(Chart::new(
                ["project", "cost"],
                Unit::Usd,
                "#0ea5e9",
                projects,
            )),
        ));
        let mut findings = Vec::new();
        findings.extend(change_sentence(
            same,
            "Spend",
            s.total_cost,
            p.total_cost,
            usd,
        ));
        findings.extend(change_sentence(
            same,
            "Execution success",
            s.success_rate,
            p.success_rate,
            pct,
        ));
        findings.extend(change_sentence(
            same,
            "The QA pass rate",
            s.qa_summary.pass_rate,
            p.qa_summary.pass_rate,
            pct,
        ));
        if budget.status == BudgetStatus::Red || budget.status == BudgetStatus::Yellow {
            findings.push(budget_text);
        }
        findings.extend(self.tool_findings(current)?);
        Ok(Body {
            kpis,
            sections,
            findings,
        })
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

    pub(super) fn technical(&self, current: &Filter, previous: &Filter) -> Result<Body> {
        let s: AnalyticsSummary = self.summary(current)?;
        let p = self.summary(previous)?;
        let pipeline = self.pipeline(current)?;
        let before = self.pipeline(previous)?;
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
            KpiSpec {
                id: "queue_wait_p95",
                title: "Queue wait p95",
                value: wait(&pipeline),
                previous: wait(&before),
                shown: Unit::Seconds.show(wait(&pipeline)),
                up_is_good: false,
                rate: false,
            },
        );
        let kpis = cards.into_iter().map(|k| k.kpi(Some(same))).collect();
        let mut sections = Vec::new();
        let series = self.timeseries(current, Granularity::Day)?;
        sections.push(chart_section(
            "Execution success per day",
            Block::LineChart(Chart::new(
                ["day", "success"],
                Unit::Share,
                "#16a34a",
                series
                    .points()
                    .iter()
                    .map(|d| (day_label(d.date.as_ref()), d.success_rate)),
            )),
        ));
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
                        .map_or("–".to_owned(), |v| Unit::Milliseconds.show(v)),
                    usd(t.avg_cost),
                ]
            })
            .collect();
        sections.push(Section::new(
            "Tools",
            vec![Block::Table(Table::new(
                &[
                    "Tool",
                    "Executions",
                    "Success",
                    "Confidence",
                    "p95",
                    "Avg cost",
                ],
                rows,
            ))],
        ));
        sections.push(chart_section(
            "p95 duration by tool",
            Block::BarChart(Chart::new(
                ["tool", "p95"],
                Unit::Milliseconds,
                "#f59e0b",
                tools
                    .iter()
                    .take(10)
                    .filter_map(|t| Some((t.tool_name.clone(), t.p95_duration_ms?))),
            )),
        ));
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
        sections.push(Section::new(
            "Risk patterns",
            vec![Block::Table(Table::new(
                &["Tool", "Facet", "Value", "Failure rate", "Lift"],
                risks,
            ))],
        ));
        let jobs = &pipeline.jobs;
        let states = [
            ("queued", jobs.queued),
            ("running", jobs.running),
            ("completed", jobs.completed),
            ("failed", jobs.failed),
            ("cancelled", jobs.cancelled),
        ];
        sections.push(Section::new(
            "Jobs by state",
            vec![Block::Table(Table::new(
                &["State", "Jobs"],
                states
                    .iter()
                    .map(|(state, n)| vec![(*state).to_owned(), count(*n as f64)])
                    .collect(),
            ))],
        ));
        let mut findings = Vec::new();
        findings.extend(change_sentence(
            same,
            "Execution success",
            s.success_rate,
            p.success_rate,
            pct,
        ));
        findings.extend(change_sentence(
            same,
            "Failed jobs",
            s.jobs_failed as f64,
            p.jobs_failed as f64,
            count,
        ));
        findings.extend(self.tool_findings(current)?);
        Ok(Body {
            kpis,
            sections,
            findings,
        })
    }

    pub(super) fn experiments_report(&self, current: &Filter) -> Result<Body> {
        let listings = self.experiments()?;
        let mut analyses = Vec::new();
        for listing in &listings {
            // A key may be defined in several projects: each is analysed in its own.
            let analysis = match &listing.experiment.project {
                Some(project) => self
                    .limited_to_project(Some(project.clone()))
                    .analyze_experiment(&listing.experiment.key, current)?,
                None => self.analyze_experiment(&listing.experiment.key, current)?,
            };
            analyses.push((listing, analysis));
        }
        let comparisons = || {
            analyses.iter().flat_map(|(_, a)| {
                a.metrics
                    .iter()
                    .flat_map(|m| m.comparisons.iter().map(move |c| (m, c)))
            })
        };
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
        let figure = |id: &'static str, title: &'static str, n: f64, up_is_good: bool| {
            KpiSpec {
                id,
                title,
                value: n,
                previous: 0.0,
                shown: count(n),
                up_is_good,
                rate: false,
            }
            .kpi(None)
        };
        let kpis = vec![
            figure("experiments", "Experiments", listings.len() as f64, true),
            figure("running", "Running", running as f64, true),
            figure("wins", "Winning comparisons", wins as f64, true),
            figure("losses", "Losing comparisons", losses as f64, false),
            figure("srm_failures", "Split check failed", srm as f64, false),
            figure("outcomes", "Outcomes analyzed", outcomes as f64, true),
        ];
        let signed = |v: Option<f64>, percent: bool| match v {
            None => "–".to_owned(),
            Some(v) if percent => format!("{:+.1} %", v * 100.0),
            Some(v) => format!("{v:+.4}"),
        };
        let mut sections = Vec::new();
        for (listing, analysis) in &analyses {
            let e = &listing.experiment;
            let mut blocks = vec![Block::Text {
                text: format!(
                    "{}{} · {} users in the split check, χ² p = {:.4}",
                    format!("{:?}", listing.status).to_lowercase(),
                    e.hypothesis
                        .as_ref()
                        .map_or(String::new(), |h| format!(" · {h}")),
                    analysis.srm.variants.iter().map(|v| v.users).sum::<u64>(),
                    analysis.srm.p_value,
                ),
            }];
            if analysis.srm.mismatch {
                blocks.push(Block::Warning {
                    text: "Sample ratio mismatch: no verdict is trusted.".to_owned(),
                });
            }
            blocks.push(Block::BarChart(Chart::new(
                ["variant", "users"],
                Unit::Users,
                "#6d4aff",
                analysis.srm.variants.iter().map(|v| {
                    (
                        format!("{} ({:.0} %)", v.variant, v.weight * 100.0),
                        v.users as f64,
                    )
                }),
            )));
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
            blocks.push(Block::Table(Table::new(
                &[
                    "Metric",
                    "Comparison",
                    "Difference [95 % CI]",
                    "Relative lift [95 % CI]",
                    "p (Holm)",
                    "Verdict",
                ],
                rows,
            )));
            let title = match &e.project {
                Some(project) => format!("Experiment {} (project {project})", e.key),
                None => format!("Experiment {}", e.key),
            };
            sections.push(Section::new(title, blocks));
        }
        let mut findings = Vec::new();
        for (listing, analysis) in &analyses {
            let key = &listing.experiment.key;
            if analysis.srm.mismatch {
                findings.push(format!("{key}: the users split off the weights (χ² p = {:.2e}); fix the assignment before trusting any result.", analysis.srm.p_value));
            }
            for m in &analysis.metrics {
                for c in m
                    .comparisons
                    .iter()
                    .filter(|c| matches!(c.verdict, Verdict::Win | Verdict::Loss))
                {
                    findings.push(format!(
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
            findings.push(format!("{mismatched} outcome events named another variant than the user's assignment and were left out."));
        }
        Ok(Body {
            kpis,
            sections,
            findings,
        })
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

    /// The figures the learning report shows for a period.
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

    pub(super) fn learning_report(&self, current: &Filter, previous: &Filter) -> Result<Body> {
        let now = self.learning_figures(current)?;
        let before = self.learning_figures(previous)?;
        let same = before.sessions > 0.0 && before.sessions * 20.0 >= now.sessions;
        let rate = |v: Option<f64>| v.unwrap_or(0.0);
        let kpis = [
            KpiSpec {
                id: "sessions",
                title: "Sessions",
                value: now.sessions,
                previous: before.sessions,
                shown: count(now.sessions),
                up_is_good: true,
                rate: false,
            },
            KpiSpec {
                id: "active_days",
                title: "Days with sessions",
                value: now.active_days,
                previous: before.active_days,
                shown: count(now.active_days),
                up_is_good: true,
                rate: false,
            },
            KpiSpec {
                id: "quality",
                title: "Average quality",
                value: rate(now.quality),
                previous: rate(before.quality),
                shown: now.quality.map_or("–".to_owned(), |q| format!("{q:.2}")),
                up_is_good: true,
                rate: true,
            },
            KpiSpec {
                id: "completion",
                title: "Skill completion",
                value: rate(now.completion),
                previous: rate(before.completion),
                shown: now.completion.map_or("–".to_owned(), pct),
                up_is_good: true,
                rate: true,
            },
        ]
        .into_iter()
        .map(|k| k.kpi(Some(same)))
        .collect();
        let sections = vec![
            chart_section(
                "Sessions per day",
                Block::LineChart(Chart::new(
                    ["day", "sessions"],
                    Unit::Count,
                    "#0ea5e9",
                    now.daily.iter().map(|d| (d.0.clone(), d.1)),
                )),
            ),
            chart_section(
                "Average session quality per day",
                Block::LineChart(Chart::new(
                    ["day", "quality"],
                    Unit::Score,
                    "#16a34a",
                    now.daily.iter().filter_map(|d| Some((d.0.clone(), d.2?))),
                )),
            ),
        ];
        let mut findings = Vec::new();
        findings.extend(change_sentence(
            same,
            "Sessions",
            now.sessions,
            before.sessions,
            count,
        ));
        findings.extend(change_sentence(
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
                    findings.push(format!("{capitalised} (Mann-Kendall {p})."));
                }
            }
        }
        Ok(Body {
            kpis,
            sections,
            findings,
        })
    }
}
