//! Send semantics: refused at once while down, resolved only once written,
//! carried by the outbox into the next session in order and bounded, and
//! closed for good by `close`.

use std::time::Duration;

use bytes::Bytes;
use linesman_connection::{
    Connection, ConnectionSpec, Outbox, Reason, RequestError, SendError, StopCause,
};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, EventType, Interest};
use linesman_testkit::{Behavior, Listen, Peer};

use crate::common::{Call, Recorder, T, finish, next_frame, spec, start, wait_for};

#[tokio::test]
async fn without_outbox_a_send_while_down_fails_at_once() {
    let bus = Bus::default();
    let spec = ConnectionSpec::new("down", "tcp://127.0.0.1:9".parse().expect("endpoint"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    assert_eq!(
        handle.send(Frame::new(1, "x")).await,
        Err(SendError::NotConnected)
    );
    assert_eq!(
        handle.request(Frame::new(1, "x"), T).await,
        Err(RequestError::Send(SendError::NotConnected))
    );
}

#[tokio::test]
async fn a_send_resolves_only_once_its_frame_is_written() {
    // The peer never reads: a frame larger than the socket buffers cannot
    // be written, so its send must not resolve; when the session ends in
    // the middle of it, the sender is told.
    let peer = Peer::start(Listen::tcp(), Behavior::Silent)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("stuck"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("stuck", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    let big = Frame::new(1, Bytes::from(vec![0u8; 12 << 20]));
    let send = tokio::spawn({
        let handle = handle.clone();
        async move { handle.send(big).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !send.is_finished(),
        "a frame the peer cannot take is not acknowledged"
    );
    stop.stop();
    let result = tokio::time::timeout(T, send)
        .await
        .expect("in time")
        .expect("task");
    assert_eq!(result, Err(SendError::ConnectionLost));
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    assert_eq!(handle.counters().frames_out, 0);
}

#[tokio::test]
async fn a_resolved_send_has_reached_the_peer() {
    let peer = Peer::start(
        Listen::tcp(),
        Behavior::Send {
            count: 0,
            ty: 1,
            payload_len: 0,
        },
    )
    .await
    .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("ok"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("ok", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    for i in 0..10u8 {
        handle
            .send(Frame::new(2, vec![i; 100]))
            .await
            .expect("written");
    }
    assert_eq!(handle.counters().frames_out, 10);
    tokio::time::timeout(T, peer.wait_frames_received(10))
        .await
        .expect("the peer got all 10");
    stop.stop();
    finish(session).await;
}

#[tokio::test]
async fn the_outbox_carries_sends_into_the_next_session_in_order_and_is_bounded() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let spec = spec("outbox", &peer).outbox(Some(Outbox {
        max_frames: 3,
        max_bytes: 1024,
    }));
    let (mut recorder, log, mut frames) = Recorder::new();
    recorder.handshake = vec![Frame::new(1, "hello")];
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();

    // While down: three sends wait, the fourth is refused at once.
    let waiting: Vec<_> = (1..=3u8)
        .map(|i| {
            let handle = handle.clone();
            tokio::spawn(async move { handle.send(Frame::new(5, vec![i])).await })
        })
        .collect();
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        handle.send(Frame::new(5, "late")).await,
        Err(SendError::OutboxFull {
            max_frames: 3,
            max_bytes: 1024
        })
    );
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "they wait for a session"
    );

    let stop = conn.session_control();
    let session = start(conn, 1);
    for task in waiting {
        let result = tokio::time::timeout(T, task)
            .await
            .expect("in time")
            .expect("task");
        assert_eq!(result, Ok(()));
    }
    // The handshake's frame first, then the outbox in order.
    assert_eq!(next_frame(&mut frames).await, Frame::new(1, "hello"));
    for i in 1..=3u8 {
        assert_eq!(next_frame(&mut frames).await, Frame::new(5, vec![i]));
    }
    stop.stop();
    finish(session).await;
    assert_eq!(log.items().first(), Some(&Call::Connect));
}

#[tokio::test]
async fn the_outbox_byte_bound_refuses_what_does_not_fit() {
    let bus = Bus::default();
    let spec = ConnectionSpec::new("bytes", "tcp://127.0.0.1:9".parse().expect("endpoint")).outbox(
        Some(Outbox {
            max_frames: 10,
            max_bytes: 4,
        }),
    );
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let waiting = tokio::spawn({
        let handle = handle.clone();
        async move { handle.send(Frame::new(1, "abc")).await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        handle.send(Frame::new(1, "de")).await,
        Err(SendError::OutboxFull {
            max_frames: 10,
            max_bytes: 4
        })
    );
    handle.close();
    let result = tokio::time::timeout(T, waiting)
        .await
        .expect("in time")
        .expect("task");
    assert_eq!(result, Err(SendError::Closed));
}

#[tokio::test]
async fn close_fails_waiting_and_later_sends_with_closed() {
    let bus = Bus::default();
    let spec = ConnectionSpec::new("closed", "tcp://127.0.0.1:9".parse().expect("endpoint"))
        .outbox(Some(Outbox {
            max_frames: 10,
            max_bytes: 1024,
        }));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let waiting = tokio::spawn({
        let handle = handle.clone();
        async move { handle.send(Frame::new(1, "waits")).await }
    });
    let request = tokio::spawn({
        let handle = handle.clone();
        async move { handle.request(Frame::new(1, "asks"), T).await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!handle.is_closed());
    handle.close();
    assert!(handle.is_closed());
    let result = tokio::time::timeout(T, waiting)
        .await
        .expect("in time")
        .expect("task");
    assert_eq!(result, Err(SendError::Closed));
    let result = tokio::time::timeout(T, request)
        .await
        .expect("in time")
        .expect("task");
    assert_eq!(result, Err(RequestError::Closed));
    assert_eq!(
        handle.send(Frame::new(1, "after")).await,
        Err(SendError::Closed)
    );
    assert_eq!(
        handle.request(Frame::new(1, "after"), T).await,
        Err(RequestError::Closed)
    );
}

#[tokio::test]
async fn the_writer_task_starts_on_the_first_send_only() {
    // A connection that only receives keeps no writer task; the first frame
    // to write starts it, and the send still resolves once written.
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("lazy"));
    let (recorder, _log, mut frames) = Recorder::new();
    let conn = Connection::new(spec("lazy", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    peer.wait_connections(1).await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();

    handle
        .send(Frame::new(3, "ping"))
        .await
        .expect("written once the writer runs");
    assert_eq!(metrics.num_alive_tasks(), before + 1, "the writer started");
    assert_eq!(next_frame(&mut frames).await, Frame::new(3, "ping"));
    stop.stop();
    assert_eq!(
        finish(session).await.1.reason,
        Reason::Stopped(StopCause::Requested)
    );
}
