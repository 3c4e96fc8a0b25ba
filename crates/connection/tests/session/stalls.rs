//! Bounds on what a peer can hold up: a write that makes no progress (the
//! peer stopped reading) ends the session with `WriteTimeout`; a frame whose
//! bytes trickle in (slowloris) ends it with `FrameTimeout`, while frames
//! that arrive whole, or complete in time, never do.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use linesman_connection::{
    Connection, ConnectionSpec, Handler, HandlerError, Link, Reason, StopCause,
};
use linesman_ipc_codec::{Codec, Frame};
use linesman_observer::{Bus, Disconnected, EventType, Interest};
use linesman_stream::{ConnectOptions, Endpoint};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::codec::Encoder;

use crate::common::{Recorder, T, finish, next_frame, start, wait_for};

/// A loopback listener whose accepted sockets have a small receive buffer.
async fn small_listener() -> (TcpListener, Endpoint) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    let listener = socket.listen(16).expect("listen");
    let port = listener.local_addr().expect("address").port();
    let endpoint = format!("tcp://127.0.0.1:{port}").parse().expect("endpoint");
    (listener, endpoint)
}

async fn accept(listener: &TcpListener) -> TcpStream {
    tokio::time::timeout(T, listener.accept())
        .await
        .expect("connects in time")
        .expect("accept")
        .0
}

/// Sends 4 KiB frames from a task of its own until a send fails.
struct Flooding;

impl Handler for Flooding {
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        let handle = link.handle().clone();
        tokio::spawn(async move {
            let payload = Bytes::from(vec![5u8; 4096]);
            while handle.send(Frame::new(2, payload.clone())).await.is_ok() {}
        });
        Ok(())
    }

    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_peer_that_stops_reading_ends_the_session_with_a_write_timeout() {
    let (listener, endpoint) = small_listener().await;
    let after = Duration::from_millis(300);
    // Without TCP_USER_TIMEOUT the kernel keeps probing the closed window
    // as long as the peer answers: only the write timeout can end this.
    let spec = ConnectionSpec::new("stalled", endpoint)
        .connect(
            ConnectOptions::default()
                .user_timeout(None)
                .send_buffer_size(Some(4096)),
        )
        .write_timeout(Some(after));
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("stalled"));
    let conn = Connection::new(spec, Box::new(Flooding), &bus);
    let session = start(conn, 1);
    let _peer = accept(&listener).await; // never read
    let (conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::WriteTimeout { after });
    assert!(outcome.reason.is_failure());
    let down = wait_for(&mut events, EventType::Disconnected).await;
    assert_eq!(
        down.payload::<Disconnected>().map(|d| d.reason.as_str()),
        Some("write timeout: no progress writing to the peer for 300ms (it is not reading)")
    );
    assert!(
        conn.handle().counters().frames_out > 0,
        "some frames went out"
    );
}

/// The frame `(ty, payload)` as the default layout writes it.
fn wire(ty: u32, payload: &'static [u8]) -> BytesMut {
    let mut out = BytesMut::new();
    Codec::default()
        .encode(&Frame::new(ty, payload), &mut out)
        .expect("encodable");
    out
}

#[tokio::test]
async fn a_frame_trickled_a_byte_at_a_time_ends_the_session_with_a_frame_timeout() {
    let (listener, endpoint) = small_listener().await;
    let after = Duration::from_millis(300);
    let spec = ConnectionSpec::new("slowloris", endpoint).frame_timeout(Some(after));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &Bus::default());
    let session = start(conn, 1);
    let mut peer = accept(&listener).await;
    let trickle = tokio::spawn(async move {
        // A frame of 64 bytes, one byte every 100 ms: 7 s if let finish.
        for byte in wire(1, &[9; 64]) {
            if peer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let (conn, outcome) = finish(session).await;
    trickle.abort();
    assert_eq!(outcome.reason, Reason::FrameTimeout { after });
    assert_eq!(
        outcome.reason.to_string(),
        "frame timeout: a frame the peer began was not complete within 300ms"
    );
    assert_eq!(conn.handle().counters().frames_in, 0);
}

#[tokio::test]
async fn frames_that_complete_in_time_never_time_out_however_long_the_session() {
    let (listener, endpoint) = small_listener().await;
    // Each frame arrives in two halves 50 ms apart, frames 50 ms apart:
    // twelve of them take far longer than one frame timeout in all.
    let spec =
        ConnectionSpec::new("halves", endpoint).frame_timeout(Some(Duration::from_millis(500)));
    let (recorder, _log, mut frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &Bus::default());
    let stop = conn.session_control();
    let session = start(conn, 1);
    let mut peer = accept(&listener).await;
    for i in 0..12u8 {
        let bytes = wire(1, b"0123456789abcdef");
        let (a, b) = bytes.split_at(5);
        peer.write_all(a).await.expect("first half");
        tokio::time::sleep(Duration::from_millis(50)).await;
        peer.write_all(b).await.expect("second half");
        let frame = next_frame(&mut frames).await;
        assert_eq!(&frame.payload[..], b"0123456789abcdef", "frame {i}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Whole frames, back to back, never start the timer at all.
    for _ in 0..50 {
        peer.write_all(&wire(2, b"whole"))
            .await
            .expect("a whole frame");
        next_frame(&mut frames).await;
    }
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
}

#[tokio::test]
async fn the_bytes_of_a_frame_not_whole_yet_show_in_the_counters() {
    // A peer that stops inside a frame looked idle: `bytes_in` counted
    // only once a frame was whole (or the session ended).
    let (listener, endpoint) = small_listener().await;
    let spec = ConnectionSpec::new("stuck", endpoint);
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &Bus::default());
    let handle = conn.handle();
    let stop = conn.session_control();
    let session = start(conn, 1);
    let mut peer = accept(&listener).await;
    let frame = wire(1, &[9; 64]);
    peer.write_all(&frame[..20])
        .await
        .expect("write part of a frame");
    tokio::time::timeout(Duration::from_secs(20), async {
        while handle.counters().bytes_in < 20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the 20 bytes counted while the frame is not whole");
    let counters = handle.counters();
    assert_eq!((counters.bytes_in, counters.frames_in), (20, 0));
    stop.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
}
