//! The daemon under a low open-file limit (soft and hard 128) with more
//! connections than it has descriptors (300): its sockets stay within its
//! budget (the limit less the descriptors open at start, less a quarter of
//! the rest, at least 12, kept for the control plane), the control plane
//! keeps answering, the connections left out say why and what to raise, a
//! warning at start names both numbers, and SIGTERM ends it. Under a limit
//! of 100, ten connections all come up (the budget was 4). Under a limit of
//! 32 (the reserve was once counted from the limit, not from what was left
//! of it, and was used up) 100 connections leave `status` answering. Under
//! a limit too low to run, the daemon says so and what to raise.

use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{Daemon, Launch, PATIENCE};

/// The open-file limit of the daemon, soft and hard.
const LIMIT: u64 = 128;
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
    let plan = FdPlan::logged(&daemon, LIMIT).await;
    let budget = plan.sockets;
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
        e.contains("no socket left: all ")
            && e.contains(" sockets the budget allows are open")
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
    let plan = FdPlan::logged(&daemon, LOW).await;
    assert!(plan.sockets >= 60, "{plan:?}");
    let status = daemon
        .wait_status("every connection up", |status| {
            count(status, |c| c["state"] == "up") == FEW
        })
        .await;
    assert_eq!(count(&status, refused_for_fds_any), 0, "{status:#}");
    let seen = daemon.stderr_lines().join("\n");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_limit_keeps_descriptors_for_status() {
    const TINY: u64 = 32;
    const MANY: usize = 100;
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let dir = TempDir::new("fd-tiny").expect("temp dir");
    let mut yaml = String::from("connections:\n");
    for i in 0..MANY {
        yaml.push_str(&format!("  c{i:03}: {{ endpoint: {} }}\n", peer.endpoint()));
    }
    let launch = Launch {
        rust_log: Some("info"),
        open_files: Some(TINY),
        ..Launch::default()
    };
    let mut daemon = Daemon::launch(dir, &yaml, launch).await;
    let plan = FdPlan::logged(&daemon, TINY).await;
    assert_eq!(plan.reserved, 12, "the least reserve: {plan:?}");
    daemon
        .wait_status("the budget's connections up", |status| {
            count(status, |c| c["state"] == "up") == plan.sockets
        })
        .await;
    // Every status is answered while the other connections keep trying.
    for _ in 0..10 {
        let ran = daemon.cli(&["status", "-o", "json"]).await;
        assert_eq!(ran.code, 3, "{}", ran.stderr);
    }
    assert!(peer.stats().open <= plan.sockets as u64);
    daemon.signal("TERM").await;
    let (code, log) = daemon.exit().await;
    assert_eq!(code, 0, "{log}");
    assert!(
        !log.to_lowercase().contains("too many open files"),
        "nothing met EMFILE:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_the_socket_budget_of_the_daemon() {
    const TINY: u64 = 32;
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let dir = TempDir::new("fd-reload").expect("temp dir");
    let yaml = |n: usize| {
        let mut yaml = String::from("connections:\n");
        for i in 0..n {
            yaml.push_str(&format!("  c{i:03}: {{ endpoint: {} }}\n", peer.endpoint()));
        }
        yaml
    };
    let launch = Launch {
        rust_log: Some("info"),
        open_files: Some(TINY),
        ..Launch::default()
    };
    let mut daemon = Daemon::launch(dir, &yaml(1), launch).await;
    let plan = FdPlan::logged(&daemon, TINY).await;
    daemon
        .wait_status("c000 up", |status| {
            count(status, |c| c["state"] == "up") == 1
        })
        .await;
    // More connections than the budget: the reloaded spec carries the
    // daemon's budget (no `max_open_sockets` needing a restart), and the
    // supervisor holds the new connections to it.
    let many = plan.sockets + 3;
    std::fs::write(&daemon.config, yaml(many)).expect("write the new configuration");
    let reloaded = daemon.cli(&["reload"]).await;
    assert_eq!(reloaded.code, 0, "{}", reloaded.stderr);
    assert_eq!(
        reloaded.stdout.lines().count(),
        1,
        "nothing needs a restart of the daemon: {}",
        reloaded.stdout
    );
    let status = daemon
        .wait_status("the budget's connections up, the rest refused", |status| {
            count(status, |c| c["state"] == "up") == plan.sockets
                && count(status, |c| c["state"] != "up" && refused_for_fds(c))
                    == many - plan.sockets
        })
        .await;
    assert_eq!(
        count(&status, |c| c["name"] == "c000" && c["restarts"] == 0),
        1,
        "the unchanged connection kept its session: {status:#}"
    );
    assert!(peer.stats().open <= plan.sockets as u64);
    daemon.signal("TERM").await;
    let (code, log) = daemon.exit().await;
    assert_eq!(code, 0, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_too_low_to_run_is_refused_with_what_to_raise() {
    let dir = TempDir::new("fd-none").expect("temp dir");
    let launch = Launch {
        open_files: Some(14),
        ..Launch::default()
    };
    let mut daemon = Daemon::spawn(
        dir,
        "connections:\n  a: { endpoint: 'tcp://127.0.0.1:9' }\n",
        launch,
    );
    let (code, log) = daemon.exit().await;
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("the open-file limit is 14 and ")
            && log.contains("raise it (`ulimit -n`, LimitNOFILE= in systemd)"),
        "{log}"
    );
}

/// The share-out of the open-file limit that the daemon logged at start.
#[derive(Debug)]
struct FdPlan {
    sockets: usize,
    reserved: u64,
}

impl FdPlan {
    /// Waits for the daemon's `fd limit LIMIT: …` line and reads it; the
    /// parts add up to the limit.
    async fn logged(daemon: &Daemon, limit: u64) -> FdPlan {
        let prefix = format!("fd limit {limit}: up to ");
        daemon.wait_logged("the fd plan", &prefix).await;
        let lines = daemon.stderr_lines();
        let line = lines
            .iter()
            .find(|l| l.contains(&prefix))
            .expect("the plan line");
        let number = |after: &str| -> u64 {
            let at = line.find(after).expect(after) + after.len();
            line[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a number")
        };
        let sockets = number(&prefix);
        let in_use = number("open at once (");
        let reserved = number("in use at start, ");
        assert_eq!(sockets + in_use + reserved, limit, "{line}");
        assert!(in_use >= 3, "{line}");
        FdPlan {
            sockets: usize::try_from(sockets).expect("small"),
            reserved,
        }
    }
}
