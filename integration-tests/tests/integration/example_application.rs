//! Lesson 8 (`examples/08-application`) against the real `linesman status`:
//! run with `--hold`, the example serves its control socket until a
//! signal, and the operator's CLI reads it as it reads the daemon's. (Each
//! example's own `tests/runs.rs` runs it to its end without `--hold`.)

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::cli_harness::{PATIENCE, run};
use crate::support::binary;

#[tokio::test]
async fn linesman_status_reads_the_running_example_until_sigterm() {
    let example = binary("example-application", "example-application");
    let mut child = Command::new(example)
        .arg("--hold")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the example starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();

    // It says where its socket is once every connection is up.
    let mut before = Vec::new();
    let socket = tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            let held = line
                .strip_prefix("holding: try `linesman status --socket ")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned);
            before.push(line);
            if held.is_some() {
                return held;
            }
        }
        None
    })
    .await
    .unwrap_or_else(|_| panic!("the example did not hold within 20 s:\n{before:#?}"));
    let socket = socket.unwrap_or_else(|| panic!("the example ended early:\n{before:#?}"));

    let status = run(&["status", "--socket", &socket]).await;
    assert_eq!(status.code, 0, "every connection is up: {status:?}");
    let rows: Vec<(&str, &str)> = status
        .stdout
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect();
    assert_eq!(
        rows,
        [("quotes", "up"), ("orders", "up"), ("risk", "up")],
        "{status:?}"
    );

    // SIGTERM, as an operator would: a graceful end, exit 0.
    let pid = child.id().expect("the example runs").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(killed.success(), "kill -TERM {pid} failed");
    let after = tokio::time::timeout(PATIENCE, async {
        let mut after = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            after.push(line);
        }
        after
    })
    .await
    .expect("the example ends within 20 s of SIGTERM");
    let exit = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the example exits")
        .expect("waiting works");
    assert!(exit.success(), "{exit}\n{after:#?}");
    assert!(
        after
            .iter()
            .any(|line| line.ends_with("control socket removed: true")),
        "{after:#?}"
    );
}
