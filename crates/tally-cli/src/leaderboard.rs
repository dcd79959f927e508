//! `tally learning leaderboard` and `tally learning catalogue`: learners ranked in a
//! project, and the achievements catalogue with a learner's progress.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use tally_api::{Analytics, LeaderboardBy, category_from_name, category_names, parse_instant};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ByArg {
    Streak,
    Sessions,
    Points,
}

#[derive(Debug, Args)]
pub struct LeaderboardArgs {
    /// Only this project's learners and sessions.
    #[arg(long)]
    pub project: Option<String>,
    /// Ranked by the current streak, sessions, or points of the achievements unlocked.
    #[arg(long, value_enum, default_value = "streak")]
    pub by: ByArg,
    /// The best this many (1 to 100).
    #[arg(long, default_value_t = tally_api::DEFAULT_LEADERBOARD)]
    pub limit: usize,
    /// As of this instant (default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CatalogueArgs {
    /// Add this learner's state and progress toward each achievement.
    #[arg(long)]
    pub learner: Option<String>,
    /// Only this category: streak, sessions, quality, topics, goals or milestones.
    #[arg(long)]
    pub category: Option<String>,
    /// Only this project's sessions.
    #[arg(long)]
    pub project: Option<String>,
    /// As of this instant (default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn scoped(analytics: &Analytics, project: Option<String>) -> anyhow::Result<Analytics> {
    let project = project
        .map(|p| tally_api::parse_project(&p, "--project"))
        .transpose()?;
    let scoped = analytics.limited_to_project(project);
    scoped.check_project_limit()?;
    Ok(scoped)
}

fn at(text: Option<&str>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(text.map(|t| parse_instant(t, "--at", true)).transpose()?)
}

pub fn leaderboard(analytics: &Analytics, args: LeaderboardArgs) -> anyhow::Result<ExitCode> {
    let by = match args.by {
        ByArg::Streak => LeaderboardBy::Streak,
        ByArg::Sessions => LeaderboardBy::Sessions,
        ByArg::Points => LeaderboardBy::Points,
    };
    let board = scoped(analytics, args.project)?.learning_leaderboard(
        by,
        args.limit,
        at(args.at.as_deref())?,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&board)?);
        return Ok(ExitCode::SUCCESS);
    }
    if board.entries.is_empty() {
        println!("no learners to rank");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>4}  {:<24} {:>8} {:>9} {:>7}",
        "rank", "learner", "streak", "sessions", "points"
    );
    for e in &board.entries {
        println!(
            "{:>4}  {:<24} {:>8} {:>9} {:>7}",
            e.rank, e.user, e.streak_days, e.sessions, e.points
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn catalogue(analytics: &Analytics, args: CatalogueArgs) -> anyhow::Result<ExitCode> {
    let category = match args.category.as_deref() {
        None => None,
        Some(name) => Some(category_from_name(name).ok_or_else(|| {
            anyhow::anyhow!(
                "--category must be {}, got {name:?}",
                category_names().join(", ")
            )
        })?),
    };
    let catalogue = scoped(analytics, args.project)?.achievement_catalogue(
        args.learner.as_deref(),
        category,
        at(args.at.as_deref())?,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&catalogue)?);
        return Ok(ExitCode::SUCCESS);
    }
    for entry in &catalogue.achievements {
        let a = &entry.achievement;
        let state = match (entry.unlocked, entry.percent) {
            (Some(true), _) => "unlocked".to_owned(),
            (Some(false), Some(percent)) => format!("locked, {percent:.0} %"),
            _ => String::new(),
        };
        println!(
            "{:<14} {:<22} {:>4} pts  {:<30} {state}",
            a.id, a.name, a.points, a.description
        );
    }
    Ok(ExitCode::SUCCESS)
}
