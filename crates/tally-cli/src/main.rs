//! The `tally` command: thin argument handling over `tally_api::Analytics`.

mod args;
mod commands;
mod progress;
mod render;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the ingest path allocates and frees small strings on two threads, where
/// glibc's allocator costs ~15 % of parse time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
