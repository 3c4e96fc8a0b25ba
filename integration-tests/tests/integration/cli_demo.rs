//! `linesman demo` with stdout not a terminal: the event log line by line,
//! its peers carrying data, and a clean end after `--duration`.

use std::process::Stdio;

use linesman_testkit::TempDir;

use crate::cli_harness::{PATIENCE, command, path};

#[tokio::test]
async fn demo_prints_event_lines_and_ends_after_its_duration() {
    let dir = TempDir::new("cli-demo").expect("temp dir");
    let socket = dir.join("demo.sock");
    let run = command(&["demo", "--duration", "3s", "--socket", path(&socket)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    let output = tokio::time::timeout(PATIENCE, run)
        .await
        .expect("the demo ends after its duration")
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains('\x1b'),
        "no terminal codes when piped:\n{stdout}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("linesman demo: control socket"),
        "{stdout}"
    );
    for (name, what) in [
        ("quotes", "connected to 127.0.0.1:"),
        ("orders", "connect failed"),
        ("hw-programmer", "waiting on [orders"),
        ("audit", "connected to 127.0.0.1:"),
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("  {name} ")) && l.contains(what)),
            "no `{name}` line with `{what}`:\n{stdout}"
        );
    }
    for name in ["quotes", "orders", "hw-programmer", "audit"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("  {name} ")) && l.contains("stopped: shutdown")),
            "the log shows `{name}` stopped by the shutdown:\n{stdout}"
        );
    }
    let last = lines.last().expect("lines");
    assert!(
        last.starts_with("demo over; frames received: quotes "),
        "{stdout}"
    );
    let quotes_frames: u64 = last
        .trim_start_matches("demo over; frames received: quotes ")
        .split(',')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(quotes_frames > 0, "the quotes feed carried frames: {last}");
    assert!(!socket.exists(), "the demo removed its socket");
}
