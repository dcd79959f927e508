//! One learner's weekly or monthly progress report: the last complete local ISO week or
//! month before an instant against the one before it: sessions, minutes, quality and
//! their change, active days, the streak at the period's end, goals that progressed,
//! achievements unlocked, topics. As figures (JSON), Markdown or standalone HTML.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tally_learning::calendar::day_start;
use tally_learning::progress::{Period, Totals};

use super::html::{findings, kpis, page, section, table};
use super::markdown::md;
use super::model::{Block, Chart, Kpi, KpiSpec, Report, Section, Table, Unit};
use super::{ReportFormat, svg};
use crate::learning::LearnerAchievement;
use crate::{Analytics, Error, Result};

/// The length of a learner report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportPeriod {
    /// ISO week, Monday to Sunday.
    Week,
    Month,
}

impl std::str::FromStr for ReportPeriod {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "week" => Ok(ReportPeriod::Week),
            "month" => Ok(ReportPeriod::Month),
            other => Err(Error::Filter(format!(
                "period must be week or month, got {other:?}"
            ))),
        }
    }
}

/// A goal's move over the period.
#[derive(Debug, Clone, Serialize)]
pub struct GoalMove {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub target: f64,
    /// The measure at the period's start (0 for a goal set during it).
    pub from: f64,
    pub to: f64,
    pub status: tally_learning::goals::GoalStatus,
}

/// One topic in the period.
#[derive(Debug, Clone, Serialize)]
pub struct TopicLine {
    pub topic: String,
    pub sessions: u64,
    /// Mastery score at the period's end.
    pub mastery: f64,
}

/// The figures of a learner report.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerReport {
    pub user: String,
    pub period: ReportPeriod,
    /// `2026-W41` or `2026-10`.
    pub label: String,
    pub time_zone: String,
    /// The period's first and last local day.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub totals: Totals,
    pub previous: Totals,
    /// Change of the average quality against the previous period, when both have one.
    pub quality_change: Option<f64>,
    pub active_days: u64,
    pub previous_active_days: u64,
    /// As of the period's end.
    pub current_streak_days: u32,
    pub longest_streak_days: u32,
    pub goals: Vec<GoalMove>,
    pub achievements: Vec<LearnerAchievement>,
    pub topics: Vec<TopicLine>,
    /// Sessions per local day of the period.
    pub daily: Vec<(NaiveDate, u64)>,
}

