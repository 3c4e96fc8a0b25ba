//! The conversion's tests: the state table, how events read as lines, the
//! detail of a failure, and the millisecond helpers.

use super::lines::EventLines;
use super::*;
use crate::api::{self, GaveUpCause};

#[test]
fn every_observer_state_maps_onto_one_of_the_six() {
    let now = SystemTime::now();
    let cases = [
        (ConnState::Starting, State::Connecting),
        (ConnState::Waiting { on: vec![] }, State::Waiting),
        (ConnState::Connecting { attempt: 1 }, State::Connecting),
        (ConnState::Up { peer: "p".into() }, State::Up),
        (ConnState::Down { reason: "r".into() }, State::Backoff),
        (
            ConnState::Backoff {
                attempt: 2,
                until: now,
            },
            State::Backoff,
        ),
        (ConnState::Stopping, State::Stopped),
        (ConnState::Stopped { reason: "r".into() }, State::Stopped),
        (
            ConnState::Failed {
                restarts: 3,
                window: Duration::from_secs(60),
                reason: None,
            },
            State::Failed,
        ),
    ];
    for (observer, api) in cases {
        assert_eq!(api_state(&observer), api, "{observer:?}");
    }
}

/// The lines of everything published on `bus` so far, then of what
/// `publish` publishes.
async fn lines(
    bus: &linesman_observer::Bus,
    publish: impl FnOnce(),
) -> Vec<(String, Option<State>)> {
    let mut events = bus.subscribe(linesman_observer::Interest::all());
    publish();
    bus.close().await;
    let mut lines = EventLines::default();
    let mut out = Vec::new();
    while let Some(event) = events.next().await {
        let line = lines.line(&event, || bus.state(&event.conn).map(|s| s.state));
        out.push((line.what.type_name().to_owned(), line.state));
    }
    out
}

#[tokio::test]
async fn a_disconnect_while_stopping_reads_stopped_not_backoff() {
    use linesman_observer::{Bus, Connected, Disconnected, Stopped, Stopping};
    let bus = Bus::default();
    let conn = bus.publisher("quotes");
    let got = lines(&bus, || {
        let up = || Connected {
            peer: "127.0.0.1:7001".into(),
        };
        let down = |reason: &str| Disconnected {
            reason: reason.into(),
        };
        conn.publish(up()).expect("open");
        conn.publish(down("peer closed")).expect("open");
        conn.publish(up()).expect("open");
        conn.publish(Stopping {}).expect("open");
        conn.publish(down("stopped")).expect("open");
        conn.publish(Stopped {
            reason: "stopped by request".into(),
        })
        .expect("open");
    })
    .await;
    let expected = [
        ("connected", State::Up),
        ("disconnected", State::Backoff),
        ("connected", State::Up),
        ("stopping", State::Stopped),
        ("disconnected", State::Stopped),
        ("stopped", State::Stopped),
    ];
    let expected: Vec<(String, Option<State>)> = expected
        .iter()
        .map(|(ty, state)| ((*ty).to_owned(), Some(*state)))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_replay_states_the_registry_state() {
    use linesman_observer::{Bus, Connected, Disconnected, Interest, Stopping};
    let bus = Bus::default();
    let conn = bus.publisher("quotes");
    conn.publish(Connected {
        peer: "127.0.0.1:7001".into(),
    })
    .expect("open");
    conn.publish(Stopping {}).expect("open");
    conn.publish(Disconnected {
        reason: "stopped".into(),
    })
    .expect("open");
    // Subscribed now: the first event is the replay of `disconnected`,
    // which alone would read `backoff`.
    let mut events = bus.subscribe(Interest::all());
    let replay = events.next().await.expect("the replay");
    assert!(replay.replay);
    let line = EventLines::default().line(&replay, || bus.state("quotes").map(|s| s.state));
    assert!(
        matches!(line.what, api::What::Disconnected { .. }),
        "{line:?}"
    );
    assert_eq!(line.state, Some(State::Stopped));
}

#[tokio::test]
async fn a_failure_with_a_reason_says_the_reason() {
    use linesman_observer::{Bus, GaveUp, Interest};
    let bus = Bus::default();
    let conn = bus.publisher("quotes");
    let reason = "supervisor task panicked: boom; `linesman start quotes` restarts it";
    conn.publish(GaveUp {
        restarts: 0,
        window: Duration::ZERO,
        reason: Some(reason.into()),
        last: None,
    })
    .expect("open");
    let status = bus.state("quotes").expect("a record");
    let shown = connection_status(
        &Described::default(),
        Some(&status),
        &Counters::default(),
        SystemTime::now(),
    );
    assert_eq!(
        (shown.state, shown.detail.as_str()),
        (State::Failed, reason)
    );
    assert_eq!(shown.last_error.as_deref(), Some(reason));
    let mut events = bus.subscribe(Interest::all());
    let replay = events.next().await.expect("the replay");
    let line = EventLines::default().line(&replay, || Some(status.state.clone()));
    assert_eq!(
        line.what,
        api::What::GaveUp(GaveUpCause::Failed {
            reason: reason.to_owned()
        })
    );
    assert_eq!(line.message, format!("failed: {reason}"));
}

#[test]
fn a_failed_connection_names_its_last_error() {
    use linesman_observer::{Bus, Disconnected, GaveUp};
    let bus = Bus::default();
    let conn = bus.publisher("quotes");
    conn.publish(GaveUp {
        restarts: 10,
        window: Duration::from_secs(600),
        reason: None,
        last: None,
    })
    .expect("open");
    let status = bus.state("quotes").expect("published");
    assert_eq!(detail(&status), "gave up after 10 restarts within 10m");
    conn.publish(Disconnected {
        reason: "peer closed the connection".into(),
    })
    .expect("open");
    conn.publish(GaveUp {
        restarts: 10,
        window: Duration::from_secs(600),
        reason: None,
        last: None,
    })
    .expect("open");
    let status = bus.state("quotes").expect("published");
    assert_eq!(
        detail(&status),
        "gave up after 10 restarts within 10m; last: peer closed the connection"
    );
}

#[test]
fn millis_never_go_negative() {
    let now = SystemTime::now();
    let later = now + Duration::from_millis(1500);
    assert_eq!(millis_between(now, later), 1500);
    assert_eq!(millis_between(later, now), 0);
}

#[test]
fn state_words_round_trip() {
    for state in State::ALL {
        assert_eq!(state.as_str().parse::<State>(), Ok(state));
        let json = serde_json::to_string(&state).expect("serializable");
        assert_eq!(json, format!("\"{state}\""));
    }
    let err = "down".parse::<State>().expect_err("not an API state");
    assert!(err.contains("`down`"), "{err}");
}
