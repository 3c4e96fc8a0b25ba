//! Half-open TCP for real: the peer runs in a network namespace behind a
//! veth pair, the daemon connects to it with the default liveness settings,
//! then the namespace's end of the link goes down, so every packet to the
//! peer is dropped without a word (no reset, no ICMP). The daemon must see
//! the connection as dead by itself (keepalive with `TCP_USER_TIMEOUT`: an
//! i/o "timed out" reason, never "peer closed"); the time it took is
//! printed, and only "never" (past 60 s) fails the test.
//!
//! Needs root and `ip` (iproute2). Without them it prints one line saying
//! so and passes, unless `LINESMAN_REQUIRE_NETNS=1` (CI), where a missing
//! prerequisite fails. The namespace and the veth pair have names unique to
//! the run and are removed by a guard, also when the test fails.

use std::path::PathBuf;
use std::process::{Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use linesman_testkit::{Behavior, behavior_args};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::Beside;
use crate::cli_harness::state;
use crate::support::peer_binary;

/// Set to `1` where the prerequisites must be there (CI).
const REQUIRE: &str = "LINESMAN_REQUIRE_NETNS";
/// Past this the dead peer was never noticed: the only bound asserted.
const NEVER: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_peer_is_noticed_by_the_default_liveness_settings() {
    let Some(ip) = prerequisites() else {
        return;
    };
    let net = Netns::create(ip);
    let peer = net.spawn_peer().await;
    // A long connect timeout keeps the reconnect that follows the death
    // from replacing the reason in `last_error` before it is read.
    let yaml = format!(
        "  feed: {{ endpoint: {}, connect_timeout: 30s }}\n",
        peer.endpoint
    );
    let bench = Beside::start("liveness", &yaml).await;
    let daemon = &bench.daemon;
    daemon
        .wait_status("feed up", |s| state(s, "feed") == "up")
        .await;
    let up = Instant::now();

    net.blackhole();
    let blackholed = Instant::now();
    let status = loop {
        let status = daemon.status().await;
        if state(&status, "feed") != "up" {
            break status;
        }
        assert!(
            blackholed.elapsed() < NEVER,
            "the dead peer was not noticed within {NEVER:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let detected = blackholed.elapsed();
    println!(
        "half-open detection: {:.1} s after the blackhole, {:.1} s after the last byte from the peer (the connection came up; nothing was sent since)",
        detected.as_secs_f64(),
        up.elapsed().as_secs_f64()
    );
    let feed = status["connections"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == "feed"))
        .expect("feed in the status");
    let reason = feed["last_error"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("i/o error:") && reason.contains("timed out"),
        "the death is a timeout, not a close: {feed:#}"
    );
    assert!(!reason.contains("peer closed"), "{feed:#}");
    bench.assert_healthy().await;
    drop(peer);
}

/// `ip`, if the test can run here; otherwise one line, or a failure under
/// [`REQUIRE`].
fn prerequisites() -> Option<PathBuf> {
    let missing = |why: &str| {
        assert!(
            std::env::var(REQUIRE).as_deref() != Ok("1"),
            "{REQUIRE}=1 but {why}"
        );
        println!("skipped: the half-open test needs root and iproute2 (`ip`): {why}");
        None
    };
    if !is_root() {
        return missing("not running as root");
    }
    let Some(ip) = find_in_path("ip") else {
        return missing("`ip` is not in PATH");
    };
    // A namespace may still be refused (a container without the right).
    let probe = format!("lsm-probe-{}", std::process::id());
    let added = StdCommand::new(&ip)
        .args(["netns", "add", &probe])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        return missing("`ip netns add` is not allowed here");
    }
    let _ = StdCommand::new(&ip).args(["netns", "del", &probe]).status();
    Some(ip)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A network namespace joined to this one by a veth pair, removed on drop.
struct Netns {
    ip: PathBuf,
    name: String,
    /// This side's end of the pair; deleting it deletes both ends.
    host_dev: String,
    /// The namespace's end.
    ns_dev: String,
    /// The namespace's address, where the peer listens.
    ns_addr: String,
}

impl Netns {
    fn create(ip: PathBuf) -> Netns {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // Interface names have at most 15 bytes. A /30 per run in
        // 198.18.0.0/15 (set aside for tests, RFC 2544), picked by pid so
        // that parallel runs on one machine do not overlap.
        let tag = format!("{:x}{n}", pid % 0x10_0000);
        let subnet = (pid.wrapping_mul(4).wrapping_add(n) % (1 << 15)) * 4;
        let address = |host: u32| {
            let [_, _, c, d] = (subnet + host).to_be_bytes();
            format!("198.{}.{c}.{d}", 18 + ((subnet + host) >> 16))
        };
        let net = Netns {
            ip,
            name: format!("lsm-{pid}-{n}"),
            host_dev: format!("lh{tag}"),
            ns_dev: format!("ln{tag}"),
            ns_addr: address(2),
        };
        let host_addr = format!("{}/30", address(1));
        let ns_cidr = format!("{}/30", net.ns_addr);
        net.run(&["netns", "add", &net.name]);
        net.run(&[
            "link",
            "add",
            &net.host_dev,
            "type",
            "veth",
            "peer",
            "name",
            &net.ns_dev,
        ]);
        net.run(&["link", "set", &net.ns_dev, "netns", &net.name]);
        net.run(&["addr", "add", &host_addr, "dev", &net.host_dev]);
        net.run(&["link", "set", &net.host_dev, "up"]);
        net.in_ns(&["addr", "add", &ns_cidr, "dev", &net.ns_dev]);
        net.in_ns(&["link", "set", &net.ns_dev, "up"]);
        net.in_ns(&["link", "set", "lo", "up"]);
        net
    }

    /// `ip ARGS`, which must succeed.
    fn run(&self, args: &[&str]) {
        let output = StdCommand::new(&self.ip)
            .args(args)
            .output()
            .expect("ip runs");
        assert!(
            output.status.success(),
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `ip -n NS ARGS`: `ip` acting inside the namespace.
    fn in_ns(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        self.run(&all);
    }

    /// An echo `linesman-peer` inside the namespace; killed on drop.
    async fn spawn_peer(&self) -> NsPeer {
        let listen = format!("tcp://{}:0", self.ns_addr);
        let mut child = Command::new(&self.ip)
            .args(["netns", "exec", &self.name])
            .arg(peer_binary())
            .args(["--listen", &listen])
            .args(behavior_args(&Behavior::Echo))
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the peer starts in the namespace");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(crate::cli_harness::PATIENCE, lines.next_line())
            .await
            .expect("the peer says where it listens")
            .expect("read the peer's stdout")
            .expect("the peer printed a line");
        let endpoint = line
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line from the peer: {line}"))
            .to_owned();
        NsPeer { child, endpoint }
    }

    /// Every packet to the peer is dropped from now on, silently: the
    /// namespace's end of the link goes down (this end loses its carrier
    /// and drops what it would send).
    fn blackhole(&self) {
        self.in_ns(&["link", "set", &self.ns_dev, "down"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Best effort, and quiet: this also runs while a failed test unwinds.
        for args in [
            vec!["link", "del", self.host_dev.as_str()],
            vec!["netns", "del", self.name.as_str()],
        ] {
            let _ = StdCommand::new(&self.ip)
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The peer process in the namespace and where it listens.
struct NsPeer {
    /// Killed on drop (before the namespace goes).
    #[expect(dead_code, reason = "held so that it is killed on drop")]
    child: Child,
    endpoint: String,
}
