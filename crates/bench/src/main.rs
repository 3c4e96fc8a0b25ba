//! `linesman-bench`: linesman's figures beside plain tokio/tokio-util
//! baselines measured in the same run, printed as a table with ratios or as
//! one JSON object per line (`--json`).
//!
//! Each subcommand is one module with a `run` function that returns its
//! measurements; this file only parses the command line and prints.

mod bus;
mod codec;
mod e2e;
mod report;
mod scale;

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
}

/// Every benchmark, in the order `all` runs them.
const ALL: &[fn() -> Vec<Measurement>] = &[codec::run, bus::run, e2e::run, scale::run];

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let measurements: Vec<Measurement> = match cli.bench {
        Bench::All => ALL.iter().flat_map(|run| run()).collect(),
        Bench::Codec => codec::run(),
        Bench::Bus => bus::run(),
        Bench::E2e => e2e::run(),
        Bench::Scale => scale::run(),
    };
    let mut out = io::stdout().lock();
    if cli.json {
        report::write_json(&mut out, &measurements)?;
    } else {
        report::write_table(&mut out, &measurements)?;
    }
    out.flush()?;
    Ok(())
}
