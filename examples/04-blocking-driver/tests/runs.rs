//! Runs the lesson as a newcomer would (`cargo run -p example-blocking-driver`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

use std::process::Stdio;
use std::time::Duration;

/// The bound: every example ends by itself within 30 s.
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-blocking-driver"))
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
        "driver: unit 7 opened",
        "handler: unit 7 reading 1: 20.1 C",
        "handler: unit 7 reading 5: 20.5 C",
        "device reset (vendor status 0x2a)",
        "event:   sensor connected to blocking:vendor-rx",
        "driver: unit 7 closed",
        "event:   sensor stopped: shutdown",
        "every driver opened was closed",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    let count = |needle: &str| stdout.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(count("driver: unit 7 opened"), 3, "{stdout}");
    assert_eq!(count("driver: unit 7 closed"), 3, "{stdout}");
    // Five readings in each of the two sessions that failed.
    assert!(count("handler: unit 7 reading 5:") >= 2, "{stdout}");
}
