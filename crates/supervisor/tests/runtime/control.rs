//! Runtime control through `SupervisorHandle`: start clears Failed, stop
//! stays stopped, restart skips a running backoff; unknown names and a
//! finished supervisor are typed errors.

use std::time::Duration;

use linesman_observer::{Backoff, Connecting, EventType};
use linesman_stream::Endpoint;
use linesman_supervisor::{BackoffPolicy, ControlError, Intensity, RestartPolicy, Spec};
use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::common::{Running, accepted_exactly, built, conn, fast, peer, refusing, wait_peer};

#[tokio::test]
async fn start_clears_failed_and_connects_again() {
    let dir = TempDir::new("supervisor-start").expect("temp dir");
    let path = dir.join("late.sock");
    let flaky = Peer::start(Listen::unix(&path), Behavior::flap(Duration::ZERO))
        .await
        .expect("unix peer");
    let policy = built(fast().intensity(Intensity::default().max_restarts(1)));
    let other = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("late", Endpoint::Unix(path.clone())).restart(policy))
        // Keeps `run` going while `late` is failed.
        .connection(conn("other", other.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    let gave_up = run.log.wait_nth("late", EventType::GaveUp, 1).await;
    assert_eq!(run.state("late").name(), "failed");
    accepted_exactly(&flaky, 2).await;

    // The peer behaves now: a new one on the same path.
    flaky.stop().await;
    let server = Peer::start(Listen::unix(&path), Behavior::Echo)
        .await
        .expect("unix peer");
    run.control.start("late").expect("late is supervised");
    let started = run
        .log
        .wait(gave_up, "late", |e| e.event_type() == EventType::Started)
        .await;
    let up = run
        .log
        .wait(started, "late", |e| e.event_type() == EventType::Connected)
        .await;
    assert!(up > started);
    accepted_exactly(&server, 1).await;
    // The restart history was cleared: the first attempt is attempt 1 again.
    let attempt = run.log.events[started..up]
        .iter()
        .find_map(|e| e.payload::<Connecting>().filter(|_| &*e.conn == "late"))
        .map(|c| c.attempt);
    assert_eq!(attempt, Some(1));
    run.stop().await;
}

#[tokio::test]
async fn stop_stays_stopped_until_started() {
    let echo = peer(Behavior::Echo).await;
    let other = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("echo", echo.endpoint()))
        // Keeps `run` going while `echo` is stopped.
        .connection(conn("other", other.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    run.log.wait_nth("echo", EventType::Connected, 1).await;

    run.control.stop("echo").expect("echo is supervised");
    let stopped = run.log.wait_nth("echo", EventType::Stopped, 1).await;
    wait_peer(&echo, "the connection closed", |s| s.open == 0).await;
    assert_eq!(run.state("echo").name(), "stopped");
    let types = run.log.types("echo");
    let at = types
        .iter()
        .position(|t| *t == EventType::Stopping)
        .expect("stopping");
    assert_eq!(
        &types[at..],
        [
            EventType::Stopping,
            EventType::Disconnected,
            EventType::Stopped
        ],
        "{}",
        run.log.render()
    );

    run.control.start("echo").expect("echo is supervised");
    run.log
        .wait(stopped, "echo", |e| e.event_type() == EventType::Connected)
        .await;
    accepted_exactly(&echo, 2).await;
    let log = run.stop().await;
    // Nothing restarted it while it was stopped: no backoff at all.
    assert_eq!(log.count("echo", EventType::Backoff), 0, "{}", log.render());
}

#[tokio::test]
async fn restart_skips_a_running_backoff() {
    let closed = refusing().await;
    let slow = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_secs(600))
                .max(Duration::from_secs(600))
                .jitter(0.0),
        )
        .build()
        .expect("a valid policy");
    let spec = Spec::builder()
        .connection(conn("slow", closed.endpoint()).restart(slow))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    let backoff = run.log.wait_nth("slow", EventType::Backoff, 1).await;
    let delay = run.log.events[backoff]
        .payload::<Backoff>()
        .expect("a backoff")
        .delay;
    assert_eq!(delay, Duration::from_secs(600));

    run.control.restart("slow").expect("slow is supervised");
    let again = run
        .log
        .wait(backoff, "slow", |e| e.event_type() == EventType::Connecting)
        .await;
    assert_eq!(
        run.log.events[again]
            .payload::<Connecting>()
            .map(|c| c.attempt),
        Some(1)
    );
    // It failed again and waits again, with a fresh restart count.
    let second = run
        .log
        .wait(again, "slow", |e| e.event_type() == EventType::Backoff)
        .await;
    assert_eq!(
        run.log.events[second]
            .payload::<Backoff>()
            .map(|b| b.attempt),
        Some(2)
    );
    run.stop().await;
}

#[tokio::test]
async fn unknown_names_and_a_finished_supervisor_are_errors() {
    let echo = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("quotes", echo.endpoint()))
        .build()
        .expect("valid spec");
    let run = Running::spec(spec);
    let control = run.control.clone();
    assert_eq!(
        control.stop("qoutes"),
        Err(ControlError::UnknownConnection {
            name: "qoutes".into(),
            suggestion: Some("quotes".into()),
        })
    );
    assert!(matches!(
        control.restart("zzz"),
        Err(ControlError::UnknownConnection {
            suggestion: None,
            ..
        })
    ));
    assert_eq!(control.names(), [std::sync::Arc::from("quotes")]);
    run.stop().await;
    assert_eq!(
        control.start("quotes"),
        Err(ControlError::NotRunning {
            name: "quotes".into()
        })
    );
    // The registry outlives the run.
    assert_eq!(control.snapshot().len(), 1);
}
