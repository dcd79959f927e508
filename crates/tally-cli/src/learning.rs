//! `tally learning`: a learner's progress, streak, topic mastery, goals, achievements and
//! insights, answered as of an instant, and the learner's time zone setting.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use tally_api::{
    Analytics, LearnerReportFormat, LearnerReportPeriod, LearningExport, LearningExportFormat,
    LearningExportKind, LearningPeriod, parse_instant,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportWhat {
    Progress,
    Goals,
    Achievements,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportPeriodArg {
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormatArg {
    Markdown,
    Html,
    Json,
    /// A4 pages with the chart drawn (give --out, or redirect to a file).
    Pdf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PeriodArg {
    Day,
    Week,
    Month,
}

impl From<PeriodArg> for LearningPeriod {
    fn from(period: PeriodArg) -> Self {
        match period {
            PeriodArg::Day => LearningPeriod::Day,
            PeriodArg::Week => LearningPeriod::IsoWeek,
            PeriodArg::Month => LearningPeriod::Month,
        }
    }
}

/// One learner, as of an instant.
#[derive(Debug, Args)]
pub struct LearnerArgs {
    #[arg(long)]
    pub user: String,
    /// Answer as of this instant (RFC 3339 or YYYY-MM-DD, end of day); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum LearningCommand {
    /// Sessions, exchanges, quality, minutes and topics, overall and per period.
    Progress {
        /// One learner (default: every learner).
        #[arg(long)]
        user: Option<String>,
        /// Periods to cut progress into, in the learner's time zone (ISO weeks).
        #[arg(long, value_enum, default_value = "week")]
        period: PeriodArg,
        /// Answer as of this instant (RFC 3339 or YYYY-MM-DD, end of day); default now.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Current and longest streak in days, with the grace period and freezes.
    Streak(LearnerArgs),
    /// Mastery score and level per topic, and the topic distribution.
    Mastery(LearnerArgs),
    /// A learner's goals with progress, milestones and status (see `tally goals`).
    Goals(LearnerArgs),
    /// Unlocked achievements with points and rarity, and the next ones within reach.
    Achievements(LearnerArgs),
    /// Findings about the learner, most urgent first, with the numbers behind them.
    Insights(LearnerArgs),
    /// A learner's progress, goals or achievements over a date range, as JSON or CSV
    /// (CSV cells a spreadsheet would run as formulas are made inert).
    Export {
        #[arg(long)]
        user: String,
        /// What to export.
        #[arg(long, value_enum, default_value = "progress")]
        what: ExportWhat,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormatArg,
        /// Start of the range, inclusive (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// End of the range, exclusive (a day YYYY-MM-DD is included); default now.
        #[arg(long)]
        to: Option<String>,
        /// Periods progress is cut into, in the learner's time zone.
        #[arg(long, value_enum, default_value = "day")]
        period: PeriodArg,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// A learner's weekly or monthly progress report: the last complete local week or
    /// month before `--at`, against the one before it.
    Report {
        #[arg(long)]
        user: String,
        #[arg(long, value_enum, default_value = "week")]
        period: ReportPeriodArg,
        /// Report on the last complete period before this instant; default now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, value_enum, default_value = "markdown")]
        format: ReportFormatArg,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Set the IANA time zone a learner's days are counted in (UTC until set).
    TimeZone {
        #[arg(long)]
        user: String,
        /// An IANA name such as Europe/Berlin.
        zone: String,
    },
    /// A project's learners ranked by current streak, sessions or points (ties share a
    /// rank, ordered by user id); learners who opted out never appear.
    Leaderboard(crate::leaderboard::LeaderboardArgs),
    /// Every achievement, locked ones included, with a learner's progress toward each.
    Catalogue(crate::leaderboard::CatalogueArgs),
    /// Opt a learner out of leaderboards (`--undo`: back in).
    OptOut {
        #[arg(long)]
        user: String,
        /// Opt back in.
        #[arg(long)]
        undo: bool,
    },
}

/// Writes `bytes` to `out`, or to standard output.
/// A binary document is not written to a terminal.
pub fn refuse_binary_on_terminal(
    out: Option<&std::path::Path>,
    format: &str,
    example: &str,
) -> anyhow::Result<()> {
    if out.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!(
            "--format {format} writes a binary file, which a terminal cannot show: give --out \
             {example} or redirect the output to a file"
        );
    }
    Ok(())
}

fn write_out(out: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, bytes)?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), bytes)?,
    }
    Ok(())
}

fn at(text: Option<String>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(text.map(|t| parse_instant(&t, "--at", true)).transpose()?)
}

fn quality(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |q| format!("{q:.2}"))
}

