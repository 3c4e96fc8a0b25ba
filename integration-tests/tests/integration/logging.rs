//! The daemon's logs as an operator meets them: a stderr that is closed
//! (`linesman run … 2>&1 | head -1`) neither stops the supervision nor
//! deafens the daemon to SIGTERM; one line per event, whose fields do not
//! grow with the restarts, in both formats; the JSON fields are stable; no
//! colours when stderr is not a terminal; no control character that came
//! in a logged value reaches the terminal or journal.
//!
//! Every daemon here supervises one connection to a peer that drops each
//! connection 20 ms after accepting it, with a backoff of a few
//! milliseconds: it restarts many times a second.

use std::time::Duration;

use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cli_harness::{Daemon, Launch, PATIENCE, Stderr};

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

/// `db`'s restarts in a status JSON.
fn restarts(status: &serde_json::Value) -> u64 {
    status["connections"][0]["restarts"]
        .as_u64()
        .expect("a restart count")
}

/// Waits until `db` has restarted `more` times after the first look.
async fn wait_more_restarts(daemon: &Daemon, more: u64) {
    let first = restarts(&daemon.status().await);
    let what = format!("{more} more restarts than {first}: db is no longer supervised");
    daemon
        .wait_status(&what, |status| restarts(status) >= first + more)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stderr_neither_stops_supervision_nor_deafens_the_daemon() {
    let peer = flapping().await;
    let dir = TempDir::new("log-closed-stderr").expect("temp dir");
    let launch = Launch {
        rust_log: Some("info"),
        stderr: Stderr::Pipe,
        ..Launch::default()
    };
    let mut daemon = Daemon::spawn(dir, &yaml(&peer.endpoint().to_string()), launch);
    // `2>&1 | head -1`: one line is read, then the pipe's read end closes.
    let mut lines = BufReader::new(daemon.take_stderr()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("a first log line")
        .expect("stderr reads");
    assert!(first.is_some(), "the daemon logs before it serves");
    drop(lines);

    daemon.serving().await;
    // Every restart logs (at info): each is a write to the closed pipe.
    wait_more_restarts(&daemon, 20).await;
    let accepted = peer.stats().accepted;
    tokio::time::timeout(PATIENCE, peer.wait_connections(accepted + 5))
        .await
        .expect("the peer keeps seeing new connections");
    // The lines it could not write are counted where an operator looks.
    let dropped = daemon.metric("linesman_log_lines_dropped_total");
    assert!(
        dropped > 0,
        "the lines written to the closed pipe are counted"
    );

    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0, "SIGTERM ends it cleanly");
}

/// Runs a daemon against a flapping peer for at least 20 restarts, logging
/// at debug, in `format`; returns its stderr lines and the peer's endpoint.
async fn lines_of_a_flapping_run(label: &str, format: &str) -> (Vec<String>, String) {
    let peer = flapping().await;
    let endpoint = peer.endpoint().to_string();
    let launch = Launch {
        args: &["--log-format", format],
        rust_log: Some("info,linesman_connection=debug,linesman_supervisor=debug"),
        // Colours are what a terminal gets; stderr is a pipe here.
        env: &[("NO_COLOR", None)],
        ..Launch::default()
    };
    let dir = TempDir::new(label).expect("temp dir");
    let mut daemon = Daemon::launch(dir, &yaml(&endpoint), launch).await;
    wait_more_restarts(&daemon, 20).await;
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0, "SIGTERM ends it cleanly");
    (daemon.stderr_lines(), endpoint)
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

/// A thousand connections to a port that refuses, retried every 5 ms.
fn crowd(connections: usize) -> String {
    let port = crate::cli_harness::refused_port();
    let mut yaml = String::from(
        "defaults:\n  restart:\n    backoff: { initial: 5ms, max: 5ms, multiplier: 1.0, jitter: 0.0 }\n    intensity: { max_restarts: 1000000, window: 1s }\nconnections:\n",
    );
    for i in 0..connections {
        yaml.push_str(&format!(
            "  c{i:04}: {{ endpoint: 'tcp://127.0.0.1:{port}' }}\n"
        ));
    }
    yaml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_failing_connections_writes_a_bounded_number_of_lines() {
    const CONNECTIONS: usize = 1000;
    const BOUND: usize = 300;
    let dir = TempDir::new("log-crowd").expect("temp dir");
    let launch = Launch {
        rust_log: Some("info"),
        ..Launch::default()
    };
    let mut daemon = Daemon::launch(dir, &crowd(CONNECTIONS), launch).await;
    // Until the process-wide cap says what it held back (or, without a
    // cap, until the failure lines pass the bound).
    let is_failure = |l: &String| l.contains("connect failed") || l.contains("still failing");
    let is_summary = |l: &String| l.contains("similar lines suppressed across");
    crate::cli_harness::eventually("the log cap's summary, or a flood", || {
        let lines = daemon.stderr_lines();
        lines.iter().any(is_summary) || lines.iter().filter(|l| is_failure(l)).count() > BOUND
    })
    .await;
    let lines = daemon.stderr_lines();
    let first_summary = lines.iter().position(is_summary).unwrap_or(lines.len());
    let failures = lines[..first_summary]
        .iter()
        .filter(|l| is_failure(l))
        .count();
    // Each connection's first failure was a line of its own before: 1,000.
    // Now the cap's burst (200) and its refill until the summary.
    assert!(
        failures <= BOUND,
        "{failures} failure lines before the first summary"
    );
    assert!(
        lines[first_summary].contains("connections"),
        "{}",
        lines[first_summary]
    );
    daemon.signal("TERM").await;
    let (code, log) = daemon.exit().await;
    assert_eq!(code, 0, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escape_sequence_in_a_logged_value_is_written_out() {
    let peer = flapping().await;
    // The refused filter is logged with its value: a window title, a bell
    // and a newline that would forge a second line.
    let launch = Launch {
        rust_log: Some("\u{1b}]0;owned\u{7}\nERROR forged"),
        ..Launch::default()
    };
    let dir = TempDir::new("log-inert").expect("temp dir");
    let mut daemon = Daemon::launch(dir, &yaml(&peer.endpoint().to_string()), launch).await;
    daemon
        .wait_logged(
            "the refused RUST_LOG is logged",
            "RUST_LOG is not a valid filter",
        )
        .await;
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0, "SIGTERM ends it cleanly");
    let lines = daemon.stderr_lines();
    let warning = lines
        .iter()
        .find(|l| l.contains("RUST_LOG is not a valid filter"))
        .expect("the warning");
    assert!(
        warning.contains("\\u{1b}]0;owned\\u{7}\\nERROR forged"),
        "{warning}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("ERROR forged")),
        "a line was forged: {lines:#?}"
    );
    for line in &lines {
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
}
