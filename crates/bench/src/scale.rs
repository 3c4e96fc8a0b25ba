//! `linesman-bench scale`: 10,000 supervised connections to a loopback
//! peer in a child process, beside 10,000 plain tokio connections to an
//! identical peer, measured in the same run.
//!
//! Processes, and why: one process may hold 20,000 descriptors here, so
//! the peer (which holds one accepted socket per connection) runs in a
//! child: this same executable, re-run with `LINESMAN_BENCH_SCALE_ROLE=peer`
//! (a testkit echo `Peer` with its default backlog of 4096, taking
//! commands on stdin: `drop` drops every connection at once with
//! `Peer::drop_all`, end of file stops it). Each side gets a peer child of
//! its own, started fresh on its own port, so the baseline's connections
//! left in TIME_WAIT cannot collide with linesman's connects (same 4-tuple
//! → reset → the kernel's 1 s SYN retry). The baseline runs in a second
//! child (`…_ROLE=baseline`) and linesman in a third (`…_ROLE=ours`, which
//! starts its own peer child), so that both resident-memory deltas start
//! from a fresh process in every run: with `--runs N` linesman once ran in
//! this process, and from the second run on reused the memory the first
//! had freed (0.13x-0.37x "per connection"). Every process raises its
//! `RLIMIT_NOFILE` to the hard limit and runs a 2-worker multi-thread
//! runtime.
//!
//! Figures (see docs/benchmarks.md for how each is measured):
//! `all up 10k`, `rss per connection`, `snapshot 10k`,
//! `reconnect all up 10k`, `reconnect spread max/mean`.
//!
//! Besides them, on stderr: how long the peer's drop took (first to last
//! `Disconnected`), and the CPU time the drop and the reconnects cost
//! linesman's process (`CLOCK_PROCESS_CPUTIME_ID`), a figure the machine's
//! load moves far less than the wall-clock ones; with
//! `LINESMAN_BENCH_SCALE_TIMELINE` set, the events per 10 ms slice.

mod baseline;
pub(crate) mod child;
mod peer;
mod spread;
mod supervised;

use std::process::{Command, Stdio};

use anyhow::Context;
use linesman_stream::Endpoint;

pub(crate) use self::child::PeerChild;
use crate::report::{Better, Measurement};

const BENCH: &str = "scale";
/// Connections on each side.
const CONNECTIONS: usize = 10_000;
/// Which part a child process runs: `peer` or `baseline`.
const ROLE_ENV: &str = "LINESMAN_BENCH_SCALE_ROLE";
/// Where the baseline child connects.
const PEER_ENV: &str = "LINESMAN_BENCH_SCALE_PEER";
/// The loopback port a peer child listens on (a restarted peer takes its
/// predecessor's); unset or 0 picks a free one.
const PORT_ENV: &str = "LINESMAN_BENCH_SCALE_PORT";

/// Runs the scale benchmark, or one of its child parts when this process
/// is such a child.
pub(crate) fn run() -> Vec<Measurement> {
    let result = match std::env::var(ROLE_ENV).as_deref() {
        Ok("peer") => peer::serve().map(|()| Vec::new()),
        Ok("baseline") => baseline::run(),
        Ok("ours") => ours(),
        Ok("curve") => crate::curve::point(),
        _ => orchestrate(),
    };
    result.unwrap_or_else(|error| {
        eprintln!("scale: {error:#}");
        Vec::new()
    })
}

fn orchestrate() -> anyhow::Result<Vec<Measurement>> {
    let limit = linesman_testkit::raise_nofile_limit().context("cannot raise RLIMIT_NOFILE")?;
    anyhow::ensure!(
        limit > CONNECTIONS as u64 + 100,
        "the open-file limit is {limit}; {CONNECTIONS} connections need more"
    );
    // Each contender gets a fresh peer child on a port of its own: the
    // baseline's closed connections linger in TIME_WAIT for a minute, and
    // a connect whose 4-tuple (same peer port, same ephemeral port) is
    // still among them can be reset and wait for the kernel's 1 s SYN
    // retry. With distinct peer ports no 4-tuple of one side can collide
    // with the other's.
    let (plain, baseline_endpoint) = {
        let mut peer = PeerChild::spawn()?;
        let plain = baseline::in_child(&peer.endpoint)?;
        // Anything the baseline left open on the peer's side is closed now.
        peer.drop_all()?;
        // The baseline's peer is stopped at the end of this block.
        (plain, peer.endpoint.clone())
    };
    let output = child_command("ours")?
        .env(PEER_ENV, baseline_endpoint.to_string())
        .output()
        .context("cannot run linesman's child")?;
    anyhow::ensure!(
        output.status.success(),
        "linesman's child failed: {}",
        output.status
    );
    let mut measurements = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).context("linesman's child printed no JSON")?;
        let case = value["case"].as_str().context("a figure without a case")?;
        let linesman = value["linesman"]
            .as_f64()
            .context("a figure without a value")?;
        let baseline = match case {
            "all up 10k" => Some(plain.all_up_ms),
            "rss per connection" => Some(plain.rss_per_conn),
            _ => None,
        };
        measurements.push((case.to_owned(), linesman, baseline));
    }
    anyhow::ensure!(
        measurements.len() == 5,
        "linesman's child gave {} figures",
        measurements.len()
    );
    Ok(measurements
        .into_iter()
        .map(|(case, linesman, baseline)| Measurement {
            bench: BENCH,
            unit: unit_of(&case),
            case,
            linesman,
            baseline,
            better: Better::Lower,
        })
        .collect())
}