impl Analytics {
    /// `user`'s report over the last complete local week or month before `at` (default
    /// now), against the period before it.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn learner_report(
        &self,
        user: &str,
        period: ReportPeriod,
        at: Option<DateTime<Utc>>,
    ) -> Result<LearnerReport> {
        let at = at.unwrap_or(self.view_options().now);
        let cut = match period {
            ReportPeriod::Week => Period::IsoWeek,
            ReportPeriod::Month => Period::Month,
        };
        let zone = self.learner_zone(user)?;
        let today = at.with_timezone(&zone).date_naive();
        let this_start = cut.start(today);
        let start_day = cut.start(this_start.pred_opt().unwrap_or(this_start));
        let previous_day = cut.start(start_day.pred_opt().unwrap_or(start_day));
        let (start, end) = (day_start(zone, start_day), day_start(zone, this_start));
        let previous_start = day_start(zone, previous_day);
        let last = end - chrono::Duration::milliseconds(1);
        let history = self.learner(user, last)?;
        let within = |from: DateTime<Utc>, to: DateTime<Utc>| {
            history
                .activity
                .iter()
                .filter(move |a| a.first >= from && a.last < to)
        };
        let day = |a: &tally_store::Activity| tally_learning::progress::local_day(a, zone);
        let totals = tally_learning::progress::totals(within(start, end));
        let previous = tally_learning::progress::totals(within(previous_start, start));
        let mut daily: BTreeMap<NaiveDate, u64> = start_day
            .iter_days()
            .take_while(|d| *d < this_start)
            .map(|d| (d, 0))
            .collect();
        for a in within(start, end) {
            *daily.entry(day(a)).or_default() += a.sessions;
        }
        let active_days = |from, to| {
            within(from, to)
                .map(day)
                .collect::<std::collections::BTreeSet<_>>()
                .len() as u64
        };
        let streak = self.learning_streak(user, Some(last))?;
        let before: BTreeMap<i64, f64> = self
            .learning_goals(user, Some(start - chrono::Duration::milliseconds(1)))?
            .into_iter()
            .map(|g| (g.goal.id, g.value))
            .collect();
        let goals = self
            .learning_goals(user, Some(last))?
            .into_iter()
            .filter_map(|g| {
                let from = before.get(&g.goal.id).copied().unwrap_or(0.0);
                (g.value != from || g.completed_at.is_some_and(|t| t >= start)).then(|| GoalMove {
                    id: g.goal.id,
                    title: g.goal.title.clone(),
                    kind: g.goal.kind.clone(),
                    target: g.goal.target,
                    from,
                    to: g.value,
                    status: g.status,
                })
            })
            .collect();
        let achievements = self
            .learning_achievements(user, Some(last))?
            .achievements
            .into_iter()
            .filter(|a| a.earned.unlocked_at.is_some_and(|t| t >= start))
            .collect();
        let mastery: BTreeMap<String, f64> = self
            .learning_mastery(user, Some(last))?
            .topics
            .into_iter()
            .map(|t| (t.topic, t.score))
            .collect();
        let mut topics: BTreeMap<String, u64> = BTreeMap::new();
        for a in within(start, end) {
            for t in &a.topics {
                *topics.entry(t.topic.clone()).or_default() += t.sessions;
            }
        }
        let mut topics: Vec<TopicLine> = topics
            .into_iter()
            .map(|(topic, sessions)| TopicLine {
                mastery: mastery.get(&topic).copied().unwrap_or(0.0),
                topic,
                sessions,
            })
            .collect();
        topics.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.topic.cmp(&b.topic)));
        Ok(LearnerReport {
            user: user.to_owned(),
            period,
            label: cut.label(start_day),
            time_zone: zone.name().to_owned(),
            first_day: start_day,
            last_day: this_start.pred_opt().unwrap_or(this_start),
            quality_change: totals
                .average_quality
                .zip(previous.average_quality)
                .map(|(now, before)| now - before),
            active_days: active_days(start, end),
            previous_active_days: active_days(previous_start, start),
            totals,
            previous,
            current_streak_days: streak.streak.current_days,
            longest_streak_days: streak.streak.longest_days,
            goals,
            achievements,
            topics,
            daily: daily.into_iter().collect(),
        })
    }

    /// The learner report written as `format`.
    ///
    /// # Errors
    /// See [`Analytics::learner_report`].
    pub fn learner_report_text(
        &self,
        user: &str,
        period: ReportPeriod,
        at: Option<DateTime<Utc>>,
        format: ReportFormat,
    ) -> Result<String> {
        let report = self.learner_report(user, period, at)?;
        Ok(match format {
            ReportFormat::Json => serde_json::to_string_pretty(&report)
                .map_err(|e| Error::Io(std::io::Error::other(e)))?,
            ReportFormat::Markdown => markdown(&report),
            ReportFormat::Html => html(&report, self.view_options().now),
            ReportFormat::Pdf => return Err(super::binary_format(format)),
        })
    }

    /// The learner report written as `format`, PDF included.
    ///
    /// # Errors
    /// See [`Analytics::learner_report`].
    pub fn learner_report_document(
        &self,
        user: &str,
        period: ReportPeriod,
        at: Option<DateTime<Utc>>,
        format: ReportFormat,
    ) -> Result<Vec<u8>> {
        if format != ReportFormat::Pdf {
            return Ok(self
                .learner_report_text(user, period, at, format)?
                .into_bytes());
        }
        let report = self.learner_report(user, period, at)?;
        let generated = self.view_options().now;
        Ok(super::pdf::render(
            &as_report(&report, generated),
            &subtitle(&report),
        ))
    }
}

fn period_name(report: &LearnerReport) -> &'static str {
    match report.period {
        ReportPeriod::Week => "week",
        ReportPeriod::Month => "month",
    }
}

fn quality(q: Option<f64>) -> String {
    q.map_or("–".to_owned(), |q| format!("{q:.2}"))
}

/// `12 (+3 vs previous)`-style change of an amount.
fn change(now: f64, before: f64) -> String {
    let delta = now - before;
    if before.abs() < f64::EPSILON {
        if now.abs() < f64::EPSILON {
            "no change".to_owned()
        } else {
            "none in the previous period".to_owned()
        }
    } else {
        format!(
            "{}{:.0} %",
            if delta >= 0.0 { "+" } else { "" },
            delta / before.abs() * 100.0
        )
    }
}

/// Plain-language findings of a report.
fn sentences(r: &LearnerReport) -> Vec<String> {
    let mut out = Vec::new();
    let name = period_name(r);
    if r.totals.sessions == 0 {
        out.push(format!("No sessions this {name}."));
    }
    if let Some(delta) = r.quality_change.filter(|d| d.abs() >= 0.05) {
        out.push(format!(
            "Average quality {} from {:.2} to {:.2}.",
            if delta > 0.0 { "rose" } else { "fell" },
            r.previous.average_quality.unwrap_or(0.0),
            r.totals.average_quality.unwrap_or(0.0)
        ));
    }
    for g in r
        .goals
        .iter()
        .filter(|g| g.status == tally_learning::goals::GoalStatus::Completed && g.from < g.target)
    {
        out.push(format!("Goal completed: {}.", g.title));
    }
    for a in &r.achievements {
        out.push(format!(
            "Unlocked {} ({}).",
            a.earned.achievement.name, a.earned.achievement.description
        ));
    }
    out
}

