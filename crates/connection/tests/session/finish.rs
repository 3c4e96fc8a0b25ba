//! `Link::finish` / `ConnectionHandle::finish`: the application ends a
//! session on purpose — frames queued at that moment are written, the
//! handler hears `Reason::Finished`, and it is a clean end (not a failure),
//! unlike the peer's close, which the application did not ask for.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use futures_util::future::join_all;
use linesman_connection::{Connection, Reason, SendError};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, Disconnected, EventType, Interest};
use linesman_testkit::Peer;

use crate::common::{Call, Recorder, finish, spec, start, wait_for};

type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

#[tokio::test]
async fn finish_writes_what_was_queued_and_ends_cleanly() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("done"));
    let (recorder, log, _frames) = Recorder::new();
    let conn = Connection::new(spec("done", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    // Ten sends queued (each polled once), then the session is finished
    // before they have all been written.
    let mut sends: Vec<Sending<'_>> = (0..10u32)
        .map(|i| Box::pin(handle.send(Frame::new(i, "last words"))) as Sending<'_>)
        .collect();
    poll_fn(|cx| {
        for send in &mut sends {
            let _ = send.as_mut().poll(cx);
        }
        Poll::Ready(())
    })
    .await;
    handle.finish();
    let sent = join_all(sends).await;
    assert!(sent.iter().all(Result::is_ok), "{sent:?}");
    let (conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Finished);
    assert!(outcome.was_up && !outcome.reason.is_failure());
    peer.wait_frames_received(10).await;
    let down = wait_for(&mut events, EventType::Disconnected).await;
    assert_eq!(
        down.payload::<Disconnected>().map(|d| d.reason.as_str()),
        Some("finished by the application")
    );
    assert_eq!(
        log.items().last(),
        Some(&Call::Disconnect(Reason::Finished))
    );
    assert_eq!(conn.handle().counters().last_error, None, "not a failure");
}

#[tokio::test]
async fn a_handler_finishes_its_own_session_from_on_frame() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let (mut recorder, log, _frames) = Recorder::new();
    recorder.finish_on = Some(3);
    recorder.handshake = vec![Frame::new(1, "a"), Frame::new(3, "bye")];
    let conn = Connection::new(spec("self", &peer), Box::new(recorder), &bus);
    let (_conn, outcome) = finish(start(conn, 1)).await;
    assert_eq!(outcome.reason, Reason::Finished);
    let calls = log.items();
    assert_eq!(calls.first(), Some(&Call::Connect));
    assert_eq!(calls.last(), Some(&Call::Disconnect(Reason::Finished)));
    assert!(
        calls.contains(&Call::Frame(Frame::new(3, "bye"))),
        "the frame that finished it was handled: {calls:?}"
    );
}
