//! Handler failures stay inside their session, and a stopped session ends
//! in order: `on_disconnect`, then `before_close` with the fd still open.

use linesman_connection::{Connection, Reason, StopCause};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, ConnectFailed, EventType, Interest};
use linesman_stream::SocketHooks;
use linesman_testkit::Peer;

use crate::common::{Call, Log, Recorder, T, finish, next_event, spec, start, wait_for};

#[tokio::test]
async fn a_panic_in_on_frame_ends_only_that_session() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("panics"));
    let (mut recorder, log, _frames) = Recorder::new();
    recorder.panic_on = Some(66);
    let conn = Connection::new(spec("panics", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let other_peer = Peer::echo().await.expect("peer starts");
    let (other_recorder, _l, _f) = Recorder::new();
    let other = Connection::new(spec("other", &other_peer), Box::new(other_recorder), &bus);
    let other_handle = other.handle();
    let other_stop = other.session_control();
    let other_session = start(other, 1);

    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    handle.send(Frame::new(66, "boom")).await.expect("sent");
    let (conn, outcome) = finish(session).await;
    let Reason::HandlerPanic(message) = &outcome.reason else {
        panic!("expected HandlerPanic, got {:?}", outcome.reason);
    };
    assert!(message.contains("boom on frame type 66"), "{message}");
    assert!(outcome.reason.to_string().starts_with("handler panicked: "));
    assert_eq!(
        log.items().last(),
        Some(&Call::Disconnect(outcome.reason.clone()))
    );

    // The process and the other connection go on.
    let reply = other_handle
        .request(Frame::new(1, "still here"), T)
        .await
        .expect("the other connection answers");
    assert_eq!(&reply.payload[..], b"still here");
    other_stop.stop();
    finish(other_session).await;

    // The same handler instance serves the next session.
    let stop = conn.session_control();
    let session = start(conn, 2);
    wait_for(&mut events, EventType::Connected).await;
    handle.send(Frame::new(1, "again")).await.expect("sent");
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    assert_eq!(handle.counters().sessions, 2);
    let connects = log.items().iter().filter(|c| **c == Call::Connect).count();
    assert_eq!(connects, 2);
}

#[tokio::test]
async fn an_error_from_on_frame_ends_the_session_with_its_message() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("errs"));
    let (mut recorder, _log, _frames) = Recorder::new();
    recorder.fail_on = Some(13);
    let conn = Connection::new(spec("errs", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    handle.send(Frame::new(13, "bad")).await.expect("sent");
    let (_conn, outcome) = finish(session).await;
    assert_eq!(
        outcome.reason,
        Reason::Handler("refused frame type 13".into())
    );
    assert!(outcome.was_up);
}

#[tokio::test]
async fn a_failed_handshake_is_a_failed_connect_not_a_disconnect() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("shy"));
    let (mut recorder, log, _frames) = Recorder::new();
    recorder.fail_connect = Some("peer speaks version 1");
    let conn = Connection::new(spec("shy", &peer), Box::new(recorder), &bus);
    let (conn, outcome) = finish(start(conn, 1)).await;
    assert_eq!(
        outcome.reason,
        Reason::HandshakeFailed("peer speaks version 1".into())
    );
    assert!(!outcome.was_up);
    assert_eq!(
        next_event(&mut events).await.event_type(),
        EventType::Connecting
    );
    let failed = next_event(&mut events).await;
    let failed = failed
        .payload::<ConnectFailed>()
        .expect("ConnectFailed, never Connected");
    assert!(
        failed.error.starts_with("handshake failed: "),
        "{}",
        failed.error
    );
    assert_eq!(log.items(), [Call::Disconnect(outcome.reason.clone())]);
    assert_eq!(conn.handle().counters().sessions, 0);
}

#[tokio::test]
async fn a_stop_runs_on_disconnect_then_before_close_with_the_fd_open() {
    /// What the hook saw: whether the fd was still usable, and how many
    /// handler calls had happened by then.
    #[derive(Debug, Clone, PartialEq)]
    struct BeforeClose {
        local_addr_ok: bool,
        handler_calls: usize,
    }
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("stops"));
    let (recorder, log, _frames) = Recorder::new();
    let marks: Log<BeforeClose> = Log::default();
    let hooks = SocketHooks::default().before_close({
        let (marks, log) = (marks.clone(), log.clone());
        move |sock| {
            marks.push(BeforeClose {
                local_addr_ok: sock.local_addr().is_ok(),
                handler_calls: log.items().len(),
            })
        }
    });
    let conn = Connection::new(spec("stops", &peer).hooks(hooks), Box::new(recorder), &bus);
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    assert!(marks.items().is_empty());
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    assert!(!outcome.reason.is_failure());
    assert_eq!(
        log.items(),
        [
            Call::Connect,
            Call::Disconnect(Reason::Stopped(StopCause::Requested))
        ]
    );
    // The hook ran once, after on_disconnect (both calls were logged), on an open fd.
    assert_eq!(
        marks.items(),
        [BeforeClose {
            local_addr_ok: true,
            handler_calls: 2
        }]
    );
    let down = wait_for(&mut events, EventType::Disconnected).await;
    assert!(!down.replay);
    tokio::time::timeout(T, peer.wait_open(0))
        .await
        .expect("the peer saw the close");
}

#[tokio::test]
async fn a_session_dropped_half_way_still_closes_its_socket_and_settles_sends() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("dropped"));
    let closes: Log<bool> = Log::default();
    let hooks = SocketHooks::default().before_close({
        let closes = closes.clone();
        move |sock| closes.push(sock.local_addr().is_ok())
    });
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(
        spec("dropped", &peer).hooks(hooks),
        Box::new(recorder),
        &bus,
    );
    let handle = conn.handle();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    session.abort();
    let _ = session.await;
    tokio::time::timeout(T, peer.wait_open(0))
        .await
        .expect("the peer saw the close");
    assert_eq!(
        closes.items(),
        [true],
        "before_close ran once, on an open fd"
    );
    assert_eq!(
        handle.send(Frame::new(1, "x")).await,
        Err(linesman_connection::SendError::NotConnected)
    );
}