fn markdown(r: &LearnerReport) -> String {
    let mut out = String::new();
    let name = period_name(r);
    let _ = writeln!(
        out,
        "# {} · {name}ly progress {}\n\n{} to {} ({})\n",
        md(&r.user),
        r.label,
        r.first_day,
        r.last_day,
        md(&r.time_zone)
    );
    let _ = writeln!(
        out,
        "| | this {name} | previous {name} | change |\n|---|---|---|---|"
    );
    let row = |out: &mut String, what: &str, now: String, before: String, delta: String| {
        let _ = writeln!(out, "| {what} | {now} | {before} | {delta} |");
    };
    row(
        &mut out,
        "Sessions",
        r.totals.sessions.to_string(),
        r.previous.sessions.to_string(),
        change(r.totals.sessions as f64, r.previous.sessions as f64),
    );
    row(
        &mut out,
        "Minutes",
        format!("{:.0}", r.totals.minutes),
        format!("{:.0}", r.previous.minutes),
        change(r.totals.minutes, r.previous.minutes),
    );
    row(
        &mut out,
        "Average quality",
        quality(r.totals.average_quality),
        quality(r.previous.average_quality),
        r.quality_change
            .map_or("–".to_owned(), |d| format!("{:+.1} pt", d * 100.0)),
    );
    row(
        &mut out,
        "Days with sessions",
        r.active_days.to_string(),
        r.previous_active_days.to_string(),
        change(r.active_days as f64, r.previous_active_days as f64),
    );
    let _ = writeln!(
        out,
        "\n**Streak** at the end of the {name}: {} days (longest {} days).\n",
        r.current_streak_days, r.longest_streak_days
    );
    out.push_str("## Goals\n\n");
    if r.goals.is_empty() {
        out.push_str("No goal moved.\n");
    }
    for g in &r.goals {
        let _ = writeln!(
            out,
            "- {} ({} {}): {:.2} → {:.2}, {:?}",
            md(&g.title),
            g.target,
            g.kind,
            g.from,
            g.to,
            g.status
        );
    }
    out.push_str("\n## Achievements unlocked\n\n");
    if r.achievements.is_empty() {
        out.push_str("None.\n");
    }
    for a in &r.achievements {
        let _ = writeln!(
            out,
            "- {}: {} ({} points{})",
            a.earned.achievement.name,
            a.earned.achievement.description,
            a.earned.achievement.points,
            a.rarity.map_or(String::new(), |r| format!(
                ", {}",
                format!("{r:?}").to_lowercase()
            ))
        );
    }
    out.push_str("\n## Topics\n\n");
    if r.topics.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| topic | sessions | mastery |\n|---|---|---|\n");
    }
    for t in &r.topics {
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} |",
            md(&t.topic),
            t.sessions,
            t.mastery
        );
    }
    out.push_str("\n## Findings\n\n");
    let items = sentences(r);
    if items.is_empty() {
        out.push_str("- Nothing stands out.\n");
    }
    for item in items {
        let _ = writeln!(out, "- {}", md(&item));
    }
    out
}

/// The KPIs compared with the previous period.
fn compared_kpis(r: &LearnerReport) -> Vec<Kpi> {
    let compared = Some(r.previous.sessions > 0);
    vec![
        KpiSpec {
            id: "sessions",
            title: "Sessions",
            value: r.totals.sessions as f64,
            previous: r.previous.sessions as f64,
            shown: r.totals.sessions.to_string(),
            up_is_good: true,
            rate: false,
        }
        .kpi(compared),
        KpiSpec {
            id: "minutes",
            title: "Minutes",
            value: r.totals.minutes,
            previous: r.previous.minutes,
            shown: format!("{:.0}", r.totals.minutes),
            up_is_good: true,
            rate: false,
        }
        .kpi(compared),
        KpiSpec {
            id: "quality",
            title: "Average quality",
            value: r.totals.average_quality.unwrap_or(0.0),
            previous: r.previous.average_quality.unwrap_or(0.0),
            shown: quality(r.totals.average_quality),
            up_is_good: true,
            rate: true,
        }
        .kpi(compared),
        KpiSpec {
            id: "active_days",
            title: "Days with sessions",
            value: r.active_days as f64,
            previous: r.previous_active_days as f64,
            shown: r.active_days.to_string(),
            up_is_good: true,
            rate: false,
        }
        .kpi(compared),
    ]
}

