//! The send queue and pending requests without sockets: who may enqueue in
//! which phase, what the writer may take, and what a session's end keeps.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use linesman_ipc_codec::{Frame, Replies};
use linesman_observer::Bus;
use tokio::sync::oneshot::error::TryRecvError;

use super::{Phase, Shared};
use crate::error::{RequestError, SendError};
use crate::spec::{Outbox, Target};

fn shared(outbox: Option<Outbox>) -> Arc<Shared> {
    let bus = Bus::default();
    let publisher = bus.publisher("unit");
    Arc::new(Shared::new(
        publisher,
        outbox,
        Target::Endpoint("tcp://127.0.0.1:9".parse().expect("an endpoint")),
    ))
}

/// The timeout of the requests of tests that do not time out.
const LONG: Duration = Duration::from_secs(3600);

/// The peer's reply to our request `id`: marked, as `Frame::reply` makes it.
fn reply(ty: u32, id: u64, payload: &'static str) -> Frame {
    Frame::request(ty, id, payload).with_reply(true)
}

fn unmatched(shared: &Shared) -> u64 {
    shared.counters.unmatched_replies.load(Ordering::Relaxed)
}

const OUTBOX: Outbox = Outbox {
    max_frames: 8,
    max_bytes: 1024,
};

#[test]
fn during_the_handshake_only_the_link_sends_and_only_its_frames_are_taken() {
    let shared = shared(Some(OUTBOX));
    let mut from_outbox = shared
        .enqueue(Frame::new(1, "outbox"), false, None)
        .expect("the outbox takes it");
    shared.set_phase(Phase::Handshake);
    let mut from_link = shared
        .enqueue(Frame::new(2, "hello"), true, None)
        .expect("the link may send during the handshake");
    let mut taken = Vec::new();
    shared.take(64, &mut taken);
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].frame, Frame::new(2, "hello"));
    shared.set_phase(Phase::Up);
    shared.take(64, &mut taken);
    assert_eq!(taken.len(), 2);
    assert_eq!(taken[1].frame, Frame::new(1, "outbox"));
    for item in taken {
        let _ = item.ack.send(Ok(()));
    }
    assert_eq!(from_link.try_recv(), Ok(Ok(())));
    assert_eq!(from_outbox.try_recv(), Ok(Ok(())));
}

#[test]
fn without_outbox_the_handle_cannot_send_during_the_handshake() {
    let shared = shared(None);
    shared.set_phase(Phase::Handshake);
    assert_eq!(
        shared.enqueue(Frame::new(1, "x"), false, None).err(),
        Some(SendError::NotConnected)
    );
}

#[test]
fn a_session_end_keeps_the_outbox_and_its_requests_and_fails_the_rest() {
    let shared = shared(Some(OUTBOX));
    shared.set_phase(Phase::Handshake);
    let mut handshake = shared
        .enqueue(Frame::new(1, "hello"), true, None)
        .expect("link send");
    shared.set_phase(Phase::Up);
    // A request whose frame was written: its reply is lost with the session.
    let (written_id, mut written_reply) = shared.register(LONG);
    // A request whose frame still waits in the queue: it stays pending.
    let (queued_id, mut queued_reply) = shared.register(LONG);
    let mut queued = shared
        .enqueue(
            Frame::new(3, "q").with_id(queued_id),
            false,
            Some(queued_id),
        )
        .expect("send while up");
    shared.end_session();

    assert_eq!(handshake.try_recv(), Ok(Err(SendError::ConnectionLost)));
    assert_eq!(
        written_reply.try_recv(),
        Ok(Err(RequestError::ConnectionLost))
    );
    assert_eq!(
        queued.try_recv(),
        Err(TryRecvError::Empty),
        "kept for the next session"
    );
    assert_eq!(queued_reply.try_recv(), Err(TryRecvError::Empty));
    assert!(
        shared
            .complete(reply(3, written_id, "late"), Replies::Marked)
            .is_none(),
        "a late reply is not handed to the handler"
    );
    assert_eq!(unmatched(&shared), 1);

    // The next session writes it, and its reply completes the request.
    shared.set_phase(Phase::Up);
    let mut taken = Vec::new();
    shared.take(64, &mut taken);
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].request, Some(queued_id));
    assert!(
        shared
            .complete(reply(3, queued_id, "reply"), Replies::Marked)
            .is_none()
    );
    assert_eq!(
        queued_reply.try_recv(),
        Ok(Ok(reply(3, queued_id, "reply")))
    );
}

#[test]
fn without_outbox_a_session_end_fails_queued_sends() {
    let shared = shared(None);
    shared.set_phase(Phase::Up);
    let mut queued = shared
        .enqueue(Frame::new(3, "q"), false, None)
        .expect("send while up");
    shared.end_session();
    assert_eq!(queued.try_recv(), Ok(Err(SendError::ConnectionLost)));
    assert_eq!(
        shared.enqueue(Frame::new(3, "q"), false, None).err(),
        Some(SendError::NotConnected)
    );
}