/// The unit of each of linesman's figures.
fn unit_of(case: &str) -> &'static str {
    match case {
        "rss per connection" => "bytes",
        "reconnect spread max/mean" => "ratio",
        _ => "ms",
    }
}

/// The child's part for linesman: its own peer child (on another port than
/// the baseline's, given in `PEER_ENV`), the supervisor in this fresh
/// process, the figures printed (through `main`, as JSON).
fn ours() -> anyhow::Result<Vec<Measurement>> {
    linesman_testkit::raise_nofile_limit().context("cannot raise RLIMIT_NOFILE")?;
    let baseline_endpoint = std::env::var(PEER_ENV).unwrap_or_default();
    let mut peer = PeerChild::spawn()?;
    anyhow::ensure!(
        peer.endpoint.to_string() != baseline_endpoint,
        "linesman's peer listens on the baseline's port {baseline_endpoint}; rerun"
    );
    let endpoint = peer.endpoint.clone();
    let ours = supervised::run(CONNECTIONS, &[endpoint], Some(&mut peer))?;
    drop(peer);
    let reconnect = ours
        .reconnect
        .context("the mass reconnect was not measured")?;
    let figure =
        |case: &str, unit: &'static str, linesman: f64, baseline: Option<f64>| Measurement {
            bench: BENCH,
            case: case.to_owned(),
            unit,
            linesman,
            baseline,
            better: Better::Lower,
        };
    Ok(vec![
        figure("all up 10k", "ms", ours.common.all_up_ms, None),
        figure(
            "rss per connection",
            "bytes",
            ours.common.rss_per_conn,
            None,
        ),
        figure("snapshot 10k", "ms", ours.snapshot_ms, None),
        figure("reconnect all up 10k", "ms", reconnect.all_up_ms, None),
        figure(
            "reconnect spread max/mean",
            "ratio",
            reconnect.spread_max_over_mean,
            None,
        ),
    ])
}

/// One supervisor of `count` connections, in this process, to fresh peer
/// children (`peers`, connections spread round-robin): the time until all
/// are up, resident memory per connection, and the median `snapshot()`
/// time, in ms, bytes and ms (no reconnect).
pub(crate) fn supervise(count: usize, peers: usize) -> anyhow::Result<(f64, f64, f64)> {
    let limit = linesman_testkit::raise_nofile_limit().context("cannot raise RLIMIT_NOFILE")?;
    anyhow::ensure!(
        limit > count as u64 + 100,
        "the open-file limit is {limit}; {count} connections need more"
    );
    let peers = (0..peers.max(1))
        .map(|_| PeerChild::spawn())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let endpoints: Vec<Endpoint> = peers.iter().map(|p| p.endpoint.clone()).collect();
    let figures = supervised::run(count, &endpoints, None)?;
    drop(peers);
    Ok((
        figures.common.all_up_ms,
        figures.common.rss_per_conn,
        figures.snapshot_ms,
    ))
}

/// A figure pair both sides measure.
#[derive(Debug, Clone, Copy)]
struct Common {
    all_up_ms: f64,
    rss_per_conn: f64,
}

/// This process's resident memory, in bytes (`VmRSS` of /proc/self/status).
fn rss_bytes() -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .context("no VmRSS line in /proc/self/status")?;
    Ok(kib * 1024)
}

/// CPU time this process has used so far (user and system, every thread),
/// by `CLOCK_PROCESS_CPUTIME_ID`.
fn process_cpu() -> anyhow::Result<std::time::Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one `timespec` through a pointer to a
    // live, properly aligned local; it keeps no reference after returning.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot read the process's CPU time");
    }
    let secs = u64::try_from(now.tv_sec).context("a negative CPU time")?;
    let nanos = u32::try_from(now.tv_nsec).context("a negative CPU time")?;
    Ok(std::time::Duration::new(secs, nanos))
}

/// This executable, re-run as the scale child `role` with `--json`.
pub(crate) fn child_command(role: &str) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("cannot find the running executable")?;
    let mut command = Command::new(exe);
    command
        .args(["--json", "scale"])
        .env(ROLE_ENV, role)
        .stderr(Stdio::inherit());
    Ok(command)
}