/// Figures as of the period's end, not compared.
fn standing_kpis(r: &LearnerReport) -> Vec<Kpi> {
    vec![
        KpiSpec {
            id: "current_streak",
            title: "Streak (days)",
            value: f64::from(r.current_streak_days),
            previous: f64::from(r.current_streak_days),
            shown: format!(
                "{} (longest {})",
                r.current_streak_days, r.longest_streak_days
            ),
            up_is_good: true,
            rate: false,
        }
        .kpi(None),
        KpiSpec {
            id: "achievements",
            title: "Achievements unlocked",
            value: r.achievements.len() as f64,
            previous: r.achievements.len() as f64,
            shown: r.achievements.len().to_string(),
            up_is_good: true,
            rate: false,
        }
        .kpi(None),
    ]
}

/// Sessions per local day, labelled `MM-DD`.
fn daily_points(r: &LearnerReport) -> Vec<(String, f64)> {
    r.daily
        .iter()
        .map(|(d, n)| (d.format("%m-%d").to_string(), *n as f64))
        .collect()
}

fn goals_table(r: &LearnerReport) -> Table {
    let goals: Vec<Vec<String>> = r
        .goals
        .iter()
        .map(|g| {
            vec![
                g.title.clone(),
                format!("{} {}", g.target, g.kind),
                format!("{:.2} → {:.2}", g.from, g.to),
                format!("{:?}", g.status).to_lowercase(),
            ]
        })
        .collect();
    Table::new(&["Goal", "Target", "Progress", "Status"], goals)
}

fn achievements_table(r: &LearnerReport) -> Table {
    let unlocked: Vec<Vec<String>> = r
        .achievements
        .iter()
        .map(|a| {
            vec![
                a.earned.achievement.name.to_owned(),
                a.earned.achievement.description.to_owned(),
                a.earned.achievement.points.to_string(),
                a.rarity
                    .map_or("–".to_owned(), |r| format!("{r:?}").to_lowercase()),
            ]
        })
        .collect();
    Table::new(&["Achievement", "For", "Points", "Rarity"], unlocked)
}

fn topics_table(r: &LearnerReport) -> Table {
    let topics: Vec<Vec<String>> = r
        .topics
        .iter()
        .map(|t| {
            vec![
                t.topic.clone(),
                t.sessions.to_string(),
                format!("{:.2}", t.mastery),
            ]
        })
        .collect();
    Table::new(&["Topic", "Sessions", "Mastery"], topics)
}

fn title(r: &LearnerReport) -> String {
    format!("{} · {}ly progress {}", r.user, period_name(r), r.label)
}

fn subtitle(r: &LearnerReport) -> String {
    format!("{} to {} ({})", r.first_day, r.last_day, r.time_zone)
}

/// The learner report in the organisation reports' model, for the PDF: the same KPIs,
/// chart, tables and findings as the HTML page.
fn as_report(r: &LearnerReport, generated: DateTime<Utc>) -> Report {
    let mut kpis = compared_kpis(r);
    kpis.extend(standing_kpis(r));
    Report {
        kind: "learner",
        title: title(r),
        from: day_start(chrono_tz::Tz::UTC, r.first_day),
        to: day_start(chrono_tz::Tz::UTC, r.last_day),
        project: None,
        generated,
        kpis,
        sections: vec![
            Section::new(
                "Sessions per day",
                vec![Block::LineChart(Chart::new(
                    ["day", "sessions"],
                    Unit::Count,
                    "#6d4aff",
                    daily_points(r),
                ))],
            ),
            Section::new("Goals that moved", vec![Block::Table(goals_table(r))]),
            Section::new(
                "Achievements unlocked",
                vec![Block::Table(achievements_table(r))],
            ),
            Section::new("Topics", vec![Block::Table(topics_table(r))]),
        ],
        findings: sentences(r),
    }
}

fn html(r: &LearnerReport, generated: DateTime<Utc>) -> String {
    let mut body = String::new();
    kpis(&mut body, &compared_kpis(r));
    kpis(&mut body, &standing_kpis(r));
    section(
        &mut body,
        "Sessions per day",
        &svg::line_chart(&daily_points(r), "#6d4aff", |v| format!("{v:.0}")),
    );
    section(&mut body, "Goals that moved", &table(&goals_table(r)));
    section(
        &mut body,
        "Achievements unlocked",
        &table(&achievements_table(r)),
    );
    section(&mut body, "Topics", &table(&topics_table(r)));
    findings(&mut body, &sentences(r));
    page(&title(r), &subtitle(r), generated, &body)
}