#[test]
fn a_send_whose_caller_gave_up_is_not_written() {
    let shared = shared(Some(OUTBOX));
    let abandoned = shared
        .enqueue(Frame::new(1, "abandoned"), false, None)
        .expect("outbox");
    let _kept = shared
        .enqueue(Frame::new(1, "kept"), false, None)
        .expect("outbox");
    drop(abandoned);
    shared.set_phase(Phase::Up);
    let mut taken = Vec::new();
    shared.take(64, &mut taken);
    let frames: Vec<_> = taken.iter().map(|item| item.frame.clone()).collect();
    assert_eq!(frames, [Frame::new(1, "kept")]);
}

#[test]
fn replies_complete_requests_in_any_order_and_strangers_pass_through() {
    let shared = shared(None);
    let (first, mut first_reply) = shared.register(LONG);
    let (second, mut second_reply) = shared.register(LONG);
    assert!(second > first, "ids increase");
    let marked = Replies::Marked;
    assert!(shared.complete(reply(1, second, "2"), marked).is_none());
    assert_eq!(first_reply.try_recv(), Err(TryRecvError::Empty));
    assert!(shared.complete(reply(1, first, "1"), marked).is_none());
    assert_eq!(first_reply.try_recv(), Ok(Ok(reply(1, first, "1"))));
    assert_eq!(second_reply.try_recv(), Ok(Ok(reply(1, second, "2"))));
    let stranger = Frame::request(1, 999, "peer's own request");
    assert_eq!(shared.complete(stranger.clone(), marked), Some(stranger));
    assert_eq!(
        shared.complete(Frame::new(1, "plain"), marked),
        Some(Frame::new(1, "plain"))
    );
    assert_eq!(unmatched(&shared), 0);
}

#[test]
fn a_peer_request_with_our_pending_id_goes_to_the_handler_when_replies_are_marked() {
    let shared = shared(None);
    let (id, mut answer) = shared.register(LONG);
    let theirs = Frame::request(7, id, "the peer's own request");
    assert_eq!(
        shared.complete(theirs.clone(), Replies::Marked),
        Some(theirs),
        "an unmarked frame is a request of the peer"
    );
    assert_eq!(
        answer.try_recv(),
        Err(TryRecvError::Empty),
        "ours still waits"
    );
    assert!(
        shared
            .complete(reply(8, id, "ours"), Replies::Marked)
            .is_none()
    );
    assert_eq!(answer.try_recv(), Ok(Ok(reply(8, id, "ours"))));
}

#[test]
fn a_marked_reply_that_matches_nothing_is_counted_not_delivered() {
    let shared = shared(None);
    let (id, mut answer) = shared.register(LONG);
    assert!(
        shared
            .complete(reply(1, id + 1, "x"), Replies::Marked)
            .is_none()
    );
    assert!(
        shared
            .complete(Frame::new(1, "no id").with_reply(true), Replies::Marked)
            .is_none()
    );
    assert_eq!(unmatched(&shared), 2);
    assert_eq!(answer.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn by_id_any_frame_with_a_pending_id_completes_it_the_collision_risk() {
    let shared = shared(None);
    let (id, mut answer) = shared.register(LONG);
    let theirs = Frame::request(7, id, "the peer's own request");
    assert!(
        shared.complete(theirs.clone(), Replies::ById).is_none(),
        "by id, the peer's request is taken for our reply"
    );
    assert_eq!(answer.try_recv(), Ok(Ok(theirs)));
    let other = Frame::request(7, id + 100, "no request of ours");
    assert_eq!(shared.complete(other.clone(), Replies::ById), Some(other));
}

/// Counts the wake-ups of the task that registered it.
#[derive(Default)]
struct WakeCount(std::sync::atomic::AtomicUsize);

impl std::task::Wake for WakeCount {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn a_send_wakes_the_session_only_while_its_writer_has_not_started() {
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    let shared = shared(None);
    shared.set_phase(Phase::Up);
    let count = Arc::new(WakeCount::default());
    let waker = Waker::from(Arc::clone(&count));
    let mut cx = Context::from_waker(&waker);
    let woken = || count.0.load(Ordering::Relaxed);

    // The session waits with its writer idle: the first send wakes it.
    assert!(shared.poll_queued(&mut cx).is_pending());
    let _first = shared
        .enqueue(Frame::new(1, "first"), false, None)
        .expect("up: the frame is queued");
    assert_eq!(woken(), 1, "the session must start its writer");
    assert_eq!(shared.poll_queued(&mut cx), Poll::Ready(()));

    // The writer runs from now on: sends are its business alone.
    shared.writer_started();
    let mut taken = Vec::new();
    shared.take(64, &mut taken);
    assert_eq!(taken.len(), 1);
    let _second = shared
        .enqueue(Frame::new(1, "second"), false, None)
        .expect("up: the frame is queued");
    let _third = shared
        .enqueue(Frame::new(1, "third"), false, None)
        .expect("up: the frame is queued");
    assert_eq!(
        woken(),
        1,
        "a running writer's sends must not wake the session"
    );

    // A stop still wakes it.
    shared.request_stop(crate::StopCause::Requested);
    assert_eq!(woken(), 2, "a stop wakes the session");
}
