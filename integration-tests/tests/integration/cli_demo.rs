//! `linesman demo` with stdout not a terminal: the event log line by line,
//! its peers carrying data, and a clean end after `--duration`; on an 80x24
//! terminal: its legend above a live view that fits the screen.

use std::process::Stdio;

use linesman_testkit::TempDir;

use crate::cli_harness::{PATIENCE, command, finish, linesman, path, strip_colours};

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

#[tokio::test]
async fn demo_on_an_80x24_terminal_shows_its_legend_and_fits_the_screen() {
    let dir = TempDir::new("cli-demo-tty").expect("temp dir");
    let socket = dir.join("demo.sock");
    // A real terminal: `script` runs the demo on a pseudo-terminal of 80x24.
    let line = format!(
        "stty cols 80 rows 24; exec {} demo --duration 3s --socket {}",
        path(linesman()),
        path(&socket)
    );
    let args = ["-qec", line.as_str(), "/dev/null"];
    let mut script = tokio::process::Command::new("script");
    script
        .args(args)
        .env_remove("COLUMNS")
        .env_remove("LINESMAN_SOCKET")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let ran = finish(script, &args, PATIENCE).await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let frames: Vec<String> = ran
        .stdout
        .split("\x1b[H\x1b[2J")
        .skip(1)
        .map(|frame| strip_colours(frame).replace('\r', ""))
        .collect();
    assert!(frames.len() > 1, "the view is redrawn:\n{}", ran.stdout);
    for frame in &frames {
        let lines: Vec<&str> = frame
            .lines()
            .filter(|l| !l.starts_with("demo over"))
            .collect();
        assert!(lines.len() < 24, "{} lines:\n{frame}", lines.len());
        for line in &lines {
            assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
        }
        assert!(
            frame.contains("  hw-programmer  needs quotes and orders"),
            "the legend is shown:\n{frame}"
        );
    }
}
