//! A frame reported lost never reached the peer whole: when the session
//! ends in the middle of a batch, the frames the socket took whole are
//! acknowledged and only the others fail, so resending every failed frame
//! never gives the peer one twice.

use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_util::future::join_all;
use linesman_connection::{Connection, ConnectionSpec, SendError};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, EventType, Interest};
use linesman_stream::ConnectOptions;
use linesman_stream::socket2::SockRef;
use tokio::io::AsyncReadExt;

use crate::common::{Recorder, T, finish, start, wait_for};

const FRAMES: usize = 64;
const PAYLOAD: usize = 1024;
/// A frame on the wire: the default header (no id) and the payload.
const WIRE: usize = 8 + PAYLOAD;

#[tokio::test]
async fn a_frame_reported_lost_never_reached_the_peer_whole() {
    // The peer reads ten frames and a half, then resets the connection.
    // Small buffers on both sides keep most of the batch out of the kernel.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind");
    let listener = socket.listen(1).expect("listen");
    let addr = listener.local_addr().expect("an address");
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut got = vec![0u8; WIRE * 10 + WIRE / 2];
        stream.read_exact(&mut got).await.expect("read");
        SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .expect("linger 0");
        drop(stream);
        got
    });

    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("lossy"));
    let spec = ConnectionSpec::new("lossy", format!("tcp://{addr}").parse().expect("endpoint"))
        .connect(ConnectOptions::default().send_buffer_size(Some(4096)));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;

    // Queued together, in order: one batch for the writer.
    let payload = |i: usize| Bytes::from(vec![u8::try_from(i).expect("small"); PAYLOAD]);
    let sends = (0..FRAMES).map(|i| handle.send(Frame::new(1, payload(i))));
    let results = tokio::time::timeout(T, join_all(sends))
        .await
        .expect("every send resolves");
    let (_conn, outcome) = finish(session).await;
    println!("session ended: {}", outcome.reason);

    // The frames the peer got whole.
    let mut got = Bytes::from(
        tokio::time::timeout(T, peer)
            .await
            .expect("the peer ends")
            .expect("the peer does not panic"),
    );
    let mut whole = Vec::new();
    while got.len() >= WIRE {
        got.advance(8);
        whole.push(usize::from(got[0]));
        got.advance(PAYLOAD);
    }
    assert_eq!(
        whole,
        (0..10).collect::<Vec<_>>(),
        "the peer got ten frames whole"
    );

    let failed: Vec<usize> = (0..FRAMES).filter(|&i| results[i].is_err()).collect();
    for i in &failed {
        assert_eq!(results[*i], Err(SendError::ConnectionLost));
    }
    assert!(!failed.is_empty(), "the reset cut the batch: {results:?}");
    for i in whole {
        assert_eq!(
            results[i],
            Ok(()),
            "frame {i} reached the peer whole, so its send succeeded"
        );
    }
    // Acknowledged frames come first: a failure is never followed by a
    // success (the socket takes the batch in order).
    let first_failure = failed[0];
    assert!(
        failed == (first_failure..FRAMES).collect::<Vec<_>>(),
        "failures are the tail of the batch: {failed:?}"
    );
}
