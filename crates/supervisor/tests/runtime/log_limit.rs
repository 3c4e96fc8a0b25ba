//! Log floods: 200 connect failures of one connection, on paused time one
//! second apart, are logged in a handful of lines — the first failure,
//! then a summary a minute carrying the count — and a change of reason is
//! logged at once. A Unix socket path fails every connect at once, without
//! real I/O time: first with no file there, then with a stale socket file
//! (nothing listening), which refuses.

use std::time::Duration;

use linesman_observer::{ConnectFailed, EventType};
use linesman_stream::Endpoint;
use linesman_supervisor::{BackoffPolicy, Intensity, RestartPolicy, Spec};
use linesman_testkit::TempDir;

use crate::captured::Captured;
use crate::common::{Running, conn};

/// Lines of connection `db` (inside its span).
fn of_db(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|line| line.contains("connection{conn=db"))
        .collect()
}

// Current thread: the subscriber set for this thread sees every task.
#[tokio::test(start_paused = true)]
async fn two_hundred_connect_failures_make_a_handful_of_lines_and_a_new_reason_shows_at_once() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let dir = TempDir::new("supervisor-log-limit").expect("temp dir");
    let path = dir.join("db.sock");
    let every_second = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_secs(1))
                .max(Duration::from_secs(1))
                .jitter(0.0),
        )
        .intensity(Intensity::default().max_restarts(1000))
        .build()
        .expect("a valid policy");
    let spec = Spec::builder()
        .connection(conn("db", Endpoint::Unix(path.clone())).restart(every_second))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);

    // 200 failures, 199 s: the first line, then a summary at 60, 120, 180 s.
    run.log.wait_nth("db", EventType::ConnectFailed, 200).await;
    let lines = captured.lines();
    let db = of_db(&lines);
    assert_eq!(db.len(), 4, "{db:#?}");
    assert!(
        db[0].contains("WARN") && db[0].contains("connect failed"),
        "{db:#?}"
    );
    for summary in &db[1..] {
        assert!(
            summary.contains("WARN")
                && summary
                    .contains("still failing (no such socket file), 60 attempts in the last 1m")
                && summary.contains("attempts=60"),
            "{summary}"
        );
    }

    // A stale socket file: the next attempt is refused, a new reason.
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind a socket file"));
    let refused = run
        .log
        .wait(0, "db", |e| {
            e.payload::<ConnectFailed>()
                .is_some_and(|f| f.error.contains("refused"))
        })
        .await;
    let lines = captured.lines();
    let db = of_db(&lines);
    assert_eq!(db.len(), 5, "the change of reason is one line: {db:#?}");
    assert!(
        db[4].contains("WARN")
            && db[4].contains("connect failed")
            && db[4].contains("Connection refused")
            && db[4].contains("previous_reason_not_logged="),
        "{}",
        db[4]
    );
    let attempt = run.log.events[refused]
        .payload::<ConnectFailed>()
        .map(|f| f.attempt);
    assert!(
        attempt.is_some_and(|a| db[4].contains(&format!("attempt={a}"))),
        "{}",
        db[4]
    );
    run.stop().await;
}
