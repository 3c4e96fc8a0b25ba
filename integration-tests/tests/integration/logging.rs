//! The daemon's logs as an operator meets them: a stderr that is closed
//! (`linesman run … 2>&1 | head -1`) neither stops the supervision nor
//! deafens the daemon to SIGTERM; one line per event, whose fields do not
//! grow with the restarts, in both formats; the JSON fields are stable; no
//! colours when stderr is not a terminal.
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
use tokio::task::JoinHandle;

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
    /// `GET /metrics`, over a raw connection to the control socket.
    fn metrics(&self) -> String {
        use std::io::{Read, Write};
        let mut stream =
            std::os::unix::net::UnixStream::connect(&self.socket).expect("the daemon answers");
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("a read timeout");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send the request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        answer
    }

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

/// Reads every line of `stderr` until it ends, on a task of its own, so the
/// pipe never fills.
fn collect(stderr: ChildStderr) -> JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    })
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
    // The lines it could not write are counted where an operator looks.
    let metrics = daemon.metrics();
    let dropped: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("linesman_log_lines_dropped_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no dropped log lines in the metrics:\n{metrics}"));
    assert!(
        dropped > 0,
        "the lines written to the closed pipe are counted"
    );

    assert_eq!(daemon.terminate().await, 0, "SIGTERM ends it cleanly");
}

/// Runs a daemon against a flapping peer for at least 20 restarts, logging
/// at debug, in `format`; returns its stderr lines and the peer's endpoint.
async fn lines_of_a_flapping_run(label: &str, format: &str) -> (Vec<String>, String) {
    let peer = flapping().await;
    let endpoint = peer.endpoint().to_string();
    let (mut daemon, stderr) = Logged::spawn(
        label,
        &yaml(&endpoint),
        &["--log-format", format],
        "info,linesman_connection=debug,linesman_supervisor=debug",
        // Colours are what a terminal gets; stderr is a pipe here.
        |command| {
            command.env_remove("NO_COLOR");
        },
    );
    let lines = collect(stderr);
    daemon.wait_answering().await;
    daemon.wait_more_restarts(20).await;
    assert_eq!(daemon.terminate().await, 0, "SIGTERM ends it cleanly");
    let lines = tokio::time::timeout(PATIENCE, lines)
        .await
        .expect("stderr ends with the daemon")
        .expect("the reader does not panic");
    (lines, endpoint)
}

/// Lines with the field `name` more than once: `name=` (pretty) or
/// `"name"` (JSON) not preceded by a letter or `_` (`next_attempt=` is
/// another field).
fn repeated<'a>(lines: &'a [String], name: &str) -> Vec<&'a String> {
    let pretty = format!("{name}=");
    let json = format!("\"{name}\"");
    let count = |line: &str, needle: &str| {
        line.match_indices(needle)
            .filter(|(at, _)| {
                !line[..*at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
            .count()
    };
    lines
        .iter()
        .filter(|line| count(line, &pretty) > 1 || count(line, &json) > 1)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pretty_lines_name_the_attempt_once_and_have_no_colours() {
    let (lines, endpoint) = lines_of_a_flapping_run("log-pretty", "pretty").await;
    let text = lines.join("\n");
    assert!(
        repeated(&lines, "attempt").is_empty(),
        "a line names the attempt more than once:\n{:#?}",
        repeated(&lines, "attempt")
    );
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes on a pipe:\n{text}"
    );
    let ups: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains(": up attempt="))
        .collect();
    assert!(ups.len() >= 2, "`up` lines carry their attempt:\n{text}");
    let span = format!("connection{{conn=db endpoint={endpoint}}}");
    assert!(
        ups.iter().all(|line| line.contains(&span)),
        "`up` lines are in the connection's span:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_name_the_attempt_once_with_stable_field_names() {
    let (lines, endpoint) = lines_of_a_flapping_run("log-json", "json").await;
    assert!(
        repeated(&lines, "attempt").is_empty(),
        "a line names the attempt more than once:\n{:#?}",
        repeated(&lines, "attempt")
    );
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let ups: Vec<&serde_json::Value> = parsed
        .iter()
        .filter(|line| line["fields"]["message"] == "up")
        .collect();
    assert!(ups.len() >= 2, "`up` lines:\n{}", lines.join("\n"));
    for up in ups {
        assert!(up["timestamp"].is_string(), "timestamp: {up}");
        // The first `up` at info; those of a connection that keeps
        // flapping at debug (the disconnect summary counts them).
        assert!(
            matches!(up["level"].as_str(), Some("INFO" | "DEBUG")),
            "level: {up}"
        );
        assert!(up["target"].is_string(), "target: {up}");
        assert!(up["fields"]["attempt"].is_u64(), "fields.attempt: {up}");
        assert_eq!(up["span"]["name"], "connection", "{up}");
        assert_eq!(up["span"]["conn"], "db", "{up}");
        assert_eq!(up["span"]["endpoint"], endpoint.as_str(), "{up}");
    }
}
