//! The daemon half of the curve: the release `linesman` binary runs a
//! generated YAML of `count` connections to a testkit echo peer in a child
//! process; `linesman status -o json` is timed against it, as a user runs it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use linesman_testkit::TempDir;

use crate::runs::median;
use crate::scale::PeerChild;

/// `linesman status -o json` runs timed per size; the median counts.
pub(super) const STATUS_RUNS: usize = 7;
/// Where the daemon binary is named explicitly.
const BIN_ENV: &str = "LINESMAN_BIN";
/// Longest wait for every connection of the daemon to be up.
const PATIENCE: Duration = Duration::from_secs(120);
/// Pause between two `status` calls while waiting.
const POLL: Duration = Duration::from_millis(250);

/// The daemon's figures at one size.
#[derive(Debug, Clone, Copy)]
pub(super) struct Figures {
    /// Median wall time of one `linesman status -o json`, in ms.
    pub(super) status_ms: f64,
    /// The daemon's whole resident memory (`VmRSS`) over `count`, in bytes.
    pub(super) rss_per_conn: f64,
}

/// The `linesman` binary: `LINESMAN_BIN`, else the one beside this
/// executable (the same target directory and profile).
pub(super) fn binary() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os(BIN_ENV) {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()
            .context("cannot find the running executable")?
            .with_file_name("linesman"),
    };
    anyhow::ensure!(
        path.is_file(),
        "no linesman binary at {}: build it with `cargo build --release -p linesman-cli` \
         (`make bench-curve` does), or name one with {BIN_ENV}",
        path.display()
    );
    Ok(path)
}

/// A running daemon, killed on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the daemon with `count` connections spread over `peers` peer
/// children and measures it.
pub(super) fn measure(binary: &Path, count: usize, peers: usize) -> anyhow::Result<Figures> {
    let peers = (0..peers.max(1))
        .map(|_| PeerChild::echo_on(0))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ports = peers
        .iter()
        .map(PeerChild::port)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let dir = TempDir::new("linesman-bench-curve").context("cannot make a temporary directory")?;
    let socket = dir.join("control.sock");
    let config = dir.join("curve.yaml");
    std::fs::write(&config, yaml(count, &ports, &socket))
        .context("cannot write the daemon's configuration")?;
    let mut daemon = Daemon(
        Command::new(binary)
            .arg("run")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?,
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(exit) = daemon.0.try_wait()? {
            anyhow::bail!("the daemon exited ({exit}) before all {count} connections were up");
        }
        let output = status(binary, &socket)?;
        // Exit 0: every connection is up.
        if output.status.success() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "not all {count} connections of the daemon were up within {PATIENCE:?}"
        );
        std::thread::sleep(POLL);
    }
    let rss = rss_of(daemon.0.id())?;
    let mut times = Vec::with_capacity(STATUS_RUNS);
    for _ in 0..STATUS_RUNS {
        let started = Instant::now();
        let output = status(binary, &socket)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            output.status.success(),
            "linesman status failed: {}",
            output.status
        );
        let listed = listed(&output.stdout)?;
        anyhow::ensure!(
            listed == count,
            "linesman status -o json listed {listed} connections, not {count}"
        );
    }
    drop(daemon);
    drop(peers);
    Ok(Figures {
        status_ms: median(&times).context("no status run")?,
        rss_per_conn: rss as f64 / count as f64,
    })
}

fn status(binary: &Path, socket: &Path) -> anyhow::Result<Output> {
    Command::new(binary)
        .args(["status", "-o", "json", "--socket"])
        .arg(socket)
        .stdin(Stdio::null())
        .output()
        .context("cannot run linesman status")
}

/// How many connections a `status -o json` body lists: its top-level array,
/// or its `connections` array.
fn listed(body: &[u8]) -> anyhow::Result<usize> {
    let value: serde_json::Value =
        serde_json::from_slice(body).context("linesman status -o json printed no JSON")?;
    value
        .as_array()
        .or_else(|| value["connections"].as_array())
        .map(Vec::len)
        .context("linesman status -o json has no list of connections")
}

/// A configuration of `count` connections `c00000`… spread round-robin
/// over `ports` on loopback, every other setting at its default, its
/// control socket at `socket`.
fn yaml(count: usize, ports: &[u16], socket: &Path) -> String {
    let mut yaml = format!("control:\n  socket: '{}'\nconnections:\n", socket.display());
    for i in 0..count {
        let port = ports[i % ports.len()];
        let _ = writeln!(yaml, "  c{i:05}: {{ endpoint: 'tcp://127.0.0.1:{port}' }}");
    }
    yaml
}

/// The resident memory of process `pid`, in bytes.
fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .with_context(|| format!("no VmRSS line in /proc/{pid}/status"))?;
    Ok(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_yaml_spreads_connections_round_robin_over_the_ports() {
        let yaml = yaml(5, &[7001, 7002], Path::new("/tmp/x/control.sock"));
        let lines: Vec<&str> = yaml.lines().collect();
        assert_eq!(lines[0], "control:");
        assert_eq!(lines[1], "  socket: '/tmp/x/control.sock'");
        assert_eq!(lines[2], "connections:");
        assert_eq!(lines.len(), 3 + 5);
        assert_eq!(lines[3], "  c00000: { endpoint: 'tcp://127.0.0.1:7001' }");
        assert_eq!(lines[4], "  c00001: { endpoint: 'tcp://127.0.0.1:7002' }");
        assert_eq!(lines[7], "  c00004: { endpoint: 'tcp://127.0.0.1:7001' }");
    }

    #[test]
    fn listed_counts_an_array_or_a_connections_array_and_refuses_the_rest() {
        assert_eq!(listed(br#"[{"name":"a"},{"name":"b"}]"#).ok(), Some(2));
        assert_eq!(listed(br#"{"connections":[{"name":"a"}]}"#).ok(), Some(1));
        assert!(listed(br#"{"other":1}"#).is_err());
        assert!(listed(b"not json").is_err());
    }
}
