//! The daemon under a low open-file limit (soft and hard 128) with more
//! connections than it has descriptors (300): its sockets stay within its
//! budget (the limit less a quarter of it, at most 96), the control plane
//! keeps answering, the connections left out say why and what to raise, a
//! warning at start names both numbers, and SIGTERM ends it. And under a
//! limit of 100, ten connections all come up (the budget was 4).

use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{Daemon, Launch, PATIENCE};

/// The open-file limit of the daemon, soft and hard.
const LIMIT: u64 = 128;
/// What the daemon keeps out of its socket budget: a quarter of a limit
/// this low.
const RESERVED: u64 = LIMIT / 4;
/// More connections than descriptors.
const CONNECTIONS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_connections_than_descriptors_leave_the_control_plane_answering() {
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let dir = TempDir::new("fd-limit").expect("temp dir");
    let mut yaml = String::from("connections:\n");
    for i in 0..CONNECTIONS {
        yaml.push_str(&format!("  c{i:03}: {{ endpoint: {} }}\n", peer.endpoint()));
    }
    let launch = Launch {
        rust_log: Some("info"),
        open_files: Some(LIMIT),
        ..Launch::default()
    };
    // Not waiting for it to serve: the loop below polls from the start and
    // takes a status that fails as "not settled yet". (Polling at once when
    // it serves can catch a connection still waiting for its first attempt.)
    let mut daemon = Daemon::spawn(dir, &yaml, launch);

    let budget = usize::try_from(LIMIT - RESERVED).expect("small");
    let status_args = ["status", "-o", "json"];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let status = loop {
        // Each call is bounded (`cli` fails the test after PATIENCE).
        let ran = daemon.cli(&status_args).await;
        if ran.code == 0 || ran.code == 3 {
            let status: serde_json::Value =
                serde_json::from_str(&ran.stdout).expect("status -o json prints JSON");
            // Settled: every connection either holds a socket or has been
            // refused one (a connection that has not tried yet is neither).
            if count(&status, |c| c["state"] == "up") == budget
                && count(&status, |c| c["state"] != "up" && refused_for_fds(c))
                    == CONNECTIONS - budget
            {
                break status;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the daemon never settled at {budget} up; last: {} {}",
            ran.code,
            ran.stderr
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // Every connection not up was refused a socket by the budget, with the
    // reason and what to raise; none met EMFILE.
    // The connections that got a socket never noticed the others.
    assert_eq!(
        count(&status, |c| c["state"] == "up" && c["restarts"] == 0),
        budget,
        "{status:#}"
    );
    let left_out = CONNECTIONS - budget;
    assert_eq!(
        count(&status, |c| c["state"] != "up" && refused_for_fds(c)),
        left_out,
        "{status:#}"
    );
    let peer_open = peer.stats().open;
    assert!(
        peer_open <= budget as u64,
        "{peer_open} sockets open, over the budget of {budget}"
    );
    for _ in 0..5 {
        let ran = daemon.cli(&status_args).await;
        assert!(
            ran.code == 0 || ran.code == 3,
            "status failed: {}",
            ran.stderr
        );
    }
    let seen = daemon.stderr_lines().join("\n");
    assert!(
        seen.contains(&format!(
            "fd limit {LIMIT}: up to {budget} connections open at once"
        )),
        "{seen}"
    );
    let warned = seen
        .lines()
        .filter(|l| {
            l.contains(&format!(
                "only {budget} of the {CONNECTIONS} connections can have a socket open at once"
            )) && l.contains("raise the open-file limit")
        })
        .count();
    assert_eq!(warned, 1, "one warning at start:\n{seen}");

    daemon.signal("TERM").await;
    let (code, log) = daemon.exit().await;
    assert_eq!(code, 0, "{log}");
}

/// How many connections of a status JSON satisfy `what`.
fn count(status: &serde_json::Value, what: impl Fn(&serde_json::Value) -> bool) -> usize {
    status["connections"]
        .as_array()
        .map_or(0, |all| all.iter().filter(|c| what(c)).count())
}

/// Whether a connection's last error is the socket budget's refusal.
fn refused_for_fds(connection: &serde_json::Value) -> bool {
    connection["last_error"].as_str().is_some_and(|e| {
        e.contains("no socket left: all 96 sockets the budget allows are open")
            && e.contains("raise the open-file limit (LimitNOFILE= in systemd, `ulimit -n`)")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_limit_still_leaves_sockets_for_connections() {
    const LOW: u64 = 100;
    const FEW: usize = 10;
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let dir = TempDir::new("fd-low").expect("temp dir");
    let mut yaml = String::from("connections:\n");
    for i in 0..FEW {
        yaml.push_str(&format!("  c{i:02}: {{ endpoint: {} }}\n", peer.endpoint()));
    }
    let launch = Launch {
        rust_log: Some("info"),
        open_files: Some(LOW),
        ..Launch::default()
    };
    let mut daemon = Daemon::launch(dir, &yaml, launch).await;
    let status = daemon
        .wait_status("every connection up", |status| {
            count(status, |c| c["state"] == "up") == FEW
        })
        .await;
    assert_eq!(count(&status, refused_for_fds_any), 0, "{status:#}");
    let seen = daemon.stderr_lines().join("\n");
    assert!(
        seen.contains(&format!(
            "fd limit {LOW}: up to 75 connections open at once"
        )),
        "{seen}"
    );
    assert!(!seen.contains("can have a socket open at once"), "{seen}");
    daemon.signal("TERM").await;
    let (code, log) = daemon.exit().await;
    assert_eq!(code, 0, "{log}");
}

/// Whether a connection was ever refused a socket by the budget.
fn refused_for_fds_any(connection: &serde_json::Value) -> bool {
    connection["last_error"]
        .as_str()
        .is_some_and(|e| e.contains("no socket left"))
}
