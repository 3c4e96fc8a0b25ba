//! A session's life against well- and ill-behaved peers: the events in
//! order, the handshake before `Connected`, counters, and the reason each
//! kind of end gives.

use std::io;
use std::time::Duration;

use linesman_connection::{Connection, Reason, StopCause};
use linesman_ipc_codec::Frame;
use linesman_observer::{
    Bus, ConnectFailed, Connected, Connecting, Disconnected, EventType, Interest,
};
use linesman_testkit::{Behavior, HostileKind, Listen, Peer};

use crate::common::{Call, Recorder, finish, next_event, next_frame, spec, start, wait_for};

#[tokio::test]
async fn echo_session_is_announced_up_only_after_its_handshake() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("echo"));
    let (mut recorder, log, mut frames) = Recorder::new();
    recorder.handshake = vec![Frame::new(1, "hello")];
    recorder.request = true;
    let conn = Connection::new(spec("echo", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);

    let connecting = next_event(&mut events).await;
    assert_eq!(
        connecting.payload::<Connecting>().map(|c| c.attempt),
        Some(1)
    );
    let connected = next_event(&mut events).await;
    let up = connected
        .payload::<Connected>()
        .expect("Connected follows Connecting");
    assert_eq!(up.peer, peer.local_addr().expect("tcp peer").to_string());
    // The handshake's request was answered, so the peer had it before `Connected`.
    assert!(peer.stats().frames_received >= 1);
    assert_eq!(log.items(), [Call::Connect]);
    assert!(handle.state().expect("registered").state.is_up());

    handle
        .send(Frame::new(7, "a"))
        .await
        .expect("send while up");
    handle
        .send(Frame::new(7, "bc"))
        .await
        .expect("send while up");
    assert_eq!(next_frame(&mut frames).await, Frame::new(7, "a"));
    assert_eq!(next_frame(&mut frames).await, Frame::new(7, "bc"));

    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    assert!(outcome.was_up);
    let down = next_event(&mut events).await;
    assert_eq!(
        down.payload::<Disconnected>().map(|d| d.reason.as_str()),
        Some("stopped on request")
    );
    // The reply to the handshake request completed it and never reached on_frame.
    assert_eq!(
        log.items(),
        [
            Call::Connect,
            Call::Frame(Frame::new(7, "a")),
            Call::Frame(Frame::new(7, "bc")),
            Call::Disconnect(Reason::Stopped(StopCause::Requested)),
        ]
    );
    let counters = handle.counters();
    assert_eq!((counters.frames_out, counters.frames_in), (3, 3));
    // Headers: 16 bytes with an id, 8 without; payloads 5, 1 and 2 bytes.
    assert_eq!((counters.bytes_out, counters.bytes_in), (40, 40));
    assert_eq!(counters.sessions, 1);
    assert_eq!(counters.last_error, None);
}

#[tokio::test]
async fn peer_closing_ends_the_session_with_peer_closed() {
    let peer = Peer::start(Listen::tcp(), Behavior::flap(Duration::from_millis(100)))
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("flap"));
    let (recorder, log, _frames) = Recorder::new();
    let conn = Connection::new(spec("flap", &peer), Box::new(recorder), &bus);
    let (conn, outcome) = finish(start(conn, 1)).await;
    assert_eq!(outcome.reason, Reason::PeerClosed);
    // Unasked for: a failure, so `on-failure` brings the connection back.
    assert!(outcome.was_up && outcome.reason.is_failure());
    let down = wait_for(&mut events, EventType::Disconnected).await;
    assert_eq!(
        down.payload::<Disconnected>().map(|d| d.reason.as_str()),
        Some("peer closed the connection")
    );
    assert_eq!(
        log.items(),
        [Call::Connect, Call::Disconnect(Reason::PeerClosed)]
    );
    assert_eq!(
        conn.handle().counters().last_error.as_deref(),
        Some("peer closed the connection")
    );
}

#[tokio::test]
async fn peer_reset_ends_the_session_with_reset() {
    let peer = Peer::start(Listen::tcp(), Behavior::Reset)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("reset", &peer), Box::new(recorder), &bus);
    let (conn, outcome) = finish(start(conn, 1)).await;
    assert_eq!(outcome.reason, Reason::Reset);
    assert_eq!(
        conn.handle().counters().last_error.as_deref(),
        Some("connection reset by peer")
    );
}

#[tokio::test]
async fn refused_connect_publishes_connect_failed_and_skips_the_handler() {
    let peer = Peer::start(Listen::tcp(), Behavior::refuse(Duration::from_secs(60)))
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("refused"));
    let (recorder, log, _frames) = Recorder::new();
    let conn = Connection::new(spec("refused", &peer), Box::new(recorder), &bus);
    let (conn, outcome) = finish(start(conn, 3)).await;
    let Reason::ConnectFailed { kind, error } = &outcome.reason else {
        panic!("expected ConnectFailed, got {:?}", outcome.reason);
    };
    assert_eq!(*kind, io::ErrorKind::ConnectionRefused);
    assert!(!outcome.was_up);
    assert_eq!(
        next_event(&mut events).await.event_type(),
        EventType::Connecting
    );
    let failed = next_event(&mut events).await;
    let failed = failed
        .payload::<ConnectFailed>()
        .expect("ConnectFailed follows");
    assert_eq!(failed.attempt, 3);
    assert!(failed.error.contains(error.as_str()), "{}", failed.error);
    assert!(log.items().is_empty(), "the handler never saw the session");
    assert_eq!(conn.handle().counters().sessions, 0);
    assert!(conn.handle().counters().last_error.is_some());
}

#[tokio::test]
async fn hostile_bytes_end_the_session_with_a_protocol_error_naming_the_value() {
    let expected = [
        (HostileKind::BadFlags, "unknown flag bits 0x0004"),
        (
            HostileKind::OversizedLength,
            "frame length 1073741824 exceeds max_frame",
        ),
        (HostileKind::TruncatedFrame, "stream ended inside a frame"),
    ];
    for (kind, needle) in expected {
        let peer = Peer::start(Listen::tcp(), Behavior::Hostile(kind))
            .await
            .expect("peer starts");
        let bus = Bus::default();
        let (recorder, _log, _frames) = Recorder::new();
        let conn = Connection::new(spec("hostile", &peer), Box::new(recorder), &bus);
        let (_conn, outcome) = finish(start(conn, 1)).await;
        let Reason::Protocol(message) = &outcome.reason else {
            panic!(
                "{kind:?}: expected a protocol error, got {:?}",
                outcome.reason
            );
        };
        assert!(message.contains(needle), "{kind:?}: {message}");
        assert!(outcome.reason.to_string().starts_with("protocol error: "));
    }
}
