//! What an operator alerts on and follows, from the real daemon: a peer
//! that is down is one WARN line however many attempts fail, and its
//! recovery one INFO line; the reason-labelled counters after refused
//! connects and a peer's drop; `linesman events` filters, a `since=` resume
//! that loses nothing, and the `gap` line once the history bound is passed;
//! syslog level prefixes only when stderr is the journal's stream.

use std::process::Stdio;

use linesman_testkit::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::cli_harness::{Daemon, Launch, PATIENCE, command, eventually, path, refused_port};

/// The value of the sample `name{labels}` in `GET /metrics`, if present.
fn sample(daemon: &Daemon, name: &str) -> Option<u64> {
    let text = daemon.get("/metrics").expect("ask for /metrics");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

const FAILURES: &str = r#"linesman_connect_failures_total{connection="db",reason="refused"}"#;

/// One connection `db` (kind `feed`) to `port`, retried every 5 ms.
fn yaml(port: u16, extra: &str) -> String {
    format!(
        "defaults:\n  restart:\n    backoff: {{ initial: 5ms, max: 5ms, multiplier: 1.0, jitter: 0.0 }}\n    intensity: {{ max_restarts: 1000000, window: 1s }}\nconnections:\n  db: {{ endpoint: 'tcp://127.0.0.1:{port}', kind: feed, tags: [eu] }}\n{extra}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_is_down_is_one_warning_its_recovery_one_line_and_counted_by_reason() {
    let port = refused_port();
    let launch = Launch {
        rust_log: Some("info"),
        ..Launch::default()
    };
    let dir = TempDir::new("obs-down-up").expect("temp dir");
    let daemon = Daemon::launch(dir, &yaml(port, ""), launch).await;
    eventually("20 refused connects", || {
        sample(&daemon, FAILURES).is_some_and(|n| n >= 20)
    })
    .await;
    let failed: Vec<String> = daemon
        .stderr_lines()
        .into_iter()
        .filter(|l| l.contains("connect failed") || l.contains("still failing"))
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "one WARN line for 20+ failed attempts, not one per attempt:\n{failed:#?}"
    );
    assert!(failed[0].contains("WARN"), "{}", failed[0]);

    // The peer comes up on that port: one recovery line.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the refused port");
    let (accepted, _) = tokio::time::timeout(PATIENCE, listener.accept())
        .await
        .expect("linesman connects")
        .expect("accept");
    daemon.wait_logged("the recovery line", "up after").await;
    let lines = daemon.stderr_lines();
    let up: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("session::log: up"))
        .collect();
    assert_eq!(up.len(), 1, "{up:#?}");
    assert!(
        up[0].contains(" INFO ") && up[0].contains("failed attempts in "),
        "{}",
        up[0]
    );
    let counted = sample(&daemon, FAILURES).expect("still counted");
    let said: u64 = up[0]
        .split("up after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count in {}", up[0]));
    assert_eq!(
        said, counted,
        "the recovery line counts every failed attempt"
    );

    // The peer drops the session: a disconnect by reason, and a restart
    // that the never-resetting counter keeps.
    drop(accepted);
    let (_again, _) = tokio::time::timeout(PATIENCE, listener.accept())
        .await
        .expect("linesman reconnects")
        .expect("accept");
    eventually("the restart counted", || {
        sample(&daemon, r#"linesman_restarts_total{connection="db"}"#) == Some(1)
    })
    .await;
    assert_eq!(
        sample(
            &daemon,
            r#"linesman_disconnects_total{connection="db",reason="peer_closed"}"#
        ),
        Some(1)
    );
    let text = daemon.get("/metrics").expect("metrics");
    for line in [
        r#"linesman_connection_info{connection="db",kind="feed",tags="eu"} 1"#,
        "# TYPE linesman_build info",
        "# TYPE linesman_connect_failures counter",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("linesman_build_info{version=\"")),
        "{text}"
    );
    // Every family once: a name used twice is not valid OpenMetrics.
    let mut families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let all = families.len();
    families.sort_unstable();
    families.dedup();
    assert_eq!(families.len(), all, "{text}");
}

