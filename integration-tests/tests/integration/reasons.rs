//! Honest reasons and counters, as an operator reads them from the real
//! daemon: a session ended because its dependency went down names it, one
//! ended by the shutdown says "shutdown", `restarts` counts restarts after a
//! session that was up (connect failures are `connect_failures`), a session
//! that was up resets the backoff, and a failed connection names its last
//! cause.

use std::time::Duration;

use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{Daemon, Launch, linesman, state};
use crate::faults::{connection, faulty, field, last_error};

async fn echo() -> Peer {
    Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_because_its_dependency_went_down_names_it() {
    let (quotes, orders) = (echo().await, echo().await);
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n  orders: {{ endpoint: {}, depends_on: [quotes] }}\n",
        quotes.endpoint(),
        orders.endpoint()
    );
    let daemon = Daemon::start(TempDir::new("reason-dep").expect("temp dir"), &yaml).await;
    daemon
        .wait_status("both up", |s| {
            state(s, "quotes") == "up" && state(s, "orders") == "up"
        })
        .await;
    let stop = daemon.cli(&["stop", "quotes"]).await;
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    let status = daemon
        .wait_status("orders waits on quotes", |s| {
            state(s, "orders") == "waiting"
        })
        .await;
    assert_eq!(
        last_error(&status, "orders"),
        "dependency `quotes` went down",
        "{status:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_by_the_shutdown_says_shutdown() {
    let quotes = echo().await;
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n",
        quotes.endpoint()
    );
    let mut daemon = Daemon::launch(
        TempDir::new("reason-shutdown").expect("temp dir"),
        &yaml,
        Launch {
            rust_log: Some("info"),
            ..Launch::default()
        },
    )
    .await;
    daemon
        .wait_status("quotes up", |s| state(s, "quotes") == "up")
        .await;
    daemon.signal("TERM").await;
    let (code, log) = daemon.exit().await;
    assert_eq!(code, 0, "{log}");
    let down: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("quotes") && l.contains(" down"))
        .collect();
    assert!(
        down.iter().any(|l| l.contains("reason=shutdown")),
        "the session's end says shutdown: {down:#?}\n{log}"
    );
    assert!(
        !log.contains("stopped on request"),
        "nobody asked for a stop: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_failures_before_the_first_up_are_not_restarts() {
    let (late, daemon, status) = late_and_up(
        "reason-count",
        "    restart: { backoff: { initial: 20ms, max: 40ms } }\n",
    )
    .await;
    let failures = field(&status, "late", "connect_failures");
    assert!(failures >= 2, "it was refused a few times: {status:#}");
    assert_eq!(
        field(&status, "late", "restarts"),
        0,
        "no session was up before: no restart: {status:#}"
    );
    late.drop_all().await;
    let status = daemon
        .wait_status("late up again", |s| {
            state(s, "late") == "up" && field(s, "late", "restarts") == 1
        })
        .await;
    assert_eq!(
        field(&status, "late", "connect_failures"),
        failures,
        "{status:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_after_a_session_was_up_waits_the_initial_backoff_not_the_grown_one() {
    let (late, daemon, status) = late_and_up(
        "reason-reset",
        "    restart: { backoff: { initial: 20ms, max: 500ms, multiplier: 2.0, jitter: 0.0 }, reset_after: 1h }\n",
    )
    .await;
    let refused = field(&status, "late", "connect_failures");
    assert!(refused >= 2, "the backoff grew first: {status:#}");
    let mut watch = daemon.follow(&["status", "--watch"]);
    // The replay of the one connection first, then the drop.
    let replayed = watch.line().await;
    assert!(replayed.ends_with("(current)"), "{replayed}");
    late.drop_all().await;
    let backoff = loop {
        let line = watch.line().await;
        if line.contains("before attempt") {
            break line;
        }
    };
    watch.stop().await;
    // Up for less than reset_after, but up: the refusals before it no
    // longer count, so the restart waits `initial` (it waited 20ms × 2^n
    // after n refusals before).
    assert!(
        backoff.contains("backoff 20ms before attempt 2"),
        "{backoff} (after {refused} refusals)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_connection_names_the_cause_of_its_last_session_end() {
    let flapping = Peer::start(Listen::tcp(), Behavior::flap(Duration::from_millis(20)))
        .await
        .expect("the flapping peer starts");
    let yaml = format!(
        "connections:\n{}",
        faulty(
            "flappy",
            &flapping.endpoint(),
            "    restart: { backoff: { initial: 10ms, max: 50ms }, intensity: { max_restarts: 2, window: 1m } }\n"
        )
    );
    let daemon = Daemon::start(TempDir::new("reason-failed").expect("temp dir"), &yaml).await;
    let status = daemon
        .wait_status("the flapping connection failed", |s| {
            state(s, "flappy") == "failed"
        })
        .await;
    let last = last_error(&status, "flappy");
    assert!(!last.is_empty(), "{status:#}");
    assert_eq!(
        connection(&status, "flappy")["detail"],
        format!("gave up after 2 restarts within 1m; last: {last}").as_str(),
        "{status:#}"
    );
    let table = daemon.cli(&["status"]).await;
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("flappy"))
        .unwrap_or_else(|| panic!("a row for flappy: {}", table.stdout));
    assert!(
        row.contains("gave up after 2 restarts within 1m; last: "),
        "{row}"
    );
}

/// A daemon whose one connection, `late`, is refused by its peer for 3 s
/// (with `restart` settings), once it is up: the peer, the daemon and the
/// status then.
async fn late_and_up(tag: &str, restart: &str) -> (Peer, Daemon, serde_json::Value) {
    // Built before the peer's refusing period starts to run out.
    linesman();
    let late = Peer::start(Listen::tcp(), Behavior::refuse(Duration::from_secs(3)))
        .await
        .expect("the late peer starts");
    let yaml = format!(
        "connections:\n{}",
        faulty("late", &late.endpoint(), restart)
    );
    let daemon = Daemon::start(TempDir::new(tag).expect("temp dir"), &yaml).await;
    let status = daemon
        .wait_status("late up", |s| state(s, "late") == "up")
        .await;
    (late, daemon, status)
}
