//! [`run_example`]: runs an example's binary as a newcomer would and checks
//! that it ends by itself, exits 0 and says what happened — the one check
//! every lesson's `tests/runs.rs` makes, so the lessons cannot rot.

use std::process::Stdio;
use std::time::Duration;

/// The bound every example keeps: it ends by itself within 30 s.
pub const EXAMPLE_LIMIT: Duration = Duration::from_secs(30);

/// What an example printed.
#[derive(Debug, Clone)]
pub struct ExampleRun {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs `binary` (an example's `CARGO_BIN_EXE_…`) with no input and returns
/// what it printed, once it ended by itself within [`EXAMPLE_LIMIT`] with exit 0
/// and printed each of `expected` (as substrings).
///
/// # Panics
///
/// If it does not start, does not end in time, fails, or misses a line:
/// this is a test helper, and the panic shows its stdout and stderr.
pub async fn run_example(binary: &str, expected: &[&str]) -> ExampleRun {
    let run = tokio::process::Command::new(binary)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(EXAMPLE_LIMIT, run)
        .await
        .expect("the example ends by itself within 30 s")
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for line in expected {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    ExampleRun { stdout, stderr }
}
