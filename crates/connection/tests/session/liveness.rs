//! Liveness: the idle timeout and the heartbeat, each ending a session with
//! a reason that names it; a timeout of `Duration::MAX` means never.

use std::time::Duration;

use linesman_connection::{Connection, Heartbeat, Reason, StopCause};
use linesman_observer::{Bus, Disconnected, EventType, Interest};
use linesman_testkit::{Behavior, Listen, Peer};

use crate::common::{Recorder, finish, next_frame, spec, start, up, wait_for};

#[tokio::test]
async fn a_silent_peer_ends_the_session_with_idle_timeout() {
    let peer = Peer::start(Listen::tcp(), Behavior::Silent)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("idle"));
    let after = Duration::from_millis(200);
    let spec = spec("idle", &peer).idle_timeout(Some(after));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let (conn, outcome) = finish(start(conn, 1)).await;
    assert_eq!(outcome.reason, Reason::IdleTimeout { after });
    assert!(outcome.was_up);
    let down = wait_for(&mut events, EventType::Disconnected).await;
    assert_eq!(
        down.payload::<Disconnected>().map(|d| d.reason.as_str()),
        Some("idle timeout: no bytes received for 200ms")
    );
    assert_eq!(
        conn.handle().counters().last_error.as_deref(),
        Some("idle timeout: no bytes received for 200ms")
    );
}

#[tokio::test]
async fn a_peer_that_keeps_sending_is_not_idle() {
    let feed = Behavior::SendForever {
        ty: 4,
        payload_len: 8,
        interval: Some(Duration::from_millis(20)),
    };
    let peer = Peer::start(Listen::tcp(), feed).await.expect("peer starts");
    let bus = Bus::default();
    let spec = spec("busy", &peer).idle_timeout(Some(Duration::from_millis(200)));
    let (recorder, _log, mut frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let stop = conn.session_control();
    let session = start(conn, 1);
    // Thirty frames 20 ms apart span well over the idle timeout.
    for _ in 0..30 {
        next_frame(&mut frames).await;
    }
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
}

#[tokio::test]
async fn heartbeats_reach_an_echo_peer_while_nothing_else_is_sent() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let beat = Heartbeat {
        ty: 0x7F,
        interval: Duration::from_millis(30),
    };
    let spec = spec("beat", &peer).heartbeat(Some(beat));
    let (recorder, _log, mut frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    for _ in 0..3 {
        let echoed = next_frame(&mut frames).await;
        assert_eq!(
            (echoed.ty, echoed.id, echoed.payload.len()),
            (0x7F, None, 0)
        );
    }
    assert!(handle.counters().frames_out >= 3);
    stop.stop();
    finish(session).await;
}

#[tokio::test]
async fn timeouts_of_duration_max_mean_never_and_do_not_overflow_the_clock() {
    // `Instant + Duration::MAX` panics: the session (and with it the
    // connection, for good) was lost at its first wait.
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("peer starts");
    let spec = spec("never", &peer)
        .idle_timeout(Some(Duration::MAX))
        .frame_timeout(Some(Duration::MAX));
    let (handle, stop, session, _frames) = up(spec).await;
    let reply = handle
        .request(
            linesman_ipc_codec::Frame::new(3, &b"ping"[..]),
            Duration::MAX,
        )
        .await
        .expect("a reply");
    assert_eq!(&reply.payload[..], b"ping");
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
}
