//! The daemon's logs as an operator meets them: a stderr that is closed
//! (`linesman run … 2>&1 | head -1`) neither stops the supervision nor
//! deafens the daemon to SIGTERM.
//!
//! Every daemon here supervises one connection to a peer that drops each
//! connection 20 ms after accepting it, with a backoff of a few
//! milliseconds: it restarts many times a second.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

use crate::cli_harness::{PATIENCE, command, path, run};

/// A peer that drops every connection 20 ms after accepting it.
async fn flapping() -> Peer {
    Peer::start(Listen::tcp(), Behavior::flap(Duration::from_millis(20)))
        .await
        .expect("a flapping peer starts")
}

/// One connection `db` to `endpoint`, restarted within milliseconds, never
/// given up on.
fn yaml(endpoint: &str) -> String {
    format!(
        "connections:\n  db:\n    endpoint: {endpoint}\n    restart:\n      backoff: {{ initial: 5ms, max: 20ms, jitter: 0.0 }}\n      intensity: {{ max_restarts: 1000000, window: 1s }}\n"
    )
}

/// A `linesman run` child whose stderr the test handles itself.
struct Logged {
    _dir: TempDir,
    socket: PathBuf,
    child: Child,
}

impl Logged {
    /// Starts `linesman run` on `yaml` with `RUST_LOG=rust_log` and the
    /// extra `args`; `tweak` adjusts the command (environment) first.
    /// Returns the daemon and the read end of its stderr.
    fn spawn(
        label: &str,
        yaml: &str,
        args: &[&str],
        rust_log: &str,
        tweak: impl FnOnce(&mut Command),
    ) -> (Logged, ChildStderr) {
        let dir = TempDir::new(label).expect("temp dir");
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml).expect("write the configuration");
        let socket = dir.join("control.sock");
        let mut all = vec!["run", "-c", path(&config), "--socket", path(&socket)];
        all.extend_from_slice(args);
        let mut command = command(&all);
        command
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        tweak(&mut command);
        let mut child = command.spawn().expect("linesman run starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let daemon = Logged {
            _dir: dir,
            socket,
            child,
        };
        (daemon, stderr)
    }

    async fn wait_answering(&mut self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("linesman run exited with {status} before serving");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "linesman run never served {}",
                self.socket.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `db`'s restarts, as `linesman status -o json` says.
    async fn restarts(&mut self) -> u64 {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("linesman run exited with {status}");
        }
        let ran = run(&["status", "-o", "json", "--socket", path(&self.socket)]).await;
        assert!(
            ran.code == 0 || ran.code == 3,
            "status failed ({}): {}",
            ran.code,
            ran.stderr
        );
        let status: serde_json::Value =
            serde_json::from_str(&ran.stdout).expect("status -o json prints JSON");
        status["connections"][0]["restarts"]
            .as_u64()
            .expect("a restart count")
    }

    /// Waits until `db` has restarted `more` times after the first look.
    async fn wait_more_restarts(&mut self, more: u64) {
        let first = self.restarts().await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let now = self.restarts().await;
            if now >= first + more {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "db is no longer supervised: {now} restarts, {first} at first"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Sends SIGTERM and returns the exit code.
    async fn terminate(&mut self) -> i32 {
        let pid = self.child.id().expect("the daemon is running");
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the daemon ends on SIGTERM")
            .expect("wait for the daemon");
        status.code().unwrap_or(-1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stderr_neither_stops_supervision_nor_deafens_the_daemon() {
    let peer = flapping().await;
    let (mut daemon, stderr) = Logged::spawn(
        "log-closed-stderr",
        &yaml(&peer.endpoint().to_string()),
        &[],
        "info",
        |_| {},
    );
    // `2>&1 | head -1`: one line is read, then the pipe's read end closes.
    let mut lines = BufReader::new(stderr).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("a first log line")
        .expect("stderr reads");
    assert!(first.is_some(), "the daemon logs before it serves");
    drop(lines);

    daemon.wait_answering().await;
    // Every restart logs (at info): each is a write to the closed pipe.
    daemon.wait_more_restarts(20).await;
    let accepted = peer.stats().accepted;
    tokio::time::timeout(PATIENCE, peer.wait_connections(accepted + 5))
        .await
        .expect("the peer keeps seeing new connections");

    assert_eq!(daemon.terminate().await, 0, "SIGTERM ends it cleanly");
}