/// Runs `linesman events ARGS` against `daemon` and returns its first
/// `count` lines as JSON, then ends it.
async fn events(daemon: &Daemon, args: &[&str], count: usize) -> Vec<serde_json::Value> {
    let mut all = vec!["events", "--socket", path(&daemon.socket)];
    all.extend_from_slice(args);
    let mut child = command(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("linesman events runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut out = Vec::new();
    while out.len() < count {
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("`linesman {}` printed {out:?} only", all.join(" ")))
            .expect("stdout reads");
        let Some(line) = line else {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr).await;
            }
            panic!("`linesman {}` ended: {stderr}", all.join(" "));
        };
        out.push(serde_json::from_str(&line).expect("a JSON line"));
    }
    child.start_kill().expect("end it");
    let _ = child.wait().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_filter_resume_after_since_and_say_when_events_are_gone() {
    let port = refused_port();
    let extra: String = (0..20)
        .map(|i| format!("  c{i:02}: {{ endpoint: 'tcp://127.0.0.1:{port}' }}\n"))
        .collect();
    let dir = TempDir::new("obs-events").expect("temp dir");
    let daemon = Daemon::start(dir, &yaml(port, &extra)).await;

    // Bad filters: 400 (exit 2) with what was wrong; unknown name exit 6.
    let answer = daemon.get("/v1/events?type=bogus").expect("an answer");
    assert!(
        answer.starts_with("HTTP/1.1 400") && answer.contains("unknown event type `bogus`"),
        "{answer}"
    );
    let answer = daemon.get("/v1/events?colour=red").expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let ran = daemon.cli(&["events", "--type", "bogus"]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let ran = daemon.cli(&["events", "--conn", "nosuch"]).await;
    assert_eq!(ran.code, 6, "{}", ran.stderr);

    // Filters: only db's connect failures (and its current state first).
    let lines = events(&daemon, &["--conn", "db", "--type", "connect_failed"], 5).await;
    assert!(lines.iter().all(|l| l["conn"] == "db"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .filter(|l| l["replay"] == false)
            .all(|l| l["type"] == "connect_failed"),
        "{lines:#?}"
    );
    let live = lines.iter().filter(|l| l["replay"] == false).count();
    assert!(live >= 4, "{lines:#?}");

    // A watcher that saw up to `seq` S and comes back gets S+1, S+2, …
    let first = events(&daemon, &[], 30).await;
    let seen = first
        .iter()
        .filter(|l| l["replay"] == false)
        .filter_map(|l| l["seq"].as_u64())
        .max()
        .expect("live events");
    eventually("100 more events", || {
        sample(&daemon, "linesman_bus_events_published_total").is_some_and(|n| n > seen + 100)
    })
    .await;
    let resumed = events(&daemon, &["--since", &seen.to_string()], 100).await;
    let seqs: Vec<u64> = resumed.iter().filter_map(|l| l["seq"].as_u64()).collect();
    let expected: Vec<u64> = (seen + 1..=seen + 100).collect();
    assert_eq!(seqs, expected, "every event after {seen}, in order, once");
    assert!(resumed.iter().all(|l| l["replay"] == false));

    // Past the history's bound (10,000 events): a gap line, then the state.
    eventually("the history bound passed", || {
        sample(&daemon, "linesman_bus_events_published_total").is_some_and(|n| n > seen + 10_100)
    })
    .await;
    let after_gap = events(&daemon, &["--since", &seen.to_string()], 3).await;
    assert_eq!(after_gap[0]["type"], "gap", "{after_gap:#?}");
    assert_eq!(after_gap[0]["from"].as_u64(), Some(seen + 1));
    assert!(after_gap[0]["to"].as_u64() > Some(seen + 1));
    assert!(
        after_gap[1..].iter().all(|l| l["replay"] == true),
        "the current state follows: {after_gap:#?}"
    );
}

/// Runs the daemon on a refused port with stderr to a file (and
/// `JOURNAL_STREAM` set from `journal`'s device and inode) until it logged
/// the connect failure; its lines.
async fn stderr_to_file(
    label: &str,
    journal: impl Fn(&std::fs::Metadata) -> String,
) -> Vec<String> {
    let dir = TempDir::new(label).expect("temp dir");
    let config = dir.path().join("linesman.yaml");
    std::fs::write(&config, yaml(refused_port(), "")).expect("write the config");
    let log = dir.path().join("stderr.log");
    let file = std::fs::File::create(&log).expect("a log file");
    let meta = file.metadata().expect("its metadata");
    let socket = dir.path().join("s.sock");
    let mut child = command(&["run", "-c", path(&config), "--socket", path(&socket)])
        .env("RUST_LOG", "info")
        .env("JOURNAL_STREAM", journal(&meta))
        .stderr(Stdio::from(file))
        .spawn()
        .expect("linesman runs");
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    eventually("the connect failure logged", || {
        read().contains("connect failed")
    })
    .await;
    child.start_kill().expect("end it");
    let _ = child.wait().await;
    read().lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_carry_their_syslog_level_only_when_stderr_is_the_journal_stream() {
    use std::os::unix::fs::MetadataExt as _;
    let journal = stderr_to_file("obs-journal", |m| format!("{}:{}", m.dev(), m.ino())).await;
    let warn = journal
        .iter()
        .find(|l| l.contains("connect failed"))
        .expect("the warning");
    assert!(warn.starts_with("<4>") && warn.contains(" WARN "), "{warn}");
    assert!(
        journal
            .iter()
            .filter(|l| l.contains(" INFO "))
            .all(|l| l.starts_with("<6>")),
        "{journal:#?}"
    );
    // Another stream (stderr redirected elsewhere): plain lines.
    let other = stderr_to_file("obs-not-journal", |m| {
        format!("{}:{}", m.dev(), m.ino() + 1)
    })
    .await;
    assert!(
        !other.is_empty() && other.iter().all(|l| !l.starts_with('<')),
        "{other:#?}"
    );
}
