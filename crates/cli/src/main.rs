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
mod inert;
mod logging;
mod output;
mod reload;
mod report;
mod socket;
mod systemd;
mod view;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = commands::dispatch(cli);
    // The daemon's runtime is gone: what it logged last reaches stderr
    // (bounded), before the error, if any, is printed.
    logging::finish();
    report::report(result)
}
