//! The fault matrix: one test per class of fault a peer, a client, an
//! operator or the machine can throw at linesman, each beside a healthy
//! connection that must not notice (its restarts stay 0, its frames keep
//! flowing). `docs/reliability.md` lists them with what linesman does and
//! the figures measured.
//!
//! Most classes run the real daemon (`linesman run`) with testkit peers;
//! a few need an application's handler or the bus's events and run the
//! library instead.

mod fd_limit;
mod half_open;
mod no_loss;
mod peer_bytes;
mod restarts;
mod signals;
mod stalls;

use std::time::Duration;

use linesman::prelude::{ConnectionHandle, SupervisorHandle};
use linesman_stream::Endpoint;
use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{Daemon, PATIENCE, state};

/// The healthy feed's name in every matrix daemon.
pub(crate) const HEALTHY: &str = "healthy";

/// A daemon supervising a healthy feed (a frame every 10 ms) beside the
/// faulty connections of a test.
pub(crate) struct Beside {
    pub(crate) daemon: Daemon,
    /// Kept alive for the daemon's healthy connection.
    _healthy: Peer,
}

impl Beside {
    /// Starts the daemon on `faulty` (YAML mapping entries under
    /// `connections:`, indented by two spaces) plus the healthy feed, and
    /// waits until the healthy feed is up.
    pub(crate) async fn start(label: &str, faulty: &str) -> Beside {
        let healthy = feed().await;
        let yaml = format!(
            "connections:\n  {HEALTHY}: {{ endpoint: {} }}\n{faulty}",
            healthy.endpoint()
        );
        let daemon = Daemon::start(TempDir::new(label).expect("a temporary folder"), &yaml).await;
        daemon
            .wait_status("the healthy feed up", |s| state(s, HEALTHY) == "up")
            .await;
        Beside {
            daemon,
            _healthy: healthy,
        }
    }

    /// Asserts that the healthy feed never noticed: up, no restart, no
    /// error, and frames still flowing (more arrive after this call).
    pub(crate) async fn assert_healthy(&self) {
        let before = self.daemon.status().await;
        let frames = field(&before, HEALTHY, "frames_in");
        let after = self
            .daemon
            .wait_status("the healthy feed's frames flowing", |s| {
                field(s, HEALTHY, "frames_in") > frames
            })
            .await;
        let healthy = connection(&after, HEALTHY);
        assert_eq!(healthy["state"], "up", "healthy: {healthy:#}");
        assert_eq!(healthy["restarts"], 0, "healthy: {healthy:#}");
        assert_eq!(healthy["attempt"], 1, "healthy: {healthy:#}");
        assert!(healthy["last_error"].is_null(), "healthy: {healthy:#}");
    }

    /// The daemon's resident memory, in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        rss_kib(self.daemon.pid())
    }
}

/// The healthy connection's peer: a frame every 10 ms.
pub(crate) async fn feed() -> Peer {
    Peer::start(
        Listen::tcp(),
        Behavior::SendForever {
            ty: 1,
            payload_len: 16,
            interval: Some(Duration::from_millis(10)),
        },
    )
    .await
    .expect("the feed starts")
}

/// For the classes that run the library: the healthy connection never
/// restarted, and its frames keep coming.
pub(crate) async fn assert_healthy_in(control: &SupervisorHandle, handle: &ConnectionHandle) {
    let before = handle.counters().frames_in;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while handle.counters().frames_in <= before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the healthy feed stopped"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = control
        .state(HEALTHY)
        .expect("the healthy feed has a state");
    assert!(status.state.is_up(), "healthy: {status:?}");
    assert_eq!(status.restarts, 0, "healthy: {status:?}");
}

/// Shuts a library supervisor down and waits (bounded) for its run.
pub(crate) async fn stop(
    control: &SupervisorHandle,
    running: tokio::task::JoinHandle<linesman::supervisor::RunReport>,
) {
    control.shutdown();
    tokio::time::timeout(PATIENCE, running)
        .await
        .expect("the supervisor stops")
        .expect("it does not panic");
}

/// One connection of a status JSON.
pub(crate) fn connection<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["connections"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no connection {name} in {status:#}"))
}

/// A numeric field of one connection of a status JSON.
pub(crate) fn field(status: &serde_json::Value, name: &str, key: &str) -> u64 {
    connection(status, name)[key].as_u64().unwrap_or(0)
}

/// The `last_error` of one connection of a status JSON, or "".
pub(crate) fn last_error<'a>(status: &'a serde_json::Value, name: &str) -> &'a str {
    connection(status, name)["last_error"]
        .as_str()
        .unwrap_or("")
}

/// A faulty connection's YAML entry with `extra` keys (indented by four
/// spaces); quick restarts, so a test sees several, unless `extra` says
/// how it restarts.
pub(crate) fn faulty(name: &str, endpoint: &Endpoint, extra: &str) -> String {
    let restart = if extra.contains("restart:") {
        ""
    } else {
        "    restart: { backoff: { initial: 10ms, max: 100ms } }\n"
    };
    format!("  {name}:\n    endpoint: {endpoint}\n{restart}{extra}")
}

/// `VmRSS` of process `pid`, in KiB.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}
