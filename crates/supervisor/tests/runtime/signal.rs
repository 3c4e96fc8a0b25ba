//! `run_until_signal` with real signals, in a child process (this test
//! binary run again with [`CHILD`] set), so that the signals never reach
//! the test harness: a first SIGTERM starts a graceful shutdown, a second
//! forces it while a handler's `on_disconnect` hangs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use linesman_observer::{ConnState, Event, EventType};
use linesman_supervisor::{Spec, Supervisor};
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
