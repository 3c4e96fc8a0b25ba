//! The send queue and pending requests without sockets: who may enqueue in
//! which phase, what the writer may take, and what a session's end keeps.

use linesman_ipc_codec::Frame;
use linesman_observer::Bus;
use tokio::sync::oneshot::error::TryRecvError;

use super::{Phase, Shared};
use crate::error::{RequestError, SendError};
use crate::spec::Outbox;

fn shared(outbox: Option<Outbox>) -> Shared {
    let bus = Bus::default();
    let publisher = bus.publisher("unit");
    Shared::new(bus, publisher, outbox, false)
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
    let (written_id, mut written_reply) = shared.register();
    // A request whose frame still waits in the queue: it stays pending.
    let (queued_id, mut queued_reply) = shared.register();
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
            .complete(Frame::request(3, written_id, "late"))
            .is_some()
    );

    // The next session writes it, and its reply completes the request.
    shared.set_phase(Phase::Up);
    let mut taken = Vec::new();
    shared.take(64, &mut taken);
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].request, Some(queued_id));
    assert!(
        shared
            .complete(Frame::request(3, queued_id, "reply"))
            .is_none()
    );
    assert_eq!(
        queued_reply.try_recv(),
        Ok(Ok(Frame::request(3, queued_id, "reply")))
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
    let (first, mut first_reply) = shared.register();
    let (second, mut second_reply) = shared.register();
    assert!(second > first, "ids increase");
    assert!(shared.complete(Frame::request(1, second, "2")).is_none());
    assert_eq!(first_reply.try_recv(), Err(TryRecvError::Empty));
    assert!(shared.complete(Frame::request(1, first, "1")).is_none());
    assert_eq!(
        first_reply.try_recv(),
        Ok(Ok(Frame::request(1, first, "1")))
    );
    assert_eq!(
        second_reply.try_recv(),
        Ok(Ok(Frame::request(1, second, "2")))
    );
    let stranger = Frame::request(1, 999, "peer's own request");
    assert_eq!(shared.complete(stranger.clone()), Some(stranger));
    assert_eq!(
        shared.complete(Frame::new(1, "plain")),
        Some(Frame::new(1, "plain"))
    );
}
