//! Direct writes: once the writer is idle, a send writes its own frame
//! (resolving at its first poll); one the socket cannot take whole is
//! finished by the writer before any frame queued after it, and each
//! sender is told only once its frame is written.

use bytes::{Buf, Bytes};
use futures_util::FutureExt;
use futures_util::future::join_all;
use linesman_connection::{Connection, ConnectionSpec, Reason, StopCause};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, EventType, Interest};
use linesman_stream::ConnectOptions;
use linesman_testkit::{Behavior, Listen, Peer};
use tokio::io::AsyncReadExt;
use tokio::sync::oneshot;

use crate::common::{Recorder, T, finish, next_frame, spec, start, up, wait_for};

#[tokio::test]
async fn a_send_while_the_writer_idles_is_written_at_its_first_poll() {
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("direct"));
    let (recorder, _log, mut frames) = Recorder::new();
    let conn = Connection::new(spec("direct", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // The first frame starts the writer; once it has written it, the
    // writer idles.
    handle.send(Frame::new(1, "first")).await.expect("written");
    tokio::task::yield_now().await;
    for i in 0..3u8 {
        let sent = handle.send(Frame::new(2, vec![i; 16])).now_or_never();
        assert_eq!(sent, Some(Ok(())), "send {i} was written by its sender");
    }
    assert_eq!(handle.counters().frames_out, 4);
    assert_eq!(handle.counters().bytes_out, 4 * 8 + 5 + 3 * 16);
    assert_eq!(next_frame(&mut frames).await, Frame::new(1, "first"));
    for i in 0..3u8 {
        assert_eq!(next_frame(&mut frames).await, Frame::new(2, vec![i; 16]));
    }
    // A request goes the same way, and its reply comes back.
    let reply = handle
        .request(Frame::new(3, "ping"), T)
        .await
        .expect("answered");
    assert_eq!(reply.payload, Bytes::from_static(b"ping"));
    stop.stop();
    assert_eq!(
        finish(session).await.1.reason,
        Reason::Stopped(StopCause::Requested)
    );
}

const BIG: usize = 1 << 20;
const SMALL: usize = 100;

#[tokio::test]
async fn a_frame_its_sender_could_not_write_whole_is_finished_first_and_in_order() {
    // The peer reads nothing until told to, through small buffers: a large
    // frame written directly is taken in part, and the frames sent after
    // it must wait for its rest.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind");
    let listener = socket.listen(1).expect("listen");
    let addr = listener.local_addr().expect("an address");
    let (go, read) = oneshot::channel::<()>();
    let total = 3 * (8 + SMALL) + (8 + BIG);
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut got = vec![0u8; 8 + SMALL];
        stream.read_exact(&mut got).await.expect("read the first");
        let _ = read.await;
        let mut rest = vec![0u8; total - got.len()];
        stream.read_exact(&mut rest).await.expect("read the rest");
        got.extend_from_slice(&rest);
        got
    });

    let spec = ConnectionSpec::new(
        "partial",
        format!("tcp://{addr}").parse().expect("endpoint"),
    )
    .connect(ConnectOptions::default().send_buffer_size(Some(4096)));
    let (handle, stop, session, _frames) = up(spec).await;

    handle
        .send(Frame::new(1, vec![0u8; SMALL]))
        .await
        .expect("written");
    tokio::task::yield_now().await;
    let mut big = Box::pin(handle.send(Frame::new(2, vec![1u8; BIG])));
    assert!(
        (&mut big).now_or_never().is_none(),
        "the socket cannot take the large frame whole"
    );
    assert_eq!(handle.counters().frames_out, 1);
    let after = (2..4u8).map(|i| handle.send(Frame::new(3, vec![i; SMALL])));
    let after = join_all(after);
    let _ = go.send(());
    let (big, after) = tokio::time::timeout(T, async { tokio::join!(big, after) })
        .await
        .expect("every send resolves");
    assert_eq!(big, Ok(()));
    assert_eq!(after, vec![Ok(()), Ok(())]);
    assert_eq!(handle.counters().frames_out, 4);

    let mut got = Bytes::from(
        tokio::time::timeout(T, peer)
            .await
            .expect("the peer ends")
            .expect("the peer does not panic"),
    );
    let mut seen = Vec::new();
    while got.remaining() >= 8 {
        let ty = got.get_u16();
        let _flags = got.get_u16();
        let len = got.get_u32() as usize;
        assert!(got.len() >= len, "frame of type {ty} whole ({len} bytes)");
        seen.push((ty, len, got[0]));
        got.advance(len);
    }
    assert_eq!(
        seen,
        vec![(1, SMALL, 0), (2, BIG, 1), (3, SMALL, 2), (3, SMALL, 3)],
        "every frame whole, in the order sent"
    );
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
}

#[tokio::test]
async fn a_graceful_stop_after_direct_writes_closes_the_stream_once() {
    // The writer lends its pen while idle; a stop takes it back and the
    // session still ends cleanly, the stream closed (the peer sees its
    // end) and every frame written before it.
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("stop"));
    let (recorder, _log, mut frames) = Recorder::new();
    let conn = Connection::new(spec("stop", &peer), Box::new(recorder), &bus);
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    for i in 0..5u8 {
        handle.send(Frame::new(1, vec![i])).await.expect("written");
    }
    for i in 0..5u8 {
        assert_eq!(next_frame(&mut frames).await, Frame::new(1, vec![i]));
    }
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    let stats = tokio::time::timeout(T, peer.wait_open(0))
        .await
        .expect("the peer saw the stream close");
    assert_eq!(stats.frames_received, 5);
}
