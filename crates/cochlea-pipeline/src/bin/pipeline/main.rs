//! The `pipeline` binary: `run`, `classify`, `detect`, `export`, `features`, `doctor`, `init`, `tune`.

mod cli;
mod commands;
mod detect;
mod print;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::{Cli, Cmd};

fn main() -> ExitCode {
    use cochlea_pipeline::progress::{self, Level};

    let cli = Cli::parse();
    let env = std::env::var_os("COCHLEA_LOG").map(|v| v.to_string_lossy().into_owned());
    let level = match Level::resolve(env.as_deref(), cli.verbose, cli.quiet) {
        Ok(level) => level,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    progress::set_level(level);
    if let Some(n) = cli.threads {
        // Only fails when a pool exists already, which cannot happen here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    progress::debug(format_args!(
        "pipeline {}: log level {level} (COCHLEA_LOG={}, -v x{}, -q x{}), {} feature threads",
        env!("CARGO_PKG_VERSION"),
        env.as_deref().unwrap_or("unset"),
        cli.verbose,
        cli.quiet,
        rayon::current_num_threads()
    ));
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line. Library errors already end with
/// their cause ("path: No space left on device"), so a cause is added only
/// when the text does not hold it yet.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if !text.contains(&c) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&c);
        }
    }
    text
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    use cochlea_pipeline::progress::{self, Level};

    // Progress shows from level info up.
    let quiet = !progress::enabled(Level::Info);
    match cli.cmd {
        Cmd::Run(a) => commands::run(a, quiet),
        Cmd::Classify(a) => commands::classify(a, quiet),
        Cmd::Detect(a) => detect::detect(a, quiet, cli.threads),
        Cmd::Features(a) => commands::features(a, quiet),
        Cmd::Doctor(a) => commands::doctor(a, quiet),
        Cmd::Export(a) => commands::export(a),
        Cmd::Tune(a) => commands::tune(a, quiet),
        Cmd::Init(a) => commands::init(a),
    }
}
