//! The signal watcher is a critical task: if it dies (here: a subscriber
//! whose writer panics on the watcher's own "shutting down" line, as
//! tracing-subscriber's `eprintln!` did on a closed stderr), SIGINT and
//! SIGTERM would no longer be heard — tokio keeps their handlers installed
//! — and only SIGKILL could end the process. `run_until_signal` shuts the
//! supervisor down instead and returns an error. In a child process (this
//! test binary run again with [`CHILD`] set), so the signal never reaches
//! the test harness.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use linesman_observer::{Event, EventType};
use linesman_supervisor::{Spec, Supervisor};
use linesman_testkit::Behavior;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::{LIMIT, conn, peer};

/// Set in the child's environment: run the supervisor instead of the test.
const CHILD: &str = "LINESMAN_SUPERVISOR_WATCHER_CHILD";
const TEST: &str = "watcher::a_dead_signal_watcher_ends_the_run_with_an_error";

#[test]
fn a_dead_signal_watcher_ends_the_run_with_an_error() {
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
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let pid = child.id().to_string();
    let mut seen = Vec::new();
    let mut expect = |marker: &str| loop {
        let Ok(line) = lines.recv_timeout(LIMIT) else {
            let _ = child.kill();
            panic!("no `{marker}` from the child; it said {seen:?}");
        };
        seen.push(line.clone());
        if let Some(at) = line.find(marker) {
            return line[at..].to_owned();
        }
    };
    expect("UP");
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let last = expect("FINAL");
    assert!(
        last.starts_with("FINAL the signal watcher panicked"),
        "{last}"
    );
    let status = child.wait().expect("the child ends");
    assert!(status.success(), "{status}");
}

/// A log writer that panics on the signal watcher's line.
struct Explodes;

impl Write for Explodes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        assert!(
            !String::from_utf8_lossy(buf).contains("shutting down gracefully"),
            "the log writer failed"
        );
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl MakeWriter<'_> for Explodes {
    type Writer = Explodes;

    fn make_writer(&self) -> Explodes {
        Explodes
    }
}

/// The child: one connection, supervised until signalled; says on stdout
/// when it is up and how the run ended.
fn child() {
    let subscriber = tracing_subscriber::fmt()
        .with_writer(Explodes)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let echo = peer(Behavior::Echo).await;
        let spec = Spec::builder()
            .connection(conn("feed", echo.endpoint()))
            .shutdown_timeout(Duration::from_secs(5))
            .build()
            .expect("valid spec");
        let supervisor = Supervisor::new(spec)
            .keep_running(true)
            .listen(|event: &Event| {
                if event.event_type() == EventType::Connected {
                    println!("UP");
                }
            });
        match supervisor.run_until_signal().await {
            Ok(_report) => println!("FINAL ok"),
            Err(error) => println!("FINAL {error}"),
        }
    });
}
