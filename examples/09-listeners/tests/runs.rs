//! Runs the lesson as a newcomer would (`cargo run -p example-listeners`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

use std::process::Stdio;
use std::time::Duration;

/// The bound: every example ends by itself within 30 s.
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-listeners"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(LIMIT, run)
        .await
        .expect("the example ends by itself within 30 s")
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for expected in [
        "gateway watch: gateway connected to 127.0.0.1:",
        "gateway watch: gateway stopped: shutdown",
        "the current state of every connection follows",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // The kind filter: the gateway watch heard of the gateway only.
    assert!(
        stdout
            .lines()
            .filter(|line| line.starts_with("gateway watch:"))
            .all(|line| line.starts_with("gateway watch: gateway ")),
        "{stdout}"
    );
    let missed = |name: &str| -> u64 {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(name) && line.contains("delivered"))
            .unwrap_or_else(|| panic!("no line for {name} in:\n{stdout}"));
        line.rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {line:?}"))
    };
    // The slow listener lagged; the gateway watch, with its few events, did
    // not; and the fast counter, beside the slow one, missed fewer (none,
    // unless the machine stalled it too).
    assert!(missed("slow audit") > 0, "{stdout}");
    assert_eq!(missed("gateway watch"), 0, "{stdout}");
    assert!(missed("fast counter") < missed("slow audit"), "{stdout}");
}
