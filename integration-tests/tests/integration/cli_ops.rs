//! The CLI in scripts: `wait` started before the daemon, `start`/`stop`/
//! `restart` on several names or a selector blocking until the result (or
//! exit 4), `--no-block`, `status` with names and selectors, one exit code
//! (6) for an unknown name in every command, and `graph -c FILE`.

use std::process::Stdio;
use std::time::Duration;

use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{Daemon, Launch, PATIENCE, command, path, refused_port, run, state};

async fn echo() -> Peer {
    Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts")
}

/// `quotes` and `orders` of kind `feed` (tag `eu` on quotes), `audit` of
/// kind `log`: all up.
async fn three(label: &str) -> (Daemon, [Peer; 3]) {
    let peers = [echo().await, echo().await, echo().await];
    let yaml = format!(
        "connections:\n\
         \x20 quotes: {{ endpoint: {}, kind: feed, tags: [eu] }}\n\
         \x20 orders: {{ endpoint: {}, kind: feed }}\n\
         \x20 audit: {{ endpoint: {}, kind: log }}\n",
        peers[0].endpoint(),
        peers[1].endpoint(),
        peers[2].endpoint()
    );
    let daemon = Daemon::start(TempDir::new(label).expect("temp dir"), &yaml).await;
    daemon
        .wait_status("all up", |s| {
            ["quotes", "orders", "audit"]
                .iter()
                .all(|n| state(s, n) == "up")
        })
        .await;
    (daemon, peers)
}

