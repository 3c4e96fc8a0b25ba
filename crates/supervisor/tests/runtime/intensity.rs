//! The default restart policy against real loopback peers, on paused tokio
//! time (the runtime skips ahead through every backoff): a peer that
//! accepts and drops again and again makes its connection `failed`, and
//! `start` revives it; a peer that refuses for half an hour never does.

use std::time::Duration;

use linesman_connection::ConnectionSpec;
use linesman_observer::{Connecting, EventType, GaveUp};
use linesman_supervisor::{Intensity, Spec, Supervised};

use linesman_testkit::Behavior;

use crate::common::{Running, flapping, peer, refusing};

/// A connection with the default restart policy.
fn default_policy(name: &str, endpoint: linesman_stream::Endpoint) -> Supervised {
    Supervised::new(ConnectionSpec::new(name, endpoint))
}

#[tokio::test(start_paused = true)]
async fn a_flapping_peer_fails_under_the_default_policy_and_start_revives_it() {
    let feed = flapping().await;
    let other = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(default_policy("feed", feed.endpoint()))
        // Keeps `run` going while `feed` is failed.
        .connection(default_policy("other", other.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::paused(spec);
    let gave_up = run.log.wait_nth("feed", EventType::GaveUp, 1).await;
    assert_eq!(run.state("feed").name(), "failed");
    let payload = run.log.events[gave_up]
        .payload::<GaveUp>()
        .cloned()
        .expect("a gave_up event");
    let defaults = Intensity::default();
    assert_eq!(
        (payload.restarts, payload.window),
        (defaults.max_restarts, defaults.window)
    );
    // Ten restarts, eleven sessions that came up and dropped.
    let before: Vec<EventType> = run.log.events[..gave_up]
        .iter()
        .filter(|e| &*e.conn == "feed")
        .map(|e| e.event_type())
        .collect();
    let count = |ty| before.iter().filter(|t| **t == ty).count();
    assert_eq!(count(EventType::Connected), 11, "{}", run.log.render());
    assert_eq!(count(EventType::Disconnected), 11, "{}", run.log.render());
    assert_eq!(count(EventType::Backoff), 10, "{}", run.log.render());
    assert_eq!(feed.stats().accepted, 11, "{:?}", feed.stats());

    run.control.start("feed").expect("feed is supervised");
    let started = run
        .log
        .wait(gave_up, "feed", |e| e.event_type() == EventType::Started)
        .await;
    let up = run
        .log
        .wait(started, "feed", |e| e.event_type() == EventType::Connected)
        .await;
    let attempt = run.log.events[started..up]
        .iter()
        .find_map(|e| e.payload::<Connecting>().filter(|_| &*e.conn == "feed"))
        .map(|c| c.attempt);
    assert_eq!(attempt, Some(1), "start cleared the restart history");
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_refusing_peer_is_retried_for_half_an_hour_and_never_fails() {
    let closed = refusing().await;
    let spec = Spec::builder()
        .connection(default_policy("absent", closed.endpoint()))
        .build()
        .expect("valid spec");
    let mut run = Running::paused(spec);
    run.log.read_for(Duration::from_secs(30 * 60)).await;
    let state = run.state("absent");
    assert!(
        matches!(state.name(), "backoff" | "connecting" | "down"),
        "{state:?}"
    );
    let log = run.stop().await;
    assert_eq!(
        log.count("absent", EventType::GaveUp),
        0,
        "{}",
        log.render()
    );
    // 81 s for the first ten retries, then one every 24 s to 30 s.
    let failures = log.count("absent", EventType::ConnectFailed);
    assert!(
        failures >= 60,
        "{failures} connect failures:\n{}",
        log.render()
    );
    let lagged = log
        .events
        .iter()
        .filter(|e| e.event_type() == EventType::Lagged);
    assert_eq!(lagged.count(), 0, "the log missed no event");
    assert_eq!(closed.stats().accepted, 0);
}
