//! The state registry: every transition, the bookkeeping beside it
//! (attempt, restarts, last error, since), and the snapshot.

use linesman_observer::{
    Backoff, Bus, ConnState, ConnectFailed, Connected, Connecting, Disconnected, GaveUp, Lagged,
    Started, Stopped, Stopping, Waiting,
};
use std::time::{Duration, SystemTime};

#[test]
fn events_drive_the_state_and_its_bookkeeping() {
    let bus = Bus::default();
    let conn = bus.publisher("quotes").kind("feed").tags(["eu"]);
    let state = |bus: &Bus| bus.state("quotes").expect("published");

    conn.publish(Started {}).expect("open");
    assert_eq!(state(&bus).state, ConnState::Starting);
    conn.publish(Waiting {
        on: vec!["orders".into()],
    })
    .expect("open");
    assert_eq!(
        state(&bus).state,
        ConnState::Waiting {
            on: vec!["orders".into()]
        }
    );
    conn.publish(Connecting { attempt: 1 }).expect("open");
    let connecting_since = state(&bus).since;
    conn.publish(ConnectFailed {
        error: "connection refused".into(),
        attempt: 1,
    })
    .expect("open");
    let s = state(&bus);
    assert_eq!(
        s.state,
        ConnState::Down {
            reason: "connection refused".into()
        }
    );
    assert_eq!(s.last_error.as_deref(), Some("connection refused"));
    let until = SystemTime::now() + Duration::from_millis(100);
    conn.publish(Backoff {
        attempt: 2,
        delay: Duration::from_millis(100),
        until,
    })
    .expect("open");
    let s = state(&bus);
    assert_eq!(s.state, ConnState::Backoff { attempt: 2, until });
    assert_eq!(
        (s.attempt, s.restarts, s.connect_failures),
        (2, 0, 1),
        "a failed connect is no restart"
    );
    conn.publish(Connecting { attempt: 2 }).expect("open");
    conn.publish(Connecting { attempt: 3 }).expect("open");
    let s = state(&bus);
    assert_eq!(s.attempt, 3);
    assert!(s.since >= connecting_since);
    let seq = conn
        .publish(Connected {
            peer: "127.0.0.1:7001".into(),
        })
        .expect("open");
    let s = state(&bus);
    assert!(s.state.is_up());
    assert_eq!((s.last_seq(), s.last_event.conn_seq), (seq, 8));
    assert_eq!(s.last_error.as_deref(), Some("connection refused"), "kept");
    assert_eq!(s.kind().map(|kind| &**kind), Some("feed"));
    conn.publish(Disconnected {
        reason: "peer reset".into(),
    })
    .expect("open");
    assert_eq!(state(&bus).last_error.as_deref(), Some("peer reset"));
    conn.publish(Backoff {
        attempt: 4,
        delay: Duration::from_millis(100),
        until,
    })
    .expect("open");
    let s = state(&bus);
    assert_eq!(
        (s.restarts, s.connect_failures),
        (1, 1),
        "a backoff after a session that was up is a restart"
    );
    conn.publish(GaveUp {
        restarts: 20,
        window: Duration::from_secs(60),
        reason: None,
        last: None,
    })
    .expect("open");
    assert_eq!(state(&bus).state.name(), "failed");
    assert_eq!(state(&bus).last_error.as_deref(), Some("peer reset"));
    conn.publish(GaveUp {
        restarts: 0,
        window: Duration::ZERO,
        reason: Some("supervisor task panicked: boom".into()),
        last: None,
    })
    .expect("open");
    assert_eq!(state(&bus).state.name(), "failed");
    assert_eq!(
        state(&bus).last_error.as_deref(),
        Some("supervisor task panicked: boom"),
        "a reason is the last error"
    );
    conn.publish(Started {}).expect("open");
    let s = state(&bus);
    assert_eq!(
        (s.state.name(), s.attempt, s.restarts, s.connect_failures),
        ("starting", 0, 0, 0)
    );
    conn.publish(Stopping {}).expect("open");
    assert_eq!(state(&bus).state, ConnState::Stopping);
    conn.publish(Stopped {
        reason: "asked".into(),
    })
    .expect("open");
    assert_eq!(state(&bus).state.name(), "stopped");

    // The bus's own events leave the registry alone.
    let before = state(&bus);
    conn.publish(Lagged { missed: 1 }).expect("open");
    assert_eq!(state(&bus), before);
}

#[test]
fn snapshot_is_sorted_by_name_and_unknown_names_have_no_state() {
    let bus = Bus::default();
    for name in ["b", "c", "a"] {
        bus.publisher(name).publish(Started {}).expect("open");
    }
    let names: Vec<String> = bus
        .snapshot()
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(bus.state("nope").is_none());
}

#[test]
fn a_large_snapshot_is_sorted_and_each_record_is_its_connections() {
    // Many connections, published in an order unrelated to their names:
    // the snapshot reorders the records it copied, and each must still be
    // the record of the name it carries.
    let bus = Bus::default();
    let count = 1_000u32;
    for i in 0..count {
        let n = (i * 389) % count;
        bus.publisher(format!("c{n:04}"))
            .publish(Connecting { attempt: n + 1 })
            .expect("open");
    }
    let snapshot = bus.snapshot();
    assert_eq!(snapshot.len(), count as usize);
    for (i, status) in snapshot.iter().enumerate() {
        assert_eq!(&**status.name(), format!("c{i:04}"));
        assert_eq!(
            status.attempt,
            i as u32 + 1,
            "the record of {}",
            status.name()
        );
    }
}

#[test]
fn a_session_that_ends_while_stopping_leaves_the_connection_stopping() {
    let bus = Bus::default();
    let conn = bus.publisher("quotes");
    let state = |bus: &Bus| bus.state("quotes").expect("published").state;

    conn.publish(Connected {
        peer: "127.0.0.1:7001".into(),
    })
    .expect("open");
    conn.publish(Stopping {}).expect("open");
    conn.publish(Disconnected {
        reason: "stopped".into(),
    })
    .expect("open");
    assert_eq!(
        state(&bus),
        ConnState::Stopping,
        "the end is part of the stop"
    );
    let status = bus.state("quotes").expect("published");
    assert_eq!(status.last_error.as_deref(), Some("stopped"));
    conn.publish(Stopped {
        reason: "stopped by request".into(),
    })
    .expect("open");
    assert_eq!(
        state(&bus),
        ConnState::Stopped {
            reason: "stopped by request".into()
        }
    );

    // Without a stop, the same end is a connection down.
    conn.publish(Connected {
        peer: "127.0.0.1:7001".into(),
    })
    .expect("open");
    conn.publish(Disconnected {
        reason: "peer closed".into(),
    })
    .expect("open");
    assert_eq!(
        state(&bus),
        ConnState::Down {
            reason: "peer closed".into()
        }
    );
}
