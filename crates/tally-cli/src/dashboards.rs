//! `tally dashboards`: list, show, create, delete, export and import saved dashboards
//! on the database directly (as `tally alerts` does). Export writes JSON that import
//! reads back, ids kept; the built-in executive and technical dashboards are listed and
//! exported, never changed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::Value;
use tally_api::Analytics;
use tally_api::dashboards::{Dashboard, DashboardError, DashboardSpec};

#[derive(Debug, Subcommand)]
pub enum DashboardsCommand {
    /// The built-in dashboards and the saved ones.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One dashboard with its widgets, as JSON.
    Show {
        /// The dashboard's id.
        id: String,
    },
    /// Save a new dashboard from a JSON file (`-`: standard input); see docs/dashboard.md.
    Create {
        /// The JSON file.
        file: PathBuf,
    },
    /// Delete a saved dashboard.
    Delete {
        /// The dashboard's id.
        id: String,
    },
    /// Write dashboards as JSON: one (by id), else every saved one as an array.
    Export {
        /// Only this dashboard.
        id: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Read dashboards from a JSON file (one object or an array, as export writes them):
    /// a dashboard whose id exists is replaced, the others are created under their id.
    Import {
        /// The JSON file (`-`: standard input).
        file: PathBuf,
    },
}

fn read_json(file: &Path) -> anyhow::Result<Value> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
    }
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))
}

fn spec(value: &Value, file: &Path, at: Option<usize>) -> anyhow::Result<DashboardSpec> {
    DashboardSpec::from_json(value).map_err(|e| match at {
        Some(i) => anyhow::anyhow!("{}: dashboard [{i}]: {e}", file.display()),
        None => anyhow::anyhow!("{}: {e}", file.display()),
    })
}

fn print_list(dashboards: &[Dashboard]) {
    println!(
        "{:<20} {:<32} {:<16} {:>7}  kind",
        "id", "name", "project", "widgets"
    );
    for d in dashboards {
        println!(
            "{:<20} {:<32} {:<16} {:>7}  {}",
            d.id,
            d.name,
            d.project.as_deref().unwrap_or("(global)"),
            d.widgets.len(),
            if d.builtin { "built in" } else { "saved" }
        );
    }
}

pub fn run(analytics: &Analytics, command: DashboardsCommand) -> anyhow::Result<ExitCode> {
    match command {
        DashboardsCommand::List { json } => {
            let all = analytics.dashboards(None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                print_list(&all);
            }
        }
        DashboardsCommand::Show { id } => {
            let dashboard = analytics.dashboard(&id, None)?;
            println!("{}", serde_json::to_string_pretty(&dashboard)?);
        }
        DashboardsCommand::Create { file } => {
            let value = read_json(&file)?;
            let created = analytics.create_dashboard(spec(&value, &file, None)?, None)?;
            println!(
                "created dashboard {} ({}, {} widgets)",
                created.id,
                created.name,
                created.widgets.len()
            );
        }
        DashboardsCommand::Delete { id } => {
            analytics.delete_dashboard(&id, None)?;
            println!("deleted dashboard {id}");
        }
        DashboardsCommand::Export { id, out } => {
            let value = match id {
                Some(id) => serde_json::to_value(analytics.dashboard(&id, None)?)?,
                None => serde_json::to_value(
                    analytics
                        .dashboards(None)?
                        .into_iter()
                        .filter(|d| !d.builtin)
                        .collect::<Vec<_>>(),
                )?,
            };
            let text = serde_json::to_string_pretty(&value)? + "\n";
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
        }
        DashboardsCommand::Import { file } => {
            let value = read_json(&file)?;
            let specs = match &value {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| spec(item, &file, Some(i)))
                    .collect::<anyhow::Result<Vec<_>>>()?,
                _ => vec![spec(&value, &file, None)?],
            };
            let (mut created, mut replaced) = (0, 0);
            for spec in specs {
                let exists = match &spec.id {
                    Some(id) => match analytics.dashboard(id, None) {
                        Ok(found) if found.builtin => {
                            bail!("dashboard {id:?} is built in: give the copy another id")
                        }
                        Ok(_) => true,
                        Err(tally_api::Error::Dashboard(DashboardError::Unknown(_))) => false,
                        Err(other) => return Err(other.into()),
                    },
                    None => false,
                };
                match (&spec.id, exists) {
                    (Some(id), true) => {
                        let id = id.clone();
                        analytics.update_dashboard(&id, spec, None)?;
                        replaced += 1;
                    }
                    _ => {
                        analytics.create_dashboard(spec, None)?;
                        created += 1;
                    }
                }
            }
            println!(
                "imported {} dashboards: {created} created, {replaced} replaced",
                created + replaced
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
