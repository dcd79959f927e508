//! The `tally` command: thin argument handling over `tally_api::Analytics`.

mod args;
mod commands;
mod experiment;
mod goals;
mod learning;
mod predict;
mod progress;
mod render;
mod series;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the ingest path allocates and frees small strings on two threads, where
/// glibc's allocator costs ~15 % of parse time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    // The server logs its start, stop and failures by default; other commands only warn.
    let default_filter = match cli.command {
        args::Command::Serve(_) => "warn,tally_api=info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
