//! `tally goals`: set, list, update, pause, resume and abandon a learner's goals, and
//! suggestions from their history.

use std::process::ExitCode;

use crate::args::ProjectArg;
use crate::learning::LearnerArgs;
use clap::Subcommand;
use tally_api::{Analytics, parse_instant};

#[derive(Debug, Subcommand)]
pub enum GoalsCommand {
    /// Set a goal, counted from now.
    Create {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        user: String,
        /// streak, sessions, exchanges, quality, topics or minutes.
        #[arg(long = "type")]
        kind: String,
        /// The value to reach (streak in days, quality in (0, 1]).
        #[arg(long)]
        target: f64,
        #[arg(long)]
        title: Option<String>,
        /// RFC 3339 or YYYY-MM-DD (end of day).
        #[arg(long)]
        deadline: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A learner's goals with progress, milestones and status.
    List(LearnerArgs),
    /// Change a goal's target, title or deadline.
    Update {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        user: String,
        #[arg(long)]
        id: i64,
        #[arg(long)]
        target: Option<f64>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        deadline: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Goals suggested from the learner's last 28 days.
    Suggest {
        #[arg(long)]
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pause a goal.
    Pause {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        user: String,
        #[arg(long)]
        id: i64,
    },
    /// Resume a paused goal.
    Resume {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        user: String,
        #[arg(long)]
        id: i64,
    },
    /// Abandon a goal for good.
    Abandon {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        user: String,
        #[arg(long)]
        id: i64,
    },
}

pub fn print(goals: &[tally_api::LearningGoal], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(goals)?);
        return Ok(());
    }
    for g in goals {
        println!(
            "#{} {:<28} {:<10} {:>8.1} / {:<8} {:>5.1} %  {}{}",
            g.goal.id,
            g.goal.title,
            g.goal.kind,
            g.value,
            g.goal.target,
            g.percent,
            crate::render::words(&g.status),
            g.goal.deadline.map_or_else(String::new, |d| format!(
                "  due {}",
                d.format("%Y-%m-%d %H:%M")
            ))
        );
    }
    Ok(())
}

fn instant(
    text: Option<String>,
    name: &str,
) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(text.map(|t| parse_instant(&t, name, true)).transpose()?)
}

pub fn run(analytics: &Analytics, command: GoalsCommand) -> anyhow::Result<ExitCode> {
    match command {
        GoalsCommand::Create {
            project,
            user,
            kind,
            target,
            title,
            deadline,
            json,
        } => {
            let deadline = instant(deadline, "--deadline")?;
            let goal = project
                .scoped(analytics)?
                .create_learning_goal(&user, &kind, target, title, deadline)?;
            print(&[goal], json)?;
        }
        GoalsCommand::List(LearnerArgs { user, at, json }) => {
            let goals = analytics.learning_goals(&user, instant(at, "--at")?)?;
            print(&goals, json)?;
        }
        GoalsCommand::Update {
            project,
            user,
            id,
            target,
            title,
            deadline,
            json,
        } => {
            let deadline = instant(deadline, "--deadline")?;
            let goal = project
                .scoped(analytics)?
                .update_learning_goal(&user, id, target, title, deadline)?;
            print(&[goal], json)?;
        }
        GoalsCommand::Suggest { user, json } => {
            let suggestions = analytics.suggest_learning_goals(&user, None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&suggestions)?);
            } else {
                for s in &suggestions {
                    println!(
                        "{:<44} --type {:<9} --target {:<6} {}, confidence {:.2}",
                        s.title,
                        s.kind.as_str(),
                        s.target,
                        crate::render::words(&s.difficulty),
                        s.confidence
                    );
                }
            }
        }
        GoalsCommand::Pause { project, user, id } => {
            print(
                &[project
                    .scoped(analytics)?
                    .set_learning_goal_state(&user, id, "paused")?],
                false,
            )?;
        }
        GoalsCommand::Resume { project, user, id } => {
            print(
                &[project
                    .scoped(analytics)?
                    .set_learning_goal_state(&user, id, "active")?],
                false,
            )?;
        }
        GoalsCommand::Abandon { project, user, id } => {
            print(
                &[project
                    .scoped(analytics)?
                    .set_learning_goal_state(&user, id, "abandoned")?],
                false,
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
