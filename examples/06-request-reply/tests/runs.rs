//! Runs the lesson as a newcomer would (`cargo run -p example-request-reply`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

use std::process::Stdio;
use std::time::Duration;

/// The bound: every example ends by itself within 30 s.
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-request-reply"))
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
        "our 100 requests: 100 replies matched, 0 mismatched",
        "the peer's 100 requests, ids 1..=100 like ours: 100 answers matched, 0 mismatched",
        "replies that matched no request of ours (dropped): 0",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
