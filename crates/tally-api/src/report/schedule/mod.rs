//! Reports on a timetable: `[[reports.schedule]]` read into [`Schedule`]s, their run
//! times (`timing.rs`), the last run of each kept across restarts (`state.rs`), where a
//! written report goes (`sink.rs`), and the runner `tally serve` drives (`run.rs`).

mod run;
mod sink;
mod state;
mod timing;

use std::path::PathBuf;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;

pub use run::{Clock, ManualClock, Ran, Scheduler, SystemClock};
pub use sink::{ChannelSink, DirectorySink, RenderedReport, ReportSink};
pub use state::{STATE_FILE, StateFile};

use super::{ReportFormat, ReportKind};
use crate::config::ScheduleConfig;

/// How often a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Daily,
    Weekly(Weekday),
    /// On this day of the month, 1 to 28 (every month has it).
    Monthly(u32),
}

/// One validated `[[reports.schedule]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub kind: ReportKind,
    pub every: Every,
    /// Local time of day in `timezone`.
    pub at: NaiveTime,
    pub timezone: Tz,
    pub format: ReportFormat,
    pub project: Option<String>,
    pub directory: PathBuf,
    /// Alert channels (`[channels.NAME]`) the report is also sent through.
    pub channels: Vec<String>,
}

impl Schedule {
    /// The schedule of the `number`-th (from 1) `[[reports.schedule]]` table.
    ///
    /// # Errors
    /// A value out of its range, named with the table's number and the field.
    pub fn from_config(number: usize, raw: &ScheduleConfig) -> Result<Schedule, String> {
        let bad = |field: &str, message: String| {
            Err(format!("[[reports.schedule]] #{number}: {field} {message}"))
        };
        let Some(kind) = ReportKind::from_name(&raw.kind) else {
            let names: Vec<&str> = ReportKind::ALL.iter().map(|k| k.name()).collect();
            return bad(
                "kind",
                format!("must be {}, got {:?}", names.join(", "), raw.kind),
            );
        };
        let Ok(at) = NaiveTime::parse_from_str(&raw.at, "%H:%M") else {
            return bad(
                "at",
                format!(
                    "must be a local time HH:MM (00:00 to 23:59), got {:?}",
                    raw.at
                ),
            );
        };
        let every = match raw.every.as_str() {
            "daily" | "weekly" | "monthly" => raw.every.as_str(),
            other => {
                return bad(
                    "every",
                    format!("must be daily, weekly or monthly, got {other:?}"),
                );
            }
        };
        if every != "weekly" && raw.weekday.is_some() {
            return bad(
                "weekday",
                format!("is for weekly schedules, this one is {every}"),
            );
        }
        if every != "monthly" && raw.day.is_some() {
            return bad(
                "day",
                format!("is for monthly schedules, this one is {every}"),
            );
        }
        let every = match every {
            "daily" => Every::Daily,
            "weekly" => {
                let Some(name) = &raw.weekday else {
                    return bad(
                        "weekday",
                        "is required for a weekly schedule (mon to sun)".into(),
                    );
                };
                match name.parse::<Weekday>() {
                    Ok(day) => Every::Weekly(day),
                    Err(_) => {
                        return bad(
                            "weekday",
                            format!("must be mon, tue, wed, thu, fri, sat or sun, got {name:?}"),
                        );
                    }
                }
            }
            _ => match raw.day {
                Some(day @ 1..=28) => Every::Monthly(day),
                Some(day) => {
                    return bad(
                        "day",
                        format!("must be 1 to 28 (a day every month has), got {day}"),
                    );
                }
                None => {
                    return bad("day", "is required for a monthly schedule (1 to 28)".into());
                }
            },
        };
        let timezone = match raw.timezone.as_deref() {
            None => Tz::UTC,
            Some(name) => match name.parse::<Tz>() {
                Ok(tz) => tz,
                Err(_) => {
                    return bad(
                        "timezone",
                        format!("must be an IANA name such as Europe/Berlin, got {name:?}"),
                    );
                }
            },
        };
        // Scheduled reports are text (files and messages); PDF is written on demand.
        let Some(format) = ReportFormat::from_name(&raw.format).filter(|f| *f != ReportFormat::Pdf)
        else {
            return bad(
                "format",
                format!("must be html, md or json, got {:?}", raw.format),
            );
        };
        let project = match &raw.project {
            None => None,
            Some(name) => match tally_models::project_name(name) {
                Ok(name) => Some(name.to_string()),
                Err(e) => return bad("project", format!("{name:?}: {}", e.message)),
            },
        };
        let Some(directory) = raw.directory.clone().filter(|d| !d.as_os_str().is_empty()) else {
            return bad(
                "directory",
                "is required: the directory the report files go to".into(),
            );
        };
        Ok(Schedule {
            kind,
            every,
            at,
            timezone,
            format,
            project,
            directory,
            channels: raw.channels.clone(),
        })
    }

    /// What names the schedule in the state file: every field that decides its run
    /// times and output, so an edited schedule starts afresh.
    pub fn key(&self) -> String {
        let every = match self.every {
            Every::Daily => "daily".to_owned(),
            Every::Weekly(day) => format!("weekly-{}", day.to_string().to_lowercase()),
            Every::Monthly(day) => format!("monthly-{day}"),
        };
        format!(
            "{}/{}/{every}/{}/{}/{}",
            self.kind.name(),
            self.project.as_deref().unwrap_or("*"),
            self.at.format("%H:%M"),
            self.timezone.name(),
            self.format.name()
        )
    }
}

#[cfg(test)]
mod tests;
