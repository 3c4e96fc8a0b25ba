//! `run_until_signal` with real signals, in a child process (this test
//! binary run again with [`CHILD`] or [`AFTER`] set), so that the signals
//! never reach the test harness: a first SIGTERM starts a graceful
//! shutdown, a second forces it while a handler's `on_disconnect` hangs;
//! and after the run has returned (issue 11, item 5), the signal that
//! ended it is reported, and a later one still ends the process.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use linesman_observer::{ConnState, Event, EventType};
use linesman_supervisor::{Signal, Spec, Supervisor, restore_default_signals};
use linesman_testkit::Behavior;

use crate::common::{LIMIT, conn, peer};
use crate::shutdown::Hangs;

/// Set in the child's environment: run the supervisor instead of the test.
const CHILD: &str = "LINESMAN_SUPERVISOR_SIGNAL_CHILD";
const TEST: &str = "signal::a_second_sigterm_forces_the_shutdown";

#[test]
fn a_second_sigterm_forces_the_shutdown() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    if std::env::var_os(AFTER).is_some() {
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test binary runs again");
    let lines = read_lines(&mut child);
    let mut seen = Vec::new();
    let mut expect = |marker: &str| loop {
        let line = lines
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("no `{marker}` from the child; it said {seen:?}"));
        seen.push(line.clone());
        // The harness may print on the same line before the marker.
        if let Some(at) = line.find(marker) {
            return line[at..].to_owned();
        }
    };
    expect("UP");
    sigterm(&child);
    expect("STOPPING");
    // The handler's on_disconnect hangs and the timeout is an hour: only
    // the second signal can end the run.
    sigterm(&child);
    let last = expect("FINAL");
    assert_eq!(last, "FINAL stopped: shutdown forced");
    let status = wait(&mut child);
    assert!(status.success(), "{status}");
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn read_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let mut waited = Duration::ZERO;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        if waited > LIMIT {
            let _ = child.kill();
            panic!("the child did not exit after its run returned");
        }
        std::thread::sleep(Duration::from_millis(10));
        waited += Duration::from_millis(10);
    }
}

/// The child: one connection whose handler hangs in `on_disconnect`,
/// supervised until signalled; says what happened on stdout.
fn child() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let echo = peer(Behavior::Echo).await;
        let spec = Spec::builder()
            .connection(conn("stuck", echo.endpoint()))
            .shutdown_timeout(Duration::from_secs(3600))
            .build()
            .expect("valid spec");
        let supervisor = Supervisor::new(spec)
            .handler("stuck", Hangs)
            .expect("declared")
            .listen(|event: &Event| match event.event_type() {
                EventType::Connected => println!("UP"),
                EventType::Stopping => println!("STOPPING"),
                _ => {}
            });
        let control = supervisor.control();
        supervisor
            .run_until_signal()
            .await
            .expect("signal handlers install");
        match control.state("stuck").map(|s| s.state) {
            Some(ConnState::Stopped { reason }) => println!("FINAL stopped: {reason}"),
            other => println!("FINAL {other:?}"),
        }
    });
}

/// Set in the child's environment for the tests of what follows the
/// return: `restore` or `exit`.
const AFTER: &str = "LINESMAN_SUPERVISOR_SIGNAL_AFTER";

/// The child of the tests below: supervises one connection until a signal,
/// says which signal ended the run, then `restore`s the default actions
/// and works on for a minute (only a signal can end it sooner), or `exit`s
/// by the signal at once.
fn child_after(mode: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let report = runtime.block_on(async {
        let echo = peer(Behavior::Echo).await;
        let spec = Spec::builder()
            .connection(conn("feed", echo.endpoint()))
            .build()
            .expect("valid spec");
        let supervisor = Supervisor::new(spec).listen(|event: &Event| {
            if event.event_type() == EventType::Connected {
                println!("UP");
            }
        });
        supervisor
            .run_until_signal()
            .await
            .expect("signal handlers install")
    });
    let Some(signal) = report.signal else {
        println!("RETURNED without a signal");
        return;
    };
    println!("RETURNED {signal}");
    match mode {
        "exit" => signal.exit(),
        _ => {
            restore_default_signals().expect("default actions restored");
            println!("WORKING");
            // Work that outlives the parent's patience: only the signal
            // ends it in time.
            std::thread::sleep(LIMIT * 4);
            println!("STILL ALIVE");
        }
    }
}

/// Runs this test binary again as [`child_after`] in `mode`, and returns
/// it with its stdout's lines.
fn spawn_after(test: &str, mode: &str) -> (Child, mpsc::Receiver<String>) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(AFTER, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test binary runs again");
    let lines = read_lines(&mut child);
    (child, lines)
}

/// Waits (bounded) for the line that contains `marker`; the line from it on.
fn expect_line(lines: &mpsc::Receiver<String>, marker: &str) -> String {
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("no `{marker}` from the child; it said {seen:?}"));
        if let Some(at) = line.find(marker) {
            return line[at..].to_owned();
        }
        seen.push(line);
    }
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn after_the_run_a_second_sigterm_ends_the_process_once_defaults_are_restored() {
    if let Some(mode) = std::env::var_os(AFTER) {
        return child_after(&mode.to_string_lossy());
    }
    let (mut child, lines) = spawn_after(
        "signal::after_the_run_a_second_sigterm_ends_the_process_once_defaults_are_restored",
        "restore",
    );
    expect_line(&lines, "UP");
    send(&child, "-TERM");
    assert_eq!(expect_line(&lines, "RETURNED"), "RETURNED SIGTERM");
    expect_line(&lines, "WORKING");
    // tokio still has its handler installed; without the restored default
    // this SIGTERM would be caught and dropped, and the child would work
    // on past the wait below.
    send(&child, "-TERM");
    let status = wait(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
}

#[test]
fn signal_exit_ends_the_process_by_the_signal_that_ended_the_run() {
    if let Some(mode) = std::env::var_os(AFTER) {
        return child_after(&mode.to_string_lossy());
    }
    let (mut child, lines) = spawn_after(
        "signal::signal_exit_ends_the_process_by_the_signal_that_ended_the_run",
        "exit",
    );
    expect_line(&lines, "UP");
    send(&child, "-INT");
    assert_eq!(expect_line(&lines, "RETURNED"), "RETURNED SIGINT");
    let status = wait(&mut child);
    // What a shell sees of a process killed by Ctrl-C.
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status}");
    assert_eq!(Signal::Interrupt.exit_code(), 130);
}