/// The `detail` of connection `name` in a status JSON.
fn detail<'a>(status: &'a serde_json::Value, name: &str) -> &'a str {
    status["connections"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == name))
        .and_then(|c| c["detail"].as_str())
        .unwrap_or("absent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_started_before_the_daemon_sees_it_come_up() {
    let quotes = echo().await;
    let dir = TempDir::new("cli-ops-early").expect("temp dir");
    let socket = dir.join("control.sock");
    let mut wait = command(&[
        "wait",
        "--up",
        "quotes",
        "--timeout",
        "20s",
        "--socket",
        path(&socket),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("linesman wait starts");
    // It found no daemon and keeps trying (before, it exited 1 at once).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        wait.try_wait().expect("poll the child").is_none(),
        "wait ended before any daemon existed"
    );
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n",
        quotes.endpoint()
    );
    let _daemon = Daemon::launch(dir, &yaml, Launch::default()).await;
    let out = tokio::time::timeout(PATIENCE, wait.wait_with_output())
        .await
        .expect("wait ends once the daemon is up")
        .expect("wait for the child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "up: quotes\n");
}

#[tokio::test]
async fn wait_for_a_daemon_that_never_appears_times_out_with_4_naming_the_socket() {
    let dir = TempDir::new("cli-ops-never").expect("temp dir");
    let socket = dir.join("nobody.sock");
    let ran = run(&[
        "wait",
        "--up",
        "x",
        "--timeout",
        "1s",
        "--socket",
        path(&socket),
    ])
    .await;
    assert_eq!(ran.code, 4, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("no daemon appeared") && ran.stderr.contains(path(&socket)),
        "{}",
        ran.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_two_names_returns_once_both_are_stopped_and_start_once_both_are_up() {
    let (daemon, peers) = three("cli-ops-stop").await;
    let stop = daemon.cli(&["stop", "quotes", "orders"]).await;
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    assert_eq!(stop.stdout, "quotes: stopped\norders: stopped\n");
    // Right after: no polling.
    let status = daemon.status().await;
    for name in ["quotes", "orders"] {
        assert_eq!(state(&status, name), "stopped", "{status:#}");
        assert_ne!(detail(&status, name), "stopping", "{status:#}");
    }
    assert_eq!(state(&status, "audit"), "up");

    let start = daemon.cli(&["start", "quotes", "orders"]).await;
    assert_eq!(start.code, 0, "{}", start.stderr);
    assert_eq!(start.stdout, "quotes: up\norders: up\n");
    let status = daemon.cli(&["status", "quotes", "orders"]).await;
    assert_eq!(status.code, 0, "both up right after: {}", status.stdout);
    for peer in &peers[..2] {
        tokio::time::timeout(PATIENCE, peer.wait_connections(2))
            .await
            .expect("one connection before the stop, one after the start");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_by_kind_reconnects_each_of_that_kind_only() {
    let (daemon, [quotes, orders, audit]) = three("cli-ops-kind").await;
    let restart = daemon.cli(&["restart", "--kind", "feed"]).await;
    assert_eq!(restart.code, 0, "{}", restart.stderr);
    assert_eq!(restart.stdout, "quotes: up again\norders: up again\n");
    for peer in [&quotes, &orders] {
        tokio::time::timeout(PATIENCE, peer.wait_connections(2))
            .await
            .expect("a new session for each feed");
    }
    let status = daemon
        .cli(&["status", "--kind", "feed", "-o", "json"])
        .await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    let names: Vec<&str> = json["connections"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["quotes", "orders"]);
    assert_eq!(audit.stats().accepted, 1, "audit is not a feed");

    let tagged = daemon.cli(&["status", "--tag", "eu"]).await;
    assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    assert!(
        tagged.stdout.contains("quotes") && !tagged.stdout.contains("orders"),
        "{}",
        tagged.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_and_no_block() {
    let (daemon, _peers) = three("cli-ops-all").await;
    let stop = daemon.cli(&["stop", "--all"]).await;
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    let status = daemon.status().await;
    for name in ["quotes", "orders", "audit"] {
        assert_eq!(state(&status, name), "stopped", "{status:#}");
    }
    let start = daemon.cli(&["start", "--all", "--no-block"]).await;
    assert_eq!(start.code, 0, "{}", start.stderr);
    assert_eq!(
        start.stdout,
        "quotes: start accepted\norders: start accepted\naudit: start accepted\n"
    );
    let up = daemon
        .cli(&[
            "wait",
            "--up",
            "quotes",
            "orders",
            "audit",
            "--timeout",
            "20s",
        ])
        .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_not_reached_in_time_is_exit_4_naming_the_connection() {
    let yaml = format!(
        "connections:\n  dead: {{ endpoint: 'tcp://127.0.0.1:{}', restart: {{ backoff: {{ initial: 1m, max: 1m, jitter: 0.0 }} }} }}\n",
        refused_port()
    );
    let daemon = Daemon::start(TempDir::new("cli-ops-late").expect("temp dir"), &yaml).await;
    daemon
        .wait_status("in backoff", |s| state(s, "dead") == "backoff")
        .await;
    let start = daemon.cli(&["restart", "dead", "--timeout", "1s"]).await;
    assert_eq!(start.code, 4, "{}", start.stderr);
    assert!(
        start
            .stderr
            .contains("timed out after 1s waiting for `dead` to be up again")
            && start.stderr.contains("`dead` is backoff"),
        "{}",
        start.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_name_is_exit_6_in_every_command_and_nothing_is_done() {
    let (daemon, _peers) = three("cli-ops-unknown").await;
    for args in [
        ["stop", "quotes", "qoutes"].as_slice(),
        ["start", "qoutes"].as_slice(),
        ["restart", "qoutes"].as_slice(),
        ["status", "qoutes"].as_slice(),
        ["wait", "--up", "qoutes", "--timeout", "1s"].as_slice(),
    ] {
        let ran = daemon.cli(args).await;
        assert_eq!(ran.code, 6, "{args:?}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("`qoutes` (did you mean `quotes`?)"),
            "{args:?}: {}",
            ran.stderr
        );
    }
    let none = daemon.cli(&["stop", "--kind", "db"]).await;
    assert_eq!(none.code, 6, "{}", none.stderr);
    assert!(none.stderr.contains("kind `db`"), "{}", none.stderr);
    let status = daemon.status().await;
    assert_eq!(state(&status, "quotes"), "up", "nothing was stopped");
}

#[tokio::test]
async fn graph_with_c_equals_graph_with_the_file() {
    let dir = TempDir::new("cli-ops-graph").expect("temp dir");
    let file = dir.join("g.yaml");
    std::fs::write(
        &file,
        "connections:\n  a: { endpoint: 'tcp://127.0.0.1:1' }\n  b: { endpoint: 'tcp://127.0.0.1:2', depends_on: [a] }\n",
    )
    .expect("write the file");
    let plain = run(&["graph", path(&file)]).await;
    let flagged = run(&["graph", "-c", path(&file)]).await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(flagged.code, 0, "{}", flagged.stderr);
    assert_eq!(plain.stdout, flagged.stdout);
    assert!(plain.stdout.contains("\"a\" -> \"b\""), "{}", plain.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_watch_follows_only_the_selected_connections() {
    let (daemon, _peers) = three("ops-watch-select").await;
    let mut watch = daemon.follow(&["status", "--watch", "--kind", "log"]);
    let replay = watch.line().await;
    assert!(
        replay.contains("audit") && replay.ends_with("(current)"),
        "{replay}"
    );
    // A restart of a feed is not shown; one of audit is.
    for name in ["quotes", "audit"] {
        let restarted = daemon.cli(&["restart", name]).await;
        assert_eq!(restarted.code, 0, "{}", restarted.stderr);
    }
    let mut seen = Vec::new();
    loop {
        let line = watch.line().await;
        let done = line.contains("audit") && line.contains(" up ");
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(
        seen.iter().all(|l| l.contains("audit")),
        "only audit's events: {seen:#?}"
    );
    watch.stop().await;
    let unknown = daemon.cli(&["status", "--watch", "nosuch"]).await;
    assert_eq!(unknown.code, 6, "{}", unknown.stderr);
}
