//! Request/response: replies matched by id whatever their order, timeouts,
//! and pending requests failing when the session ends.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use linesman_connection::{
    Connection, Handler, HandlerError, Link, Reason, RequestError, SendError,
};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, EventType, Interest};
use linesman_testkit::{Behavior, Listen, Peer};
use tokio::sync::{Notify, mpsc};

use crate::common::{Recorder, T, finish, next_frame, spec, start, wait_for};

const GATE: u32 = 0x0100;

/// Holds the session in `on_frame` on a `GATE` frame until the test opens
/// the gate, so frames pile up unread in the socket meanwhile.
struct Gated {
    entered: mpsc::UnboundedSender<()>,
    gate: Arc<Notify>,
    frames: mpsc::UnboundedSender<Frame>,
}
impl Handler for Gated {
    async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        if frame.ty == GATE {
            let _ = self.entered.send(());
            self.gate.notified().await;
        } else {
            let _ = self.frames.send(frame);
        }
        Ok(())
    }
}

#[tokio::test]
async fn replies_arriving_in_reverse_order_complete_their_own_requests() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("rr"));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let (frames_tx, mut frames) = mpsc::unbounded_channel();
    let gate = Arc::new(Notify::new());
    let handler = Gated {
        entered: entered_tx,
        gate: Arc::clone(&gate),
        frames: frames_tx,
    };
    let conn = Connection::new(spec("rr", &peer), Box::new(handler), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // Hold the session in on_frame; behind the gate frame, the echoes of
    // two frames carrying ids 2 then 1 wait in the socket, unread.
    handle.send(Frame::new(GATE, "")).await.expect("gate sent");
    tokio::time::timeout(T, entered.recv())
        .await
        .expect("handler entered the gate");
    handle
        .send(Frame::request(9, 2, "reply 2"))
        .await
        .expect("sent");
    handle
        .send(Frame::request(9, 1, "reply 1"))
        .await
        .expect("sent");
    peer.wait_frames_received(3).await;

    // The connection's first two request ids are 1 and 2: register both.
    let mut first = Box::pin(handle.request(Frame::new(9, "request 1"), T));
    let mut second = Box::pin(handle.request(Frame::new(9, "request 2"), T));
    assert!((&mut first).now_or_never().is_none());
    assert!((&mut second).now_or_never().is_none());
    gate.notify_one();

    // Id 2's reply arrived first and completed the second request; id 1's
    // completed the first. The echo peer marks what it sends back to a
    // frame with an id as its reply.
    let second = second.await.expect("second request answered");
    let first = first.await.expect("first request answered");
    assert_eq!(second, Frame::request(9, 2, "reply 2").with_reply(true));
    assert_eq!(first, Frame::request(9, 1, "reply 1").with_reply(true));
    // The echoes of the requests themselves came later, marked as replies
    // with no request waiting for them: counted, not given to on_frame.
    handle
        .send(Frame::new(9, "marker"))
        .await
        .expect("marker sent");
    assert_eq!(next_frame(&mut frames).await, Frame::new(9, "marker"));
    assert_eq!(handle.counters().unmatched_replies, 2);

    stop.stop();
    finish(session).await;
}

#[tokio::test]
async fn concurrent_requests_each_get_their_own_reply() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("many"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("many", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    let tasks: Vec<_> = (0..100u32)
        .map(|i| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let reply = handle
                    .request(Frame::new(3, format!("payload {i}")), T)
                    .await
                    .expect("answered");
                (i, reply)
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let (i, reply) = task.await.expect("request task");
        assert_eq!(&reply.payload[..], format!("payload {i}").as_bytes());
        ids.push(reply.id.expect("a reply carries its request's id"));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 100, "every request had an id of its own");
    stop.stop();
    finish(session).await;
}

#[tokio::test]
async fn a_request_the_codec_refuses_fails_at_once_and_the_next_one_is_answered() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("big"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("big", &peer).max_frame(64), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // The request does not wait for its frame to be written, only for its
    // reply: the writer's refusal must reach it through the reply, well
    // before the (long) timeout.
    let refused = handle.request(Frame::new(3, vec![0u8; 100]), T).await;
    match refused {
        Err(RequestError::Send(SendError::Encode(message))) => {
            assert!(message.contains("64"), "names the limit: {message}");
        }
        other => panic!("expected an encode error, got {other:?}"),
    }
    let reply = handle
        .request(Frame::new(3, "small"), T)
        .await
        .expect("the session is still up and answers");
    assert_eq!(&reply.payload[..], b"small");
    assert_eq!(
        handle.counters().frames_out,
        1,
        "only the small frame was written"
    );
    stop.stop();
    finish(session).await;
}

#[tokio::test]
async fn a_request_without_reply_times_out() {
    let peer = Peer::start(Listen::tcp(), Behavior::Silent)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("silent"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("silent", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    let after = Duration::from_millis(100);
    let result = handle.request(Frame::new(3, "anyone?"), after).await;
    assert_eq!(result, Err(RequestError::TimedOut { after }));
    stop.stop();
    finish(session).await;
}

#[tokio::test]
async fn each_request_times_out_at_its_own_deadline_whatever_the_order() {
    let peer = Peer::start(Listen::tcp(), Behavior::Silent)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("deadlines"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("deadlines", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // A long request first, then shorter ones: the one request clock of
    // the connection must wake for the shortest, not the first.
    let long = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.request(Frame::new(3, "long"), T * 100).await })
    };
    tokio::task::yield_now().await;
    let mut short = Vec::new();
    for millis in [300u64, 100, 200] {
        let handle = handle.clone();
        let after = Duration::from_millis(millis);
        short.push(tokio::spawn(async move {
            let result = handle.request(Frame::new(3, "short"), after).await;
            (after, result)
        }));
    }
    for task in short {
        let (after, result) = task.await.expect("request task");
        assert_eq!(result, Err(RequestError::TimedOut { after }));
    }
    assert!(!long.is_finished(), "the long request still waits");
    stop.stop();
    finish(session).await;
    let lost = long.await.expect("request task");
    assert_eq!(lost, Err(RequestError::ConnectionLost));
}

#[tokio::test]
async fn pending_requests_fail_with_connection_lost_when_the_peer_drops() {
    // A peer that reads and counts, but never answers.
    let quiet = Behavior::Send {
        count: 0,
        ty: 1,
        payload_len: 0,
    };
    let peer = Peer::start(Listen::tcp(), quiet)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("lost"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec("lost", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    let pending = tokio::spawn({
        let handle = handle.clone();
        async move { handle.request(Frame::new(3, "lost"), T).await }
    });
    peer.wait_frames_received(1).await;
    peer.drop_all().await;
    let result = tokio::time::timeout(T, pending)
        .await
        .expect("in time")
        .expect("task");
    assert_eq!(result, Err(RequestError::ConnectionLost));
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::PeerClosed);
}
