//! `linesman status`, `deps` and `wait` against a real daemon and real
//! peers: the table and the JSON (snapshots, with ports, paths and times
//! normalised), the exit codes 0, 3 and 1, and `wait`'s 0, 4 and 6.

use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{
    Daemon, PATIENCE, command, finish, linesman, normalize, path, realign, refused_port, run,
    state, strip_colours,
};

/// Five connections in five different situations, settled within a moment
/// and then stable: `quotes` and `audit` up (echo peers), `orders` refused
/// with restarts `never` (so it stays down), `flaky` refused with a one
/// minute backoff (so it stays in backoff), `hw-programmer` waiting on
/// `orders`.
fn five(quotes: &Peer, audit: &Peer, hw: &Peer) -> String {
    let refused = refused_port();
    format!(
        "\
defaults:
  connect_timeout: 2s
connections:
  quotes:
    endpoint: {quotes}
    kind: feed
  orders:
    endpoint: tcp://127.0.0.1:{refused}
    kind: feed
    restart: {{ policy: never }}
  flaky:
    endpoint: tcp://127.0.0.1:{refused}
    restart: {{ backoff: {{ initial: 1m, max: 1m, jitter: 0.0 }} }}
  hw-programmer:
    endpoint: {hw}
    depends_on: [quotes, orders]
  audit:
    endpoint: {audit}
    start_when: {{ any: [ {{ up: quotes }}, {{ up: orders }} ] }}
",
        quotes = quotes.endpoint(),
        audit = audit.endpoint(),
        hw = hw.endpoint(),
    )
}

async fn echo() -> Peer {
    Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts")
}

