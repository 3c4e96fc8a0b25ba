//! `linesman`: run the connection supervisor as a daemon, watch and steer
//! it, check and draw its configuration, or see it all in a live demo.
//!
//! `main` only parses the command line (clap exits 2 on bad usage), runs
//! the command and maps its result to an exit code; the codes and their
//! meanings are in `exit.rs`, each subcommand in its own file under
//! `commands/`.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod cli;
mod commands;
mod daemon;
mod demo;
mod error;
mod exit;
mod fd_plan;
mod hangup;
mod inert;
mod logging;
mod output;
mod reload;
mod report;
mod socket;
mod systemd;
mod view;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => return usage_error(&usage),
    };
    let result = commands::dispatch(cli);
    // The daemon's runtime is gone: what it logged last reaches stderr
    // (bounded), before the error, if any, is printed.
    logging::finish();
    report::report(result)
}

/// What clap says of the command line (help and version too), written as
/// every other output is: it repeats a value given on the command line,
/// which may hold escape sequences, so it goes through the same filter
/// (`output`). The exit code is clap's (2 for bad usage, 0 for help).
fn usage_error(usage: &clap::Error) -> ExitCode {
    let styled = usage.render();
    let coloured = if usage.use_stderr() {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let text = if coloured {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    if usage.use_stderr() {
        output::err(&text);
    } else if output::out(&text).is_err() {
        // A closed pipe after `--help | head -1`: nothing more to say.
    }
    ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2))
}
