//! Restarts: after the peer closes, resets or refuses; backoff growth as
//! published; restart intensity giving up on flaps, not on connect
//! failures.

use std::time::Duration;

use linesman_observer::{Backoff, ConnState, EventType, GaveUp};
use linesman_supervisor::{BackoffPolicy, Intensity, RestartPolicy, Spec};
use linesman_testkit::Behavior;

use crate::common::{
    Running, accepted_exactly, built, conn, fast, flapping, peer, refusing, wait_peer,
};

#[tokio::test]
async fn restarts_after_the_peer_closes() {
    let feed = peer(Behavior::flap(Duration::from_millis(30))).await;
    let spec = Spec::builder()
        .connection(conn("feed", feed.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    run.log.wait_nth("feed", EventType::Connected, 3).await;
    let log = run.stop().await;

    assert!(feed.stats().accepted >= 3, "{:?}", feed.stats());
    let types = log.types("feed");
    // Each orderly close is followed by a backoff and a new attempt.
    let first_down = types
        .iter()
        .position(|t| *t == EventType::Disconnected)
        .expect("a disconnect");
    assert_eq!(
        &types[first_down..first_down + 4],
        [
            EventType::Disconnected,
            EventType::Backoff,
            EventType::Connecting,
            EventType::Connected
        ],
        "{}",
        log.render()
    );
    assert_eq!(types[0], EventType::Started);
}

#[tokio::test]
async fn restarts_after_resets() {
    let feed = peer(Behavior::Reset).await;
    let spec = Spec::builder()
        .connection(conn("feed", feed.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    // A reset comes right after the accept: whether the client sees it as
    // a failed session or as a connect that broke, it must try again.
    wait_peer(&feed, "three accepted connections", |s| s.accepted >= 3).await;
    run.log.wait_nth("feed", EventType::Backoff, 3).await;
    let log = run.stop().await;
    let backoffs: Vec<u32> = log
        .of("feed")
        .iter()
        .filter_map(|e| e.payload::<Backoff>().map(|b| b.attempt))
        .collect();
    assert_eq!(&backoffs[..3], [2, 3, 4], "{}", log.render());
}

#[tokio::test]
async fn refused_then_accepted() {
    let late = peer(Behavior::refuse(Duration::from_millis(300))).await;
    let spec = Spec::builder()
        .connection(conn("late", late.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    let up = run.log.wait_nth("late", EventType::Connected, 1).await;
    let log = run.stop().await;

    let before_up: Vec<EventType> = log.events[..up]
        .iter()
        .filter(|e| &*e.conn == "late")
        .map(|e| e.event_type())
        .collect();
    let failures = before_up
        .iter()
        .filter(|t| **t == EventType::ConnectFailed)
        .count();
    assert!(failures >= 1, "{}", log.render());
    // Every failure is followed by a backoff, then a new attempt.
    let backoffs = before_up
        .iter()
        .filter(|t| **t == EventType::Backoff)
        .count();
    assert_eq!(backoffs, failures, "{}", log.render());
    accepted_exactly(&late, 1).await;
}

#[tokio::test]
async fn backoff_grows_as_the_policy_says_for_connect_failures() {
    let closed = refusing().await;
    let policy = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(5))
                .multiplier(2.0)
                .max(Duration::from_millis(40))
                .jitter(0.0),
        )
        .intensity(Intensity::default().max_restarts(1))
        .build()
        .expect("a valid policy");
    let spec = Spec::builder()
        .connection(conn("dead", closed.endpoint()).restart(policy))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    // Connect failures are not counted by the intensity (1 here): the
    // connection goes on retrying.
    run.log.wait_nth("dead", EventType::Backoff, 6).await;
    assert!(
        !matches!(run.state("dead"), ConnState::Failed { .. }),
        "{:?}",
        run.state("dead")
    );
    let log = run.stop().await;

    let backoffs: Vec<(u32, u64)> = log
        .of("dead")
        .iter()
        .filter_map(|e| e.payload::<Backoff>())
        .map(|b| (b.attempt, b.delay.as_millis() as u64))
        .take(6)
        .collect();
    assert_eq!(
        backoffs,
        [(2, 5), (3, 10), (4, 20), (5, 40), (6, 40), (7, 40)],
        "{}",
        log.render()
    );
    assert_eq!(log.count("dead", EventType::GaveUp), 0);
}

#[tokio::test]
async fn intensity_of_two_gives_up_at_the_third_flap() {
    let feed = flapping().await;
    let policy = built(fast().intensity(Intensity::default().max_restarts(2)));
    let spec = Spec::builder()
        .connection(conn("flaky", feed.endpoint()).restart(policy))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    run.log.wait_nth("flaky", EventType::GaveUp, 1).await;
    assert!(
        matches!(run.state("flaky"), ConnState::Failed { restarts: 2, .. }),
        "{:?}",
        run.state("flaky")
    );
    let log = run.stop().await;
    assert_eq!(log.count("flaky", EventType::Connecting), 3);
    assert_eq!(log.count("flaky", EventType::Connected), 3);
    assert_eq!(log.count("flaky", EventType::Disconnected), 3);
    assert_eq!(log.count("flaky", EventType::Backoff), 2);
    let gave_up = log
        .of("flaky")
        .iter()
        .find_map(|e| e.payload::<GaveUp>().cloned())
        .expect("gave up");
    assert_eq!(gave_up.restarts, 2);
    // Failed stays failed through the shutdown: no Stopped after GaveUp.
    assert_eq!(log.types("flaky").last(), Some(&EventType::GaveUp));
    accepted_exactly(&feed, 3).await;
}

#[tokio::test]
async fn one_connect_permit_is_enough_for_every_connection_and_retry() {
    // One connect in flight at a time: a permit must come back after every
    // connect, failed or not, or the others would wait forever.
    let bad = refusing().await;
    let feed = peer(Behavior::flap(Duration::from_millis(30))).await;
    let spec = Spec::builder()
        .max_concurrent_connects(1)
        .connection(conn("bad", bad.endpoint()))
        .connection(conn("a", feed.endpoint()))
        .connection(conn("b", feed.endpoint()))
        .build()
        .expect("valid spec");
    assert_eq!(spec.max_concurrent_connects(), 1);
    let mut run = Running::spec(spec);
    run.log.wait_nth("bad", EventType::ConnectFailed, 3).await;
    run.log.wait_nth("a", EventType::Connected, 3).await;
    run.log.wait_nth("b", EventType::Connected, 3).await;
    let log = run.stop().await;
    assert!(feed.stats().accepted >= 6, "{:?}", feed.stats());
    assert_eq!(log.count("bad", EventType::Connected), 0);
}
