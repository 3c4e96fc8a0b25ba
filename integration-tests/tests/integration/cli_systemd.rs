//! `linesman run` under systemd's notify protocol, against a real datagram
//! socket in `NOTIFY_SOCKET`: `READY=1` once the control socket answers and
//! every start rule has been evaluated, `STATUS=` lines with the counts,
//! `STOPPING=1` after SIGTERM, `RELOADING=1` … `READY=1` around a SIGHUP
//! reload, and `WATCHDOG=1` pings with `WATCHDOG_USEC`;
//! and the unit file in `contrib/systemd/`, checked by `systemd-analyze
//! verify` where it exists.

use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use tokio::net::UnixDatagram;

use crate::cli_harness::{Daemon, Launch, PATIENCE, linesman, path, refused_port, state};

/// The next datagram, within PATIENCE.
async fn next(socket: &UnixDatagram, waiting_for: &str) -> String {
    let mut buffer = vec![0u8; 4096];
    let n = tokio::time::timeout(PATIENCE, socket.recv(&mut buffer))
        .await
        .unwrap_or_else(|_| panic!("no datagram came while waiting for {waiting_for}"))
        .expect("receive a datagram");
    String::from_utf8(buffer[..n].to_vec()).expect("notify messages are UTF-8")
}

/// Datagrams until one satisfies `done`: all of them, that one last.
async fn until(
    socket: &UnixDatagram,
    what: &str,
    mut done: impl FnMut(&str) -> bool,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let message = next(socket, what).await;
        let last = done(&message);
        seen.push(message);
        if last {
            return seen;
        }
        assert!(seen.len() < 1000, "never {what}; got {seen:?}");
    }
}

