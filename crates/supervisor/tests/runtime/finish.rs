//! What `on-failure` restarts: a peer's close that linesman did not ask for
//! is a failure (a long-lived feed that closes must come back); the one
//! clean end is the application's own, `Link::finish`, after which
//! `on-failure` stops the connection and `always` restarts it.

use std::time::Duration;

use linesman_connection::{Handler, HandlerError, Link};
use linesman_ipc_codec::Frame;
use linesman_observer::{ConnState, EventType, Stopped};
use linesman_supervisor::{RestartMode, Spec, Supervisor};
use linesman_testkit::Behavior;

use crate::common::{Running, accepted_exactly, built, conn, fast, peer, wait_peer};

#[tokio::test]
async fn on_failure_restarts_after_the_peer_closes() {
    let feed = peer(Behavior::flap(Duration::from_millis(30))).await;
    let spec = Spec::builder()
        .connection(
            conn("feed", feed.endpoint()).restart(built(fast().mode(RestartMode::OnFailure))),
        )
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    run.log.wait_nth("feed", EventType::Connected, 3).await;
    let log = run.stop().await;
    assert!(feed.stats().accepted >= 3, "{:?}", feed.stats());
    let reasons: Vec<&str> = log
        .of("feed")
        .iter()
        .filter_map(|e| e.payload::<Stopped>().map(|s| s.reason.as_str()))
        .collect();
    assert_eq!(reasons, ["shutdown"], "{}", log.render());
}

/// Finishes its session on purpose as soon as it is up.
struct OneShot;

impl Handler for OneShot {
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        link.finish();
        Ok(())
    }

    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[tokio::test]
async fn on_failure_stops_after_the_application_finishes() {
    let feed = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(
            conn("once", feed.endpoint()).restart(built(fast().mode(RestartMode::OnFailure))),
        )
        .build()
        .expect("valid spec");
    let supervisor = Supervisor::new(spec)
        .handler("once", OneShot)
        .expect("a known connection");
    let mut run = Running::start(supervisor);
    let at = run.log.wait_nth("once", EventType::Stopped, 1).await;
    let stopped = run.log.events[at]
        .payload::<Stopped>()
        .map(|s| s.reason.clone());
    assert_eq!(
        stopped.as_deref(),
        Some("restart policy on-failure does not restart after: finished by the application")
    );
    assert!(matches!(run.state("once"), ConnState::Stopped { .. }));
    let log = run.stop().await;
    assert_eq!(
        log.count("once", EventType::Connected),
        1,
        "{}",
        log.render()
    );
    // The peer counts a connection when its task for it first runs, which
    // may come after this session connected, finished and closed.
    accepted_exactly(&feed, 1).await;
}

#[tokio::test]
async fn always_restarts_after_the_application_finishes() {
    let feed = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("again", feed.endpoint()).restart(built(fast().mode(RestartMode::Always))))
        .build()
        .expect("valid spec");
    let supervisor = Supervisor::new(spec)
        .handler("again", OneShot)
        .expect("a known connection");
    let mut run = Running::start(supervisor);
    run.log.wait_nth("again", EventType::Connected, 3).await;
    wait_peer(&feed, "three connections", |s| s.accepted >= 3).await;
    run.stop().await;
}
