//! Exports of one learner's progress, goals or achievements over a date range, as JSON
//! or as CSV written by the export's formula-safe writer ([`crate::http::CsvExport`]).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_learning::goals::GoalProgress;
use tally_learning::progress::{Period, PeriodProgress, Totals};

use crate::http::CsvExport;
use crate::learning::LearnerAchievement;
use crate::{Analytics, Error, Result};

/// What a learning export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearningExportKind {
    /// Totals per local day, ISO week or month.
    Progress,
    /// Goals set in the range, with their progress at its end.
    Goals,
    /// Achievements unlocked in the range.
    Achievements,
}

impl FromStr for LearningExportKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "progress" => Ok(LearningExportKind::Progress),
            "goals" => Ok(LearningExportKind::Goals),
            "achievements" => Ok(LearningExportKind::Achievements),
            other => Err(Error::Filter(format!(
                "what must be progress, goals or achievements, got {other:?}"
            ))),
        }
    }
}

/// The file format of a learning export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearningExportFormat {
    Json,
    Csv,
}

impl FromStr for LearningExportFormat {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "json" => Ok(LearningExportFormat::Json),
            "csv" => Ok(LearningExportFormat::Csv),
            other => Err(Error::Filter(format!(
                "format must be json or csv, got {other:?}"
            ))),
        }
    }
}

/// What to export: one learner, a kind, a range `[from, to)` (open ends when `None`)
/// and, for progress, the period.
#[derive(Debug, Clone)]
pub struct LearningExport {
    pub user: String,
    pub kind: LearningExportKind,
    pub format: LearningExportFormat,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub period: Period,
}

#[derive(Serialize)]
struct ProgressExport<'a> {
    user: &'a str,
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
    time_zone: String,
    period: Period,
    overall: Totals,
    periods: Vec<PeriodProgress>,
}

#[derive(Serialize)]
struct ListExport<'a, T> {
    user: &'a str,
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
    items: Vec<T>,
}

fn json(value: &impl Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| Error::Io(std::io::Error::other(e)))
}

fn csv(title: &str, columns: &[(&str, &str)], rows: &impl Serialize) -> Result<Vec<u8>> {
    let mut out = CsvExport::new();
    out.table(title, columns, rows).map_err(Error::Filter)?;
    Ok(out.finish())
}

impl Analytics {
    /// One learner's progress, goals or achievements over `[from, to)`, as JSON or CSV.
    /// Progress counts the sessions in the range; goals are those set in the range, with
    /// their progress at its end; achievements those unlocked in it, rarity at its end.
    ///
    /// # Errors
    /// `from` not before `to`, a storage failure or an unknown stored time zone.
    pub fn learning_export(&self, export: &LearningExport) -> Result<Vec<u8>> {
        let now = self.view_options().now;
        let to = export.to.map_or(now, |t| t.min(now));
        if export.from.is_some_and(|from| from >= to) {
            return Err(Error::Filter(format!(
                "from must be before to (and not after now), got {:?} .. {to}",
                export.from
            )));
        }
        let from = export.from;
        let in_range = |t: DateTime<Utc>| from.is_none_or(|f| t >= f) && t < to;
        let user = export.user.as_str();
        // As of the last instant of the range.
        let end = to - chrono::Duration::milliseconds(1);
        match export.kind {
            LearningExportKind::Progress => {
                let mut history = self.learner(user, end)?;
                history
                    .activity
                    .retain(|a| in_range(a.first) && in_range(a.last));
                let document = ProgressExport {
                    user,
                    from,
                    to,
                    time_zone: history.time_zone.name().to_owned(),
                    period: export.period,
                    overall: tally_learning::progress::totals(&history.activity),
                    periods: tally_learning::progress::by_period(
                        &history.activity,
                        history.time_zone,
                        export.period,
                    ),
                };
                match export.format {
                    LearningExportFormat::Json => json(&document),
                    LearningExportFormat::Csv => csv(
                        "LEARNING PROGRESS",
                        &[
                            ("Period", "label"),
                            ("Start", "start"),
                            ("Sessions", "sessions"),
                            ("Exchanges", "exchanges"),
                            ("Minutes", "minutes"),
                            ("Average Quality", "average_quality"),
                            ("Topics", "topics"),
                        ],
                        &document.periods,
                    ),
                }
            }
            LearningExportKind::Goals => {
                let goals: Vec<GoalProgress> = self
                    .learning_goals(user, Some(end))?
                    .into_iter()
                    .filter(|g| in_range(g.goal.created_at))
                    .collect();
                match export.format {
                    LearningExportFormat::Json => json(&ListExport {
                        user,
                        from,
                        to,
                        items: goals,
                    }),
                    LearningExportFormat::Csv => csv(
                        "LEARNING GOALS",
                        &[
                            ("Id", "id"),
                            ("Title", "title"),
                            ("Type", "kind"),
                            ("Target", "target"),
                            ("Value", "value"),
                            ("Percent", "percent"),
                            ("Status", "status"),
                            ("Created At", "created_at"),
                            ("Deadline", "deadline"),
                            ("Completed At", "completed_at"),
                        ],
                        &goals,
                    ),
                }
            }
            LearningExportKind::Achievements => {
                let unlocked: Vec<LearnerAchievement> = self
                    .learning_achievements(user, Some(end))?
                    .achievements
                    .into_iter()
                    .filter(|a| a.earned.unlocked_at.is_some_and(in_range))
                    .collect();
                match export.format {
                    LearningExportFormat::Json => json(&ListExport {
                        user,
                        from,
                        to,
                        items: unlocked,
                    }),
                    LearningExportFormat::Csv => csv(
                        "LEARNING ACHIEVEMENTS",
                        &[
                            ("Id", "id"),
                            ("Name", "name"),
                            ("Category", "category"),
                            ("Points", "points"),
                            ("Unlocked At", "unlocked_at"),
                            ("Rarity", "rarity"),
                            ("Holders Share", "holders_share"),
                        ],
                        &unlocked,
                    ),
                }
            }
        }
    }
}
