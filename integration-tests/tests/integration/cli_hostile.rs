//! The real `linesman` binary in the hands of a careless operator and a
//! hostile environment: stdout a pipe nobody reads any more or a full
//! disk, a FIFO or a directory given as the configuration, a relative
//! `control.socket` used from another directory, `wait --timeout 0`.
//! No panic, no hang: a clear word and a documented exit code.

use std::process::Stdio;

use linesman_testkit::TempDir;

use crate::cli_harness::{Daemon, PATIENCE, Ran, command, path, refused_port};

/// One connection that stays down: enough for every command to print.
fn one_down() -> String {
    format!(
        "connections:\n  a: {{ endpoint: tcp://127.0.0.1:{}, restart: {{ policy: never }} }}\n",
        refused_port()
    )
}

/// Runs `linesman ARGS` with stdout as `stdout`, stderr read. (Not
/// `Command::output`, which would make stdout a pipe of its own.)
async fn run_with_stdout(args: &[&str], stdout: Stdio) -> Ran {
    let mut command = command(args);
    command.stdout(stdout).stderr(Stdio::piped());
    let child = command.spawn().expect("linesman runs");
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("`linesman {}` did not end", args.join(" ")))
        .expect("linesman runs");
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A pipe whose read end is already closed: every write gets EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("make a pipe");
    drop(reader);
    Stdio::from(writer)
}

fn dev_full() -> Stdio {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    Stdio::from(full)
}

fn assert_no_panic(ran: &Ran, what: &str) {
    for word in ["panicked", "RUST_BACKTRACE", "Broken pipe"] {
        assert!(
            !ran.stderr.contains(word),
            "{what}: {word:?} in:\n{}",
            ran.stderr
        );
    }
}

#[tokio::test]
async fn a_closed_stdout_ends_every_command_quietly() {
    let daemon = Daemon::start(TempDir::new("cli-epipe").expect("temp dir"), &one_down()).await;
    let socket = path(&daemon.socket).to_owned();
    let config = path(&daemon.config).to_owned();
    let commands: [&[&str]; 6] = [
        &["status", "--socket", &socket],
        &["status", "-o", "json", "--socket", &socket],
        &["deps", "--socket", &socket],
        &["check", &config],
        &["graph", &config],
        &["graph", &config, "--format", "mermaid"],
    ];
    for args in commands {
        let ran = run_with_stdout(args, closed_pipe()).await;
        let what = args.join(" ");
        assert_no_panic(&ran, &what);
        assert_eq!(ran.code, 0, "{what}: {}", ran.stderr);
        assert!(ran.stderr.is_empty(), "{what}: {}", ran.stderr);
    }
}

#[tokio::test]
async fn a_full_stdout_is_one_line_on_stderr_and_exit_1() {
    let daemon = Daemon::start(TempDir::new("cli-enospc").expect("temp dir"), &one_down()).await;
    let socket = path(&daemon.socket).to_owned();
    let config = path(&daemon.config).to_owned();
    let commands: [&[&str]; 5] = [
        &["status", "--socket", &socket],
        &["status", "--watch", "--socket", &socket],
        &["deps", "--socket", &socket],
        &["check", &config],
        &["graph", &config],
    ];
    for args in commands {
        let ran = run_with_stdout(args, dev_full()).await;
        let what = args.join(" ");
        assert_no_panic(&ran, &what);
        assert_eq!(ran.code, 1, "{what}: {}", ran.stderr);
        assert_eq!(
            ran.stderr.trim_end(),
            "linesman: error: cannot write to standard output: No space left on device (os error 28)",
            "{what}"
        );
    }
}
