//! Runs the lesson as a newcomer would (`cargo run -p example-tcp-and-unix`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

use std::process::Stdio;
use std::time::Duration;

/// The bound: every example ends by itself within 30 s.
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-tcp-and-unix"))
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
        "over_tcp  -> tcp://127.0.0.1:",
        "over_unix -> unix:///",
        "over_tcp: connected to 127.0.0.1:",
        "over_unix: connected to /",
        "over_tcp: greeted, the peer answered \"hello from over_tcp\"",
        "over_unix: greeted, the peer answered \"hello from over_unix\"",
        "over_tcp: asked through its handle, the peer answered \"what is the time?\"",
        "over_unix: asked through its handle, the peer answered \"what is the time?\"",
        "the tcp peer saw 2 frames, the unix peer 2",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
