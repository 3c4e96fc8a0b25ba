//! Frames reach the handler a burst at a time through `on_frames`: in
//! order across bursts, every frame to a handler that only implements
//! `on_frame`, and an error or a panic in the middle of a burst ends the
//! session with the frames after it undelivered.

use bytes::BytesMut;
use linesman_connection::{Burst, Connection, ConnectionSpec, Handler, HandlerError, Link, Reason};
use linesman_ipc_codec::{Codec, Frame, FrameLayout};
use linesman_observer::Bus;
use linesman_stream::Endpoint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::codec::Encoder;

use crate::common::{Log, finish, start};

/// One burst as the handler saw it: how many frames it held when
/// `on_frames` was called, and the types of the frames it took.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    held: usize,
    took: Vec<u32>,
}

/// Overrides `on_frames`; fails or panics on a chosen frame type.
struct Batches {
    log: Log<Seen>,
    fail_on: Option<u32>,
    panic_on: Option<u32>,
}
impl Handler for Batches {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        Err(HandlerError::msg("on_frame must not be called"))
    }

    async fn on_frames(&mut self, frames: &mut Burst, _link: &Link) -> Result<(), HandlerError> {
        let mut seen = Seen {
            held: frames.len(),
            took: Vec::new(),
        };
        for frame in &mut *frames {
            seen.took.push(frame.ty);
            if Some(frame.ty) == self.fail_on {
                self.log.push(seen);
                return Err(HandlerError::msg(format!(
                    "refused frame type {}",
                    frame.ty
                )));
            }
            if Some(frame.ty) == self.panic_on {
                self.log.push(seen);
                panic!("boom on frame type {}", frame.ty);
            }
        }
        self.log.push(seen);
        Ok(())
    }
}

/// Implements only `on_frame`.
struct OneByOne {
    log: Log<u32>,
}
impl Handler for OneByOne {
    async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        self.log.push(frame.ty);
        Ok(())
    }
}

/// A one-connection server that writes each group of frames (types as
/// given, 3-byte payloads) in one write, then closes if `close`, else
/// waits for the client to close.
async fn serve(groups: Vec<Vec<u32>>, close: bool) -> (Endpoint, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback listener");
    let port = listener.local_addr().expect("a local address").port();
    let endpoint: Endpoint = format!("tcp://127.0.0.1:{port}")
        .parse()
        .expect("an endpoint");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept the session");
        let mut codec = Codec::new(FrameLayout::default());
        for group in groups {
            let mut bytes = BytesMut::new();
            for ty in group {
                codec
                    .encode(Frame::new(ty, "abc"), &mut bytes)
                    .expect("encode a frame");
            }
            socket.write_all(&bytes).await.expect("write a group");
        }
        if !close {
            let mut buf = [0u8; 64];
            while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
        }
    });
    (endpoint, server)
}

fn batches(fail_on: Option<u32>, panic_on: Option<u32>) -> (Batches, Log<Seen>) {
    let log = Log::default();
    let handler = Batches {
        log: log.clone(),
        fail_on,
        panic_on,
    };
    (handler, log)
}

#[tokio::test]
async fn bursts_keep_the_order_of_arrival() {
    let groups: Vec<Vec<u32>> = (0..3)
        .map(|g| (g * 100 + 1..=g * 100 + 100).collect())
        .collect();
    let (endpoint, server) = serve(groups, true).await;
    let (handler, log) = batches(None, None);
    let conn = Connection::new(
        ConnectionSpec::new("bursts", endpoint),
        Box::new(handler),
        &Bus::default(),
    );
    let handle = conn.handle();
    let (_conn, outcome) = finish(start(conn, 1)).await;
    server.await.expect("the server ends");
    assert_eq!(outcome.reason, Reason::PeerClosed);
    let bursts = log.items();
    let taken: Vec<u32> = bursts.iter().flat_map(|b| b.took.clone()).collect();
    assert_eq!(taken, (1..=300).collect::<Vec<_>>());
    for burst in &bursts {
        assert!(burst.held >= 1 && burst.held <= Burst::MAX, "{burst:?}");
        assert_eq!(burst.held, burst.took.len(), "{burst:?}");
    }
    // 300 frames cannot fit in fewer bursts.
    assert!(
        bursts.len() >= 300usize.div_ceil(Burst::MAX),
        "{}",
        bursts.len()
    );
    assert!(bursts.iter().any(|b| b.held > 1), "frames came in bursts");
    assert_eq!(handle.counters().frames_in, 300);
}

#[tokio::test]
async fn a_handler_with_only_on_frame_gets_every_frame_in_order() {
    let (endpoint, server) = serve(vec![(1..=300).collect()], true).await;
    let log = Log::default();
    let conn = Connection::new(
        ConnectionSpec::new("one-by-one", endpoint),
        Box::new(OneByOne { log: log.clone() }),
        &Bus::default(),
    );
    let (_conn, outcome) = finish(start(conn, 1)).await;
    server.await.expect("the server ends");
    assert_eq!(outcome.reason, Reason::PeerClosed);
    assert_eq!(log.items(), (1..=300).collect::<Vec<_>>());
}

/// Runs a session that gets frames 1..=10 in one write with `handler`.
async fn ten_in_one_write(name: &str, handler: Batches) -> Reason {
    let (endpoint, server) = serve(vec![(1..=10).collect()], false).await;
    let conn = Connection::new(
        ConnectionSpec::new(name, endpoint),
        Box::new(handler),
        &Bus::default(),
    );
    let (_conn, outcome) = finish(start(conn, 1)).await;
    server.await.expect("the server ends");
    outcome.reason
}

/// The last burst ended at frame 5 and held frames after it.
fn stopped_mid_burst_at_five(bursts: &[Seen]) {
    let taken: Vec<u32> = bursts.iter().flat_map(|b| b.took.clone()).collect();
    assert_eq!(taken, (1..=5).collect::<Vec<_>>(), "nothing after frame 5");
    let last = bursts.last().expect("a burst was delivered");
    assert!(
        last.held > last.took.len(),
        "frame 5 was in the middle of its burst: {last:?}"
    );
}

#[tokio::test]
async fn an_error_in_the_middle_of_a_burst_ends_the_session() {
    let (handler, log) = batches(Some(5), None);
    let reason = ten_in_one_write("fails", handler).await;
    assert_eq!(reason, Reason::Handler("refused frame type 5".into()));
    stopped_mid_burst_at_five(&log.items());
}

#[tokio::test]
async fn a_panic_in_the_middle_of_a_burst_ends_the_session() {
    let (handler, log) = batches(None, Some(5));
    let reason = ten_in_one_write("panics", handler).await;
    let Reason::HandlerPanic(message) = &reason else {
        panic!("expected HandlerPanic, got {reason:?}");
    };
    assert!(message.contains("boom on frame type 5"), "{message}");
    stopped_mid_burst_at_five(&log.items());
}
