//! `linesman run` as an operator meets it: start/stop/restart through the
//! CLI, `status --watch` seeing an event, the control socket's mode, a
//! second daemon refused, a stale socket replaced, and SIGTERM/SIGINT
//! ending it with exit 0 and the socket removed.

use std::os::unix::fs::PermissionsExt;

use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{Daemon, Launch, PATIENCE, path, run, state};

async fn echo() -> Peer {
    Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts")
}

/// Two independent connections (stopping one leaves the daemon something
/// to run), both up.
async fn two(label: &str) -> (Daemon, Peer, Peer) {
    let quotes = echo().await;
    let orders = echo().await;
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {}, kind: feed }}\n  orders: {{ endpoint: {}, kind: feed }}\n",
        quotes.endpoint(),
        orders.endpoint()
    );
    let daemon = Daemon::start(TempDir::new(label).expect("temp dir"), &yaml).await;
    daemon
        .wait_status("both up", |s| {
            state(s, "quotes") == "up" && state(s, "orders") == "up"
        })
        .await;
    (daemon, quotes, orders)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_start_and_restart_reach_the_connection() {
    let (daemon, quotes, _orders) = two("cli-actions").await;

    let stop = daemon.cli(&["stop", "quotes"]).await;
    assert_eq!(
        (stop.code, stop.stdout.as_str()),
        (0, "quotes: stopped\n"),
        "{}",
        stop.stderr
    );
    daemon
        .wait_status("quotes stopped", |s| state(s, "quotes") == "stopped")
        .await;
    tokio::time::timeout(PATIENCE, quotes.wait_open(0))
        .await
        .expect("the peer sees its connection closed");
    let status = daemon.cli(&["status"]).await;
    assert_eq!(status.code, 3, "a stopped connection is not up");

    let start = daemon.cli(&["start", "quotes"]).await;
    assert_eq!(start.code, 0, "{}", start.stderr);
    let up = daemon
        .cli(&["wait", "--up", "quotes", "--timeout", "10s"])
        .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    // Up on the client's side can come before the peer's accept loop has
    // counted the connection: wait for the count, then check it.
    let accepted = tokio::time::timeout(PATIENCE, quotes.wait_connections(2))
        .await
        .expect("the peer accepts the new connection")
        .accepted;
    assert_eq!(
        accepted, 2,
        "one connection before the stop, one after the start"
    );

    let restart = daemon.cli(&["restart", "quotes"]).await;
    assert_eq!(restart.code, 0, "{}", restart.stderr);
    tokio::time::timeout(PATIENCE, quotes.wait_connections(accepted + 1))
        .await
        .expect("restart reconnects");

    let unknown = daemon.cli(&["stop", "qoutes"]).await;
    assert_eq!(unknown.code, 6, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("no connection `qoutes`")
            && unknown.stderr.contains("did you mean `quotes`"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_outlives_its_last_stopped_connection() {
    let (daemon, quotes, orders) = two("cli-all-stopped").await;
    for name in ["quotes", "orders"] {
        let stop = daemon.cli(&["stop", name]).await;
        assert_eq!(stop.code, 0, "{}", stop.stderr);
    }
    daemon
        .wait_status("both stopped", |s| {
            state(s, "quotes") == "stopped" && state(s, "orders") == "stopped"
        })
        .await;
    // Nothing runs any more, yet the daemon still answers and can start
    // the connections again.
    let start = daemon.cli(&["start", "orders"]).await;
    assert_eq!(start.code, 0, "{}", start.stderr);
    let up = daemon
        .cli(&["wait", "--up", "orders", "--timeout", "10s"])
        .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    tokio::time::timeout(PATIENCE, orders.wait_connections(2))
        .await
        .expect("the peer accepts the restarted connection");
    assert_eq!(quotes.stats().open, 0, "quotes stays stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_a_line_for_each_event_when_not_on_a_terminal() {
    let (daemon, _quotes, _orders) = two("cli-watch").await;
    let mut watch = daemon.follow(&["status", "--watch"]);
    // The stream starts with the current state of both connections.
    let mut replayed = Vec::new();
    while replayed.len() < 2 {
        let line = watch.line().await;
        assert!(line.ends_with("(current)"), "a replay first: {line}");
        replayed.push(line);
    }
    assert!(
        replayed
            .iter()
            .any(|l| l.contains("quotes") && l.contains(" up ")),
        "{replayed:?}"
    );

    let stop = daemon.cli(&["stop", "quotes"]).await;
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    let mut seen = Vec::new();
    loop {
        let line = watch.line().await;
        let done = line.contains("quotes") && line.contains("stopped: ");
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(
        seen.iter()
            .all(|l| l.contains("quotes") && !l.ends_with("(current)")),
        "only live events of quotes: {seen:#?}"
    );
    assert!(seen[0].contains("stopping"), "{seen:#?}");
    watch.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_is_private_and_a_second_daemon_is_refused() {
    let (daemon, _quotes, _orders) = two("cli-second").await;
    let mode = std::fs::metadata(&daemon.socket)
        .expect("the socket exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    let second = run(&[
        "run",
        "-c",
        path(&daemon.config),
        "--socket",
        path(&daemon.socket),
    ])
    .await;
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second.stderr.contains("already serving") && second.stderr.contains(path(&daemon.socket)),
        "{}",
        second.stderr
    );
    let status = daemon.cli(&["status"]).await;
    assert_eq!(
        status.code, 0,
        "the first daemon still serves: {}",
        status.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_socket_is_replaced_and_sigterm_exits_0_removing_it() {
    let dir = TempDir::new("cli-stale").expect("temp dir");
    // A socket file nobody listens on, as a killed daemon leaves it.
    drop(std::os::unix::net::UnixListener::bind(dir.join("control.sock")).expect("bind"));
    assert!(dir.join("control.sock").exists());
    let quotes = echo().await;
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n",
        quotes.endpoint()
    );
    let mut daemon = Daemon::start(dir, &yaml).await;
    daemon
        .wait_status("quotes up", |s| state(s, "quotes") == "up")
        .await;

    daemon.signal("TERM").await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!daemon.socket.exists(), "the socket is removed");
    tokio::time::timeout(PATIENCE, quotes.wait_open(0))
        .await
        .expect("the connection was closed");
    let after = daemon.cli(&["status"]).await;
    assert_eq!(after.code, 1, "{}", after.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_0_too() {
    let (mut daemon, _quotes, _orders) = two("cli-sigint").await;
    daemon.signal("INT").await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!daemon.socket.exists());
}

#[tokio::test]
async fn run_refuses_an_invalid_configuration_with_2() {
    let dir = TempDir::new("cli-badrun").expect("temp dir");
    let config = dir.join("bad.yaml");
    std::fs::write(
        &config,
        "connections:\n  quotes:\n    endpiont: tcp://127.0.0.1:1\n",
    )
    .expect("write");
    let socket = dir.join("control.sock");
    let ran = run(&["run", "-c", path(&config), "--socket", path(&socket)]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("did you mean `endpoint`"),
        "{}",
        ran.stderr
    );
    assert!(!socket.exists(), "nothing was served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_in_a_directory_others_can_write_is_served_with_a_warning() {
    // Anyone who can write the directory can rename the socket away and
    // bind an impostor in its place; an explicit --socket there was used
    // without a word (hostile run h22 F4).
    let dir = TempDir::new("cli-shared-dir").expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod 777");
    let launch = Launch {
        rust_log: Some("info"),
        ..Launch::default()
    };
    let mut daemon = Daemon::launch(
        dir,
        "connections:\n  a: { endpoint: 'tcp://127.0.0.1:9' }\n",
        launch,
    )
    .await;
    daemon
        .wait_logged(
            "the warning",
            "can be written by anyone (mode 0777) and has no sticky bit",
        )
        .await;
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_socket_removed_under_the_daemon_is_said_at_error_level() {
    // Removed, it went unnoticed: the daemon logged nothing, `status`
    // advised starting one, and the lock refused it (hostile run h22 F9).
    let dir = TempDir::new("cli-socket-gone").expect("temp dir");
    let mut daemon = Daemon::start(
        dir,
        "connections:\n  a: { endpoint: 'tcp://127.0.0.1:9' }\n",
    )
    .await;
    std::fs::remove_file(&daemon.socket).expect("remove the socket");
    daemon
        .wait_logged("the error", "the control socket was removed or replaced")
        .await;
    assert!(daemon.is_running(), "it goes on supervising");
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}