/// A datagram socket in `dir` for the daemon to notify, and its path.
fn systemd(dir: &TempDir) -> (UnixDatagram, String) {
    let at = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&at).expect("bind the notify socket");
    (socket, path(&at).to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_after_the_socket_answers_then_status_then_stopping() {
    let quotes = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    // `absent` is refused and waits long in backoff; `orders` waits on it.
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n  absent: {{ endpoint: tcp://127.0.0.1:{}, restart: {{ backoff: {{ initial: 60s, max: 120s }} }} }}\n  orders: {{ endpoint: tcp://127.0.0.1:{}, depends_on: [absent] }}\n",
        quotes.endpoint(),
        refused_port(),
        refused_port()
    );
    let dir = TempDir::new("systemd-notify").expect("temp dir");
    let (notify, at) = systemd(&dir);
    let env = [
        ("NOTIFY_SOCKET", Some(at.as_str())),
        ("WATCHDOG_USEC", None),
    ];
    let launch = Launch {
        env: &env,
        ..Launch::default()
    };
    // Not waiting for the socket: READY=1 is what says it serves.
    let mut daemon = Daemon::spawn(dir, &yaml, launch);

    let ready = next(&notify, "READY=1").await;
    // At once, one try: the socket answers, and every rule was evaluated.
    let status = daemon
        .get("/v1/status")
        .expect("the control socket answers when READY=1 arrives");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let lines: Vec<&str> = ready.lines().collect();
    assert_eq!(lines[0], "READY=1", "{ready}");
    let counts = lines
        .get(1)
        .and_then(|l| l.strip_prefix("STATUS="))
        .unwrap_or_else(|| panic!("READY=1 comes with a STATUS=: {ready}"));
    assert!(
        counts.contains(" up, 1 waiting, "),
        "orders' rule was evaluated (waiting on absent) before READY=1: {counts}"
    );

    // The counts settle: quotes up, orders waiting, absent in backoff
    // (already in READY's own STATUS when the connects were quick: then no
    // change follows, and nothing more is sent).
    let settled = "1 up, 1 waiting, 1 in backoff";
    if counts != settled {
        let line = format!("STATUS={settled}");
        let seen = until(&notify, &line, |m| m == line).await;
        assert!(
            seen.iter().all(|m| m.starts_with("STATUS=")),
            "only STATUS= lines after READY=1: {seen:?}"
        );
    }
    let status = daemon.status().await;
    assert_eq!(
        [
            state(&status, "quotes"),
            state(&status, "orders"),
            state(&status, "absent")
        ],
        ["up", "waiting", "backoff"]
    );

    daemon.signal("TERM").await;
    let seen = until(&notify, "STOPPING=1", |m| m.starts_with("STOPPING=1")).await;
    assert!(
        seen.iter().all(|m| !m.contains("READY=1")),
        "no second READY=1: {seen:?}"
    );
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
    // Nothing after STOPPING=1 (the daemon has exited: what it sent is queued).
    let mut buffer = [0u8; 4096];
    match notify.try_recv(&mut buffer) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a datagram after STOPPING=1: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_is_pinged_when_watchdog_usec_is_set() {
    let quotes = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n",
        quotes.endpoint()
    );
    let dir = TempDir::new("systemd-watchdog").expect("temp dir");
    let (notify, at) = systemd(&dir);
    let env = [
        ("NOTIFY_SOCKET", Some(at.as_str())),
        ("WATCHDOG_USEC", Some("200000")),
        ("WATCHDOG_PID", None),
    ];
    let launch = Launch {
        env: &env,
        ..Launch::default()
    };
    let mut daemon = Daemon::spawn(dir, &yaml, launch);

    let mut pings = 0;
    let seen = until(&notify, "5 WATCHDOG=1", |m| {
        if m == "WATCHDOG=1" {
            pings += 1;
        }
        pings == 5
    })
    .await;
    assert!(
        seen.iter().any(|m| m.starts_with("READY=1")),
        "READY=1 among the pings: {seen:?}"
    );

    daemon.signal("TERM").await;
    until(&notify, "STOPPING=1", |m| m.starts_with("STOPPING=1")).await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sighup_reload_is_framed_by_reloading_and_ready() {
    let [quotes, orders] = [
        Peer::start(Listen::tcp(), Behavior::Echo)
            .await
            .expect("an echo peer starts"),
        Peer::start(Listen::tcp(), Behavior::Echo)
            .await
            .expect("an echo peer starts"),
    ];
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n",
        quotes.endpoint()
    );
    let dir = TempDir::new("systemd-reload").expect("temp dir");
    let (notify, at) = systemd(&dir);
    let env = [
        ("NOTIFY_SOCKET", Some(at.as_str())),
        ("WATCHDOG_USEC", None),
    ];
    let launch = Launch {
        env: &env,
        ..Launch::default()
    };
    let mut daemon = Daemon::spawn(dir, &yaml, launch);
    until(&notify, "READY=1", |m| m.starts_with("READY=1")).await;

    let more = format!("{yaml}  orders: {{ endpoint: {} }}\n", orders.endpoint());
    std::fs::write(&daemon.config, more).expect("write the new configuration");
    daemon.signal("HUP").await;
    let before = until(&notify, "RELOADING=1", |m| m.starts_with("RELOADING=1")).await;
    let reloading = before.last().expect("RELOADING=1");
    let usec = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .unwrap_or_else(|| panic!("RELOADING=1 comes with MONOTONIC_USEC: {reloading}"));
    assert!(
        usec.parse::<u64>().is_ok_and(|n| n > 0),
        "MONOTONIC_USEC is a number of microseconds: {reloading}"
    );
    let during = until(&notify, "READY=1", |m| m.starts_with("READY=1")).await;
    assert!(
        during[..during.len() - 1]
            .iter()
            .all(|m| m.starts_with("STATUS=")),
        "only STATUS= lines between RELOADING=1 and READY=1: {during:?}"
    );
    let ready = during.last().expect("READY=1");
    assert!(
        ready.contains("\nSTATUS=") && ready.contains(" up, "),
        "READY=1 comes with the counts, for `systemctl status`: {ready}"
    );
    daemon
        .wait_status("orders up", |s| state(s, "orders") == "up")
        .await;

    daemon.signal("TERM").await;
    until(&notify, "STOPPING=1", |m| m.starts_with("STOPPING=1")).await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
}

/// The unit file shipped in `contrib/systemd/`.
const UNIT: &str = include_str!("../../../contrib/systemd/linesman.service");

/// The values of `key=` in the unit's `[section]`, comments skipped.
fn values<'a>(section: &str, key: &str) -> Vec<&'a str> {
    let mut current = "";
    let mut found = Vec::new();
    for line in UNIT.lines().map(str::trim) {
        if line.starts_with('[') {
            current = line;
        } else if current == section
            && let Some(value) = line.strip_prefix(key).and_then(|l| l.strip_prefix('='))
        {
            found.push(value);
        }
    }
    found
}

#[test]
fn the_unit_file_declares_what_the_daemon_needs() {
    let one = |key| values("[Service]", key);
    assert_eq!(one("Type"), ["notify"]);
    assert_eq!(one("NotifyAccess"), ["main"]);
    assert_eq!(one("RuntimeDirectory"), ["linesman"]);
    assert_eq!(one("RuntimeDirectoryMode"), ["0700"]);
    assert_eq!(one("LimitNOFILE").len(), 1, "a LimitNOFILE");
    assert_eq!(one("WatchdogSec").len(), 1, "a WatchdogSec");
    let exec = one("ExecStart");
    assert_eq!(exec.len(), 1, "{exec:?}");
    assert!(
        exec[0].contains(" run -c ") && exec[0].contains("--socket /run/linesman/"),
        "ExecStart runs `linesman run -c FILE` with its socket in the runtime directory: {}",
        exec[0]
    );
    // SIGHUP reloads the file (`systemctl reload linesman`).
    assert_eq!(one("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    // Outbound TCP and Unix sockets must stay allowed.
    assert_eq!(one("RestrictAddressFamilies"), ["AF_UNIX AF_INET AF_INET6"]);
}

#[test]
fn systemd_analyze_verifies_the_unit_file() {
    let Ok(found) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!(
            "skipped: no systemd-analyze on this machine; the unit's keys are checked by the test above"
        );
        return;
    };
    assert!(found.status.success(), "systemd-analyze --version fails");
    // Verify a copy whose ExecStart is the binary just built (verify
    // checks that it exists and is executable).
    let dir = TempDir::new("systemd-unit").expect("temp dir");
    let unit = dir.join("linesman.service");
    std::fs::write(
        &unit,
        UNIT.replace("/usr/local/bin/linesman", path(linesman())),
    )
    .expect("write the unit");
    let verified = std::process::Command::new("systemd-analyze")
        .args(["verify", path(&unit)])
        .output()
        .expect("systemd-analyze verify runs");
    // It exits 0 on a key it ignores, with a warning: any output fails.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        verified.status.success() && said.trim().is_empty(),
        "{said}"
    );
}
