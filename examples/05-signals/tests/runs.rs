//! Runs the lesson as a newcomer would (`cargo run -p example-signals`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

use std::process::Stdio;
use std::time::Duration;

/// The bound: every example ends by itself within 30 s.
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-signals"))
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
        "orders  connected to 127.0.0.1:",
        "sending myself SIGTERM (pid",
        "run_until_signal returned after SIGTERM",
        "SIGINT and SIGTERM have their default action again",
        "tasks still alive in the runtime: 0;",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // Dependents first: orders stopped before quotes.
    let stopped = |conn: &str| {
        stdout
            .lines()
            .position(|l| l.contains(conn) && l.ends_with("stopped: shutdown"))
            .unwrap_or_else(|| panic!("{conn} never stopped:\n{stdout}"))
    };
    assert!(stopped("orders") < stopped("quotes"), "{stdout}");
}