async fn settled_five() -> (Daemon, [Peer; 3]) {
    let peers = [echo().await, echo().await, echo().await];
    let yaml = five(&peers[0], &peers[1], &peers[2]);
    let daemon = Daemon::start(TempDir::new("cli-status").expect("temp dir"), &yaml).await;
    daemon
        .wait_status("settled", |s| {
            state(s, "quotes") == "up"
                && state(s, "audit") == "up"
                && state(s, "flaky") == "backoff"
                && s["connections"][2]["next_retry_ms"].is_u64()
                && matches!(state(s, "orders"), "stopped" | "failed")
                && state(s, "hw-programmer") == "waiting"
        })
        .await;
    (daemon, peers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_prints_a_table_and_json_and_exits_3_when_some_are_not_up() {
    let (daemon, _peers) = settled_five().await;

    let table = daemon.cli(&["status"]).await;
    assert_eq!(
        table.code, 3,
        "some connections are not up: {}",
        table.stderr
    );
    insta::assert_snapshot!(
        "status_table",
        realign(&normalize(&table.stdout, daemon.dir.path()))
    );

    let json = daemon.cli(&["status", "-o", "json"]).await;
    assert_eq!(json.code, 3, "{}", json.stderr);
    let mut value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    for c in value["connections"].as_array_mut().expect("connections") {
        c["since_ms"] = "[ms]".into();
        if !c["next_retry_ms"].is_null() {
            c["next_retry_ms"] = "[ms]".into();
        }
    }
    let text = serde_json::to_string_pretty(&value).expect("JSON");
    insta::assert_snapshot!("status_json", normalize(&text, daemon.dir.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deps_prints_the_tree_with_states_both_ways() {
    let (daemon, _peers) = settled_five().await;
    let deps = daemon.cli(&["deps"]).await;
    assert_eq!(deps.code, 0, "{}", deps.stderr);
    insta::assert_snapshot!("deps", normalize(&deps.stdout, daemon.dir.path()));
    let reverse = daemon.cli(&["deps", "--reverse"]).await;
    assert_eq!(reverse.code, 0, "{}", reverse.stderr);
    insta::assert_snapshot!(
        "deps_reverse",
        normalize(&reverse.stdout, daemon.dir.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_exits_0_when_every_connection_is_up() {
    let quotes = echo().await;
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n",
        quotes.endpoint()
    );
    let daemon = Daemon::start(TempDir::new("cli-up").expect("temp dir"), &yaml).await;
    daemon
        .wait_status("up", |s| state(s, "quotes") == "up")
        .await;
    let table = daemon.cli(&["status"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("NAME"), "{}", table.stdout);
    assert!(table.stdout.contains("quotes  up"), "{}", table.stdout);
}

#[tokio::test]
async fn status_exits_1_naming_the_socket_when_no_daemon_answers() {
    let dir = TempDir::new("cli-nodaemon").expect("temp dir");
    let socket = dir.join("nobody.sock");
    let ran = run(&["status", "--socket", path(&socket)]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    assert!(ran.stderr.contains(path(&socket)), "{}", ran.stderr);
    assert!(ran.stderr.contains("no linesman daemon"), "{}", ran.stderr);

    // The same socket through the environment.
    // (`wait` waits for a daemon to appear: 4 when none does in time.)
    let ran = crate::cli_harness::command(&["wait", "--up", "x", "--timeout", "1s"])
        .env("LINESMAN_SOCKET", &socket)
        .output()
        .await
        .expect("linesman runs");
    assert_eq!(ran.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&ran.stderr).contains(path(&socket)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_0_when_up_4_on_timeout_and_6_for_unknown_names() {
    let (daemon, _peers) = settled_five().await;

    let up = daemon
        .cli(&["wait", "--up", "quotes", "audit", "--timeout", "10s"])
        .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(up.stdout, "up: quotes, audit\n");

    let any = daemon
        .cli(&[
            "wait",
            "--up",
            "flaky",
            "quotes",
            "--any",
            "--timeout",
            "10s",
        ])
        .await;
    assert_eq!(any.code, 0, "{}", any.stderr);
    assert_eq!(any.stdout, "up: quotes\n");

    let timed_out = daemon
        .cli(&["wait", "--up", "quotes", "flaky", "--timeout", "200ms"])
        .await;
    assert_eq!(timed_out.code, 4, "{}", timed_out.stderr);
    assert!(timed_out.stdout.is_empty());
    assert!(
        timed_out.stderr.contains("timed out after 200ms")
            && timed_out.stderr.contains("`flaky` is backoff")
            && !timed_out.stderr.contains("`quotes` is"),
        "{}",
        timed_out.stderr
    );

    let unknown = daemon
        .cli(&["wait", "--up", "qoutes", "--timeout", "1s"])
        .await;
    assert_eq!(unknown.code, 6, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("`qoutes`"), "{}", unknown.stderr);
}

/// Three connections with long cells, held still by a one minute backoff:
/// `far` on a unix socket whose path is 100 characters (no such file),
/// `refused` on a refused port, and `waiter` waiting on both (a DETAIL of
/// about 110 characters).
async fn long_cells() -> (Daemon, String) {
    let dir = TempDir::new("cli-fit").expect("temp dir");
    let prefix = format!("{}/", path(dir.path()));
    let socket = format!("{prefix}{}.sock", "s".repeat(100 - prefix.len() - 5));
    assert_eq!(socket.chars().count(), 100);
    let yaml = format!(
        "\
defaults:
  restart: {{ backoff: {{ initial: 1m, max: 1m, jitter: 0.0 }} }}
connections:
  far:
    endpoint: unix://{socket}
  refused:
    endpoint: tcp://127.0.0.1:{port}
  waiter:
    endpoint: tcp://127.0.0.1:{port}
    depends_on: [far, refused]
",
        port = refused_port(),
    );
    let daemon = Daemon::start(dir, &yaml).await;
    daemon
        .wait_status("both in backoff", |s| {
            state(s, "far") == "backoff"
                && state(s, "refused") == "backoff"
                && state(s, "waiter") == "waiting"
        })
        .await;
    (daemon, socket)
}

/// `linesman status ARGS` against `daemon` with `COLUMNS=columns`.
async fn status_in(daemon: &Daemon, columns: &str, args: &[&str]) -> String {
    let mut all = vec!["status"];
    all.extend(args);
    all.extend(["--socket", path(&daemon.socket)]);
    let mut status = command(&all);
    status.env("COLUMNS", columns);
    let ran = finish(status, &all, PATIENCE).await;
    assert_eq!(ran.code, 3, "none is up: {}", ran.stderr);
    ran.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_fits_columns_with_one_line_a_connection_and_wide_cuts_nothing() {
    let (daemon, socket) = long_cells().await;

    let fitted = status_in(&daemon, "80", &[]).await;
    let lines: Vec<&str> = fitted.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "a header and one line a connection:\n{fitted}"
    );
    for line in &lines {
        assert!(
            line.chars().count() <= 80,
            "wider than 80: {line:?}\n{fitted}"
        );
    }
    assert!(fitted.contains('…'), "long cells are cut: {fitted}");
    assert!(
        lines[1].starts_with("far ") && lines[1].contains("unix://"),
        "{fitted}"
    );
    assert!(lines[3].contains("waiting on far"), "{fitted}");

    for wide in [
        status_in(&daemon, "80", &["-o", "wide"]).await,
        daemon.cli(&["status"]).await.stdout,
    ] {
        assert_eq!(wide.lines().count(), 4, "{wide}");
        assert!(!wide.contains('…'), "nothing cut: {wide}");
        assert!(wide.contains(&format!("unix://{socket}")), "{wide}");
        assert!(
            wide.contains("waiting on far (backoff, attempt ")
                && wide.contains("), refused (backoff, attempt "),
            "{wide}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_on_an_80_column_terminal_prints_one_line_a_connection() {
    let (daemon, _socket) = long_cells().await;
    // A real terminal: `script` runs the command on a pseudo-terminal, set
    // to 80x24 first; COLUMNS says 200, and the terminal's own width wins.
    let line = format!(
        "stty cols 80 rows 24; exec {} status --socket {}",
        path(linesman()),
        path(&daemon.socket)
    );
    let args = ["-qec", line.as_str(), "/dev/null"];
    let mut script = tokio::process::Command::new("script");
    script
        .args(args)
        .env("COLUMNS", "200")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let ran = finish(script, &args, PATIENCE).await;
    assert_eq!(ran.code, 3, "none is up: {}{}", ran.stdout, ran.stderr);
    let screen = strip_colours(&ran.stdout).replace('\r', "");
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "a header and one line a connection:\n{screen}"
    );
    for line in &lines {
        assert!(
            line.chars().count() <= 80,
            "wider than 80: {line:?}\n{screen}"
        );
    }
    assert!(
        lines[3].starts_with("waiter ") && lines[3].ends_with('…'),
        "{screen}"
    );
}
