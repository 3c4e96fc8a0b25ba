//! `linesman-bench`: linesman's figures beside plain tokio/tokio-util
//! baselines measured in the same run, printed as a table with ratios or as
//! one JSON object per line (`--json`).
//!
//! Each subcommand is one module with a `run` function that returns its
//! measurements; this file only parses the command line and prints.

mod bus;
mod codec;
mod curve;
mod e2e;
mod report;
mod runs;
mod scale;
#[cfg(feature = "zmq")]
mod zmq;

use clap::{Parser, Subcommand};
use report::Measurement;
use std::io::{self, Write};

/// Benchmarks of linesman against plain tokio/tokio-util baselines.
#[derive(Debug, Parser)]
#[command(name = "linesman-bench", version)]
struct Cli {
    /// Print one JSON object per line instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Run the selected benchmarks N times and print, per case, the median
    /// of each figure and of the ratio with the spread (min-max) over the runs.
    #[arg(long, global = true, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Every benchmark, one after the other.
    All,
    /// Observer bus: deliveries/s and latency against per-listener `mpsc` and `broadcast`.
    Bus,
    /// Wire codec: decode and encode frames/s against tokio-util's `LengthDelimitedCodec`.
    Codec,
    /// One loopback connection end to end: frames/s to a handler and request round trips/s against plain `Framed`.
    E2e,
    /// 10,000 supervised connections to a child-process peer: all-up time, memory, snapshot, mass reconnect, against plain tokio.
    Scale,
    /// The scale curve at 1k, 5k, 10k and 19k connections: all-up time, memory and snapshot per size, and `linesman status -o json` against a real daemon (needs the release `linesman` binary).
    Curve,
    /// linesman beside libzmq: PUSH/PULL frames, DEALER/ROUTER round trips, reconnect of 1,000 connections (built with `--features zmq`).
    #[cfg(feature = "zmq")]
    Zmq,
}

/// Every benchmark, in the order `all` runs them.
const ALL: &[fn() -> Vec<Measurement>] = &[
    codec::run,
    bus::run,
    e2e::run,
    scale::run,
    curve::run,
    #[cfg(feature = "zmq")]
    zmq::run,
];

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let once = || -> Vec<Measurement> {
        match cli.bench {
            Bench::All => ALL.iter().flat_map(|run| run()).collect(),
            Bench::Codec => codec::run(),
            Bench::Bus => bus::run(),
            Bench::E2e => e2e::run(),
            Bench::Scale => scale::run(),
            Bench::Curve => curve::run(),
            #[cfg(feature = "zmq")]
            Bench::Zmq => zmq::run(),
        }
    };
    let mut out = io::stdout().lock();
    if cli.runs == 1 {
        let measurements = once();
        if cli.json {
            report::write_json(&mut out, &measurements)?;
        } else {
            report::write_table(&mut out, &measurements)?;
        }
    } else {
        let mut all = Vec::new();
        for run in 1..=cli.runs {
            eprintln!("run {run} of {}", cli.runs);
            all.push(once());
        }
        let summaries = runs::summarize(&all);
        if cli.json {
            runs::write_json(&mut out, &summaries)?;
        } else {
            runs::write_table(&mut out, &summaries)?;
        }
    }
    out.flush()?;
    Ok(())
}
