//! Control commands are bounded: equal commands in a row are one, a burst
//! of restarts reconnects at most twice a second, and past eight waiting
//! commands one is refused. On paused time, against a real loopback peer.

use std::time::Duration;

use linesman_observer::{Connecting, EventType};
use linesman_supervisor::{ControlError, Spec};
use linesman_testkit::Behavior;

use crate::common::{Running, conn, peer, wait_peer};

/// Long enough for any hold to end and its restart to settle.
const QUIET: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn five_hundred_restarts_at_once_are_one_reconnect() {
    let echo = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("echo", echo.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::paused(spec);
    run.log.wait_nth("echo", EventType::Connected, 1).await;
    for _ in 0..500 {
        assert_eq!(run.control.restart("echo"), Ok(()));
    }
    run.log.wait_nth("echo", EventType::Connected, 2).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(echo.stats().accepted, 2, "{:?}", echo.stats());
    assert_eq!(run.state("echo").name(), "up");
    let log = run.stop().await;
    assert_eq!(
        log.count("echo", EventType::Connected),
        2,
        "{}",
        log.render()
    );
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_restarts_over_two_seconds_reconnects_once_per_second() {
    let echo = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("echo", echo.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::paused(spec);
    run.log.wait_nth("echo", EventType::Connected, 1).await;
    // 500 restarts, one every 4 ms: the first is carried out at once, those
    // of each following second together at its end.
    for _ in 0..500 {
        assert_eq!(run.control.restart("echo"), Ok(()));
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    let asked_last = run.log.events.len();
    tokio::time::sleep(QUIET).await;
    run.log.read_for(Duration::ZERO).await;
    let accepted = echo.stats().accepted;
    assert!(
        (2..=4).contains(&accepted),
        "{accepted} accepted for 500 restarts over 2 s"
    );
    assert_eq!(run.state("echo").name(), "up");
    // Nothing asked for was dropped: a session began after the last restart.
    let later = run.log.events[asked_last..]
        .iter()
        .filter(|e| &*e.conn == "echo" && e.payload::<Connecting>().is_some())
        .count();
    assert!(later >= 1, "{}", run.log.render());
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn past_eight_waiting_commands_one_is_refused() {
    let echo = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("echo", echo.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::paused(spec);
    run.log.wait_nth("echo", EventType::Connected, 1).await;
    // Nothing runs between these calls: all of them wait in the mailbox.
    for i in 0..8u32 {
        let sent = if i.is_multiple_of(2) {
            run.control.stop("echo")
        } else {
            run.control.start("echo")
        };
        assert_eq!(sent, Ok(()), "command {i}");
    }
    let refused = run.control.stop("echo");
    assert_eq!(
        refused,
        Err(ControlError::QueueFull {
            name: "echo".into(),
            limit: 8
        })
    );
    let message = refused.expect_err("refused").to_string();
    assert_eq!(
        message,
        "too many commands queued for connection `echo` (8 at most): wait until the last one has taken effect, then ask again"
    );
    // Equal to the last one waiting: it is that command, not refused.
    assert_eq!(run.control.start("echo"), Ok(()));

    // Once they have taken effect (stop, start, …, start: up again), the
    // connection takes commands again.
    let started = run.log.wait_nth("echo", EventType::Started, 5).await;
    run.log
        .wait(started, "echo", |e| e.event_type() == EventType::Connected)
        .await;
    assert_eq!(run.log.count("echo", EventType::Stopped), 4);
    assert_eq!(run.control.stop("echo"), Ok(()));
    run.log.wait_nth("echo", EventType::Stopped, 5).await;
    assert_eq!(run.state("echo").name(), "stopped");
    wait_peer(&echo, "every connection closed", |s| s.open == 0).await;
    run.stop().await;
}
