//! Requests in both directions: replies are marked on the wire, so a
//! request of the peer whose id equals one of ours goes to the handler (who
//! answers it with `frame.reply`) and our request gets its own reply; a
//! marked reply that matches nothing is counted, not delivered; a layout
//! without marks matches by id, collisions included.

use futures_util::{FutureExt, SinkExt, StreamExt};
use linesman_connection::{Connection, ConnectionSpec, Handler, HandlerError, Link, RequestError};
use linesman_ipc_codec::{Codec, Frame, FrameLayout, IdField, Replies};
use linesman_observer::{Bus, EventType, Interest};
use linesman_stream::Endpoint;
use linesman_testkit::{Behavior, Listen, Peer, PeerStats, send_payload};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

use crate::common::{Recorder, T, finish, next_frame, spec, start, wait_for};

/// Type of the peer's requests.
const THEIRS: u32 = 0x0201;
/// Type of our requests.
const OURS: u32 = 0x0301;
/// Type of the handler's answers to the peer.
const ANSWER: u32 = 0x0202;

type Answered = Result<Frame, RequestError>;

/// Sends `count` requests through the link in `on_connect`, registering
/// every id (1 ..= `count`) before the session reads a frame, and reports
/// each answer; answers every request of the peer with `frame.reply`.
struct Both {
    count: u32,
    answers: mpsc::UnboundedSender<(u32, Answered)>,
    /// The peer's requests the handler saw.
    seen: mpsc::UnboundedSender<Frame>,
}

impl Handler for Both {
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        for i in 0..self.count {
            let link = link.clone();
            let mut request = Box::pin(async move {
                let frame = Frame::new(OURS, format!("ours {i}"));
                (i, link.request(frame, T).await)
            });
            // The first poll registers the id and queues the frame.
            assert!((&mut request).now_or_never().is_none(), "no reply yet");
            let answers = self.answers.clone();
            tokio::spawn(async move {
                let _ = answers.send(request.await);
            });
        }
        Ok(())
    }

    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
        if frame.id.is_some() && !frame.reply {
            link.send(frame.reply(ANSWER, frame.payload.clone()))
                .await?;
        }
        let _ = self.seen.send(frame);
        Ok(())
    }
}

async fn both_ways(count: u32) {
    let behavior = Behavior::CollidingRequests {
        count: u64::from(count),
        ty: THEIRS,
    };
    let peer = Peer::start(Listen::default(), behavior)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("both"));
    let (answers_tx, mut answers) = mpsc::unbounded_channel();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let handler = Both {
        count,
        answers: answers_tx,
        seen: seen_tx,
    };
    let conn = Connection::new(spec("both", &peer), Box::new(handler), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // Every request of ours got the peer's answer to it, its own id marked.
    let mut got = vec![None; count as usize];
    for _ in 0..count {
        let (i, answer) = tokio::time::timeout(T, answers.recv())
            .await
            .expect("every request ends in time")
            .expect("the answer channel is open");
        got[i as usize] = Some(answer);
    }
    for (i, answer) in got.into_iter().enumerate() {
        let expected = Frame::request(OURS, i as u64 + 1, format!("ours {i}")).with_reply(true);
        assert_eq!(answer, Some(Ok(expected)), "request {i}");
    }
    // Every request of the peer reached the handler, ids 1 ..= count.
    let mut ids = Vec::new();
    for _ in 0..count {
        let frame = next_frame(&mut seen).await;
        assert_eq!(frame.ty, THEIRS, "{frame:?}");
        assert_eq!(frame.payload, send_payload(frame.id.unwrap_or(0), 8));
        ids.push(frame.id.unwrap_or(0));
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=u64::from(count)).collect::<Vec<_>>());
    // And the peer got the handler's answer to each, and nothing else.
    let done = |s: &PeerStats| s.replies_matched + s.replies_mismatched >= u64::from(count);
    let stats = tokio::time::timeout(T, peer.wait_for(done))
        .await
        .expect("the peer checks every reply in time");
    assert_eq!(
        (stats.replies_matched, stats.replies_mismatched),
        (u64::from(count), 0)
    );
    assert_eq!(stats.requests_answered, u64::from(count));
    assert_eq!(handle.counters().unmatched_replies, 0);
    stop.stop();
    finish(session).await;
}

#[tokio::test]
async fn a_peer_request_with_the_id_of_our_pending_request_is_answered_by_the_handler() {
    both_ways(1).await;
}

#[tokio::test]
async fn a_thousand_requests_each_way_with_colliding_ids_all_match() {
    both_ways(1000).await;
}

#[tokio::test]
async fn a_marked_reply_that_matches_no_request_is_counted_not_delivered() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("stray"));
    let (recorder, _log, mut frames) = Recorder::new();
    let conn = Connection::new(spec("stray", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // The echo sends a marked frame back as it is: a reply to id 77, which
    // no request of ours has.
    let stray = Frame::request(1, 77, "stray").with_reply(true);
    handle.send(stray).await.expect("sent");
    handle.send(Frame::new(2, "marker")).await.expect("sent");
    assert_eq!(
        next_frame(&mut frames).await,
        Frame::new(2, "marker"),
        "the stray reply never reaches on_frame"
    );
    assert_eq!(handle.counters().unmatched_replies, 1);
    stop.stop();
    finish(session).await;
}

/// A layout without a flags field: replies can only be matched by id.
fn by_id_layout() -> FrameLayout {
    FrameLayout::builder()
        .flags(false)
        .id(IdField::Always)
        .replies(Replies::ById)
        .build()
        .expect("valid layout")
}

#[tokio::test]
async fn a_by_id_layout_matches_by_id_and_so_takes_a_colliding_request_for_the_reply() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    // A server of that layout: it answers our first request with a request
    // of its own that has the same id, then echoes our second one.
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        let mut framed = Framed::new(socket, Codec::new(by_id_layout()));
        let first = framed.next().await.expect("a frame").expect("valid");
        let id = first.id.expect("the layout carries an id");
        framed
            .send(Frame::request(THEIRS, id, "theirs"))
            .await
            .expect("send");
        let second = framed.next().await.expect("a frame").expect("valid");
        framed.send(second).await.expect("echo");
        // Hold the connection until the test is done with it.
        let _ = framed.next().await;
    });
    let endpoint = Endpoint::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    let spec = ConnectionSpec::new("by-id", endpoint).layout(by_id_layout());
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("by-id"));
    let (recorder, log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // The collision the layout cannot avoid: the server's request is taken
    // for our reply, and the handler never sees it.
    let first = handle.request(Frame::new(OURS, "first"), T).await;
    assert_eq!(first, Ok(Frame::request(THEIRS, 1, "theirs")));
    // A plain echo, unmarked, still completes its request by id.
    let second = handle.request(Frame::new(OURS, "second"), T).await;
    assert_eq!(second, Ok(Frame::request(OURS, 2, "second")));
    stop.stop();
    finish(session).await;
    assert!(
        log.items()
            .iter()
            .all(|call| !matches!(call, crate::common::Call::Frame(_))),
        "{:?}",
        log.items()
    );
    server.abort();
}