pub fn run(analytics: &Analytics, command: LearningCommand) -> anyhow::Result<ExitCode> {
    match command {
        LearningCommand::Progress {
            user,
            period,
            at: when,
            json,
        } => {
            let progress =
                analytics.learning_progress(user.as_deref(), period.into(), at(when)?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&progress)?);
            } else {
                let o = &progress.overall;
                println!(
                    "{} ({} learners, days in {}): {} sessions, {} exchanges, {:.0} min, quality {}, {} topics",
                    progress.user.as_deref().unwrap_or("all learners"),
                    progress.learners,
                    progress.time_zone,
                    o.sessions,
                    o.exchanges,
                    o.minutes,
                    quality(o.average_quality),
                    o.topics
                );
                for p in &progress.periods {
                    println!(
                        "  {:<10}  {:>5} sessions  {:>6} exchanges  {:>7.0} min  quality {}",
                        p.label,
                        p.totals.sessions,
                        p.totals.exchanges,
                        p.totals.minutes,
                        quality(p.totals.average_quality)
                    );
                }
            }
        }
        LearningCommand::Streak(LearnerArgs {
            user,
            at: when,
            json,
        }) => {
            let streak = analytics.learning_streak(&user, at(when)?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&streak)?);
            } else {
                let s = &streak.streak;
                println!(
                    "{}: current {} days, longest {} days, last active {}{}",
                    streak.user,
                    s.current_days,
                    s.longest_days,
                    s.last_active_date
                        .map_or_else(|| "never".to_owned(), |d| d.to_string()),
                    if s.at_risk { " (at risk)" } else { "" }
                );
            }
        }
        LearningCommand::Mastery(LearnerArgs {
            user,
            at: when,
            json,
        }) => {
            let mastery = analytics.learning_mastery(&user, at(when)?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&mastery)?);
            } else {
                for t in &mastery.topics {
                    println!(
                        "{:<24} {:.2} {:<12} {:>5} sessions {:>5.1} %{}",
                        t.topic,
                        t.score,
                        crate::render::words(&t.level),
                        t.interactions,
                        t.share * 100.0,
                        if t.mastered { "  mastered" } else { "" }
                    );
                }
            }
        }
        LearningCommand::Goals(LearnerArgs {
            user,
            at: when,
            json,
        }) => {
            let goals = analytics.learning_goals(&user, at(when)?)?;
            crate::goals::print(&goals, json)?;
        }
        LearningCommand::Achievements(LearnerArgs {
            user,
            at: when,
            json,
        }) => {
            let report = analytics.learning_achievements(&user, at(when)?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{}: {} of {} achievements, {} points",
                    report.user, report.unlocked, report.total, report.points
                );
                let rarity = |a: &tally_api::LearnerAchievement| {
                    a.rarity
                        .map_or_else(String::new, |r| crate::render::words(&r))
                };
                for a in &report.achievements {
                    let e = &a.earned;
                    println!(
                        "  {:<20} {:>4} pts  {}  {}",
                        e.achievement.name,
                        e.achievement.points,
                        e.unlocked_at
                            .map(|t| t.format("%Y-%m-%d").to_string())
                            .unwrap_or_default(),
                        rarity(a)
                    );
                }
                for a in &report.next {
                    println!(
                        "  next: {:<14} {:>5.1} %  ({})",
                        a.earned.achievement.name,
                        a.earned.percent,
                        a.earned.achievement.description
                    );
                }
            }
        }
        LearningCommand::Insights(LearnerArgs {
            user,
            at: when,
            json,
        }) => {
            let insights = analytics.learning_insights(&user, at(when)?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&insights)?);
            } else {
                for i in &insights {
                    println!(
                        "[{} priority] {}: {} ({}; confidence {:.2})",
                        crate::render::words(&i.priority),
                        i.title,
                        i.description,
                        i.recommendation,
                        i.confidence
                    );
                }
            }
        }
        LearningCommand::Export {
            user,
            what,
            format,
            from,
            to,
            period,
            out,
        } => {
            let export = LearningExport {
                user,
                kind: match what {
                    ExportWhat::Progress => LearningExportKind::Progress,
                    ExportWhat::Goals => LearningExportKind::Goals,
                    ExportWhat::Achievements => LearningExportKind::Achievements,
                },
                format: match format {
                    ExportFormatArg::Json => LearningExportFormat::Json,
                    ExportFormatArg::Csv => LearningExportFormat::Csv,
                },
                from: from
                    .map(|t| parse_instant(&t, "--from", false))
                    .transpose()?,
                to: to.map(|t| parse_instant(&t, "--to", true)).transpose()?,
                period: period.into(),
            };
            write_out(out.as_deref(), &analytics.learning_export(&export)?)?;
        }
        LearningCommand::Report {
            user,
            period,
            at: when,
            format,
            out,
        } => {
            if matches!(format, ReportFormatArg::Pdf) {
                refuse_binary_on_terminal(out.as_deref(), "pdf", "FILE.pdf")?;
            }
            let document = analytics.learner_report_document(
                &user,
                match period {
                    ReportPeriodArg::Week => LearnerReportPeriod::Week,
                    ReportPeriodArg::Month => LearnerReportPeriod::Month,
                },
                at(when)?,
                match format {
                    ReportFormatArg::Markdown => LearnerReportFormat::Markdown,
                    ReportFormatArg::Html => LearnerReportFormat::Html,
                    ReportFormatArg::Json => LearnerReportFormat::Json,
                    ReportFormatArg::Pdf => LearnerReportFormat::Pdf,
                },
            )?;
            write_out(out.as_deref(), &document)?;
        }
        LearningCommand::Leaderboard(args) => {
            return crate::leaderboard::leaderboard(analytics, args);
        }
        LearningCommand::Catalogue(args) => return crate::leaderboard::catalogue(analytics, args),
        LearningCommand::OptOut { user, undo } => {
            analytics.set_learner_opt_out(&user, !undo)?;
            if undo {
                println!("{user}: shown on leaderboards");
            } else {
                println!("{user}: left out of every leaderboard");
            }
        }
        LearningCommand::TimeZone { user, zone } => {
            analytics.set_learner_time_zone(&user, &zone)?;
            println!("{user}: days counted in {zone}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
