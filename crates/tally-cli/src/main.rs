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
    exit_quietly_when_stdout_closes();
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
        Err(error) if reader_went_away(&error) => ExitCode::from(STOPPED_BY_READER),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// The status a shell gives a process ended by `SIGPIPE`.
const STOPPED_BY_READER: u8 = 141;

/// Whether the command failed only because whoever read its output stopped reading.
fn reader_went_away(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `tally query tools | head` closes the pipe while tally still prints: `println!` then
/// panics with "failed printing to stdout: Broken pipe", and writers that return errors
/// fail with it (`reader_went_away`). Such a reader wanted no more, so tally stops
/// quietly with [`STOPPED_BY_READER`] (Rust ignores `SIGPIPE`, and restoring it would
/// need `unsafe`). Every other panic is reported as before.
fn exit_quietly_when_stdout_closes() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(STOPPED_BY_READER));
        }
        report(info);
    }));
}
