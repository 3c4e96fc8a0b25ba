//! How a session ends when the peer stops cooperating: a connection the
//! kernel aborted on this side (a reset, `TCP_USER_TIMEOUT` with a peer that
//! never reads) is a failure with its cause, never "peer closed the
//! connection" — also when the writer, not the reader, met the error first.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use linesman_connection::{Connection, ConnectionSpec, Handler, HandlerError, Link, Reason};
use linesman_ipc_codec::{Codec, Frame};
use linesman_observer::Bus;
use linesman_stream::SockRef;
use linesman_stream::socket2::Socket;
use linesman_stream::{ConnectOptions, Endpoint, SocketHooks};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::codec::Encoder;

use crate::common::{T, finish, start};

/// A loopback listener whose accepted sockets have a small receive buffer.
async fn small_listener() -> (TcpListener, Endpoint) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    let listener = socket.listen(64).expect("listen");
    let port = listener.local_addr().expect("address").port();
    let endpoint = format!("tcp://127.0.0.1:{port}").parse().expect("endpoint");
    (listener, endpoint)
}

/// Holds frames in `on_frame` until the test lets it go.
struct Held {
    gate: Arc<Semaphore>,
    entered: Arc<Semaphore>,
}

impl Handler for Held {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        self.entered.add_permits(1);
        let permit = self.gate.acquire().await?;
        permit.forget();
        Ok(())
    }
}

#[tokio::test]
async fn a_reset_whose_error_another_call_took_is_a_failure_not_a_peer_close() {
    let (listener, endpoint) = small_listener().await;
    // A duplicate of the session's socket: it takes the reset's error the
    // way the writer does when it meets the error first.
    let dup: Arc<Mutex<Option<Socket>>> = Arc::default();
    let hooks = SocketHooks::default().on_open({
        let dup = Arc::clone(&dup);
        move |sock: &SockRef<'_>| {
            *dup.lock().expect("dup lock") = Some(sock.try_clone()?);
            Ok(())
        }
    });
    let gate = Arc::new(Semaphore::new(0));
    let entered = Arc::new(Semaphore::new(0));
    let handler = Held {
        gate: Arc::clone(&gate),
        entered: Arc::clone(&entered),
    };
    let spec = ConnectionSpec::new("aborted", endpoint).hooks(hooks);
    let conn = Connection::new(spec, Box::new(handler), &Bus::default());
    let session = start(conn, 1);
    let (mut peer, _) = tokio::time::timeout(T, listener.accept())
        .await
        .expect("connects in time")
        .expect("accept");
    // One frame, so the handler holds the session away from its reader.
    let mut wire = bytes::BytesMut::new();
    Codec::default()
        .encode(&Frame::new(1, "x"), &mut wire)
        .expect("encodable");
    peer.write_all(&wire).await.expect("write a frame");
    let _ = tokio::time::timeout(T, entered.acquire())
        .await
        .expect("the handler runs in time");
    // The peer resets; the error is taken before the reader gets to it.
    SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER");
    drop(peer);
    let dup = dup.lock().expect("dup lock").take().expect("the hook ran");
    let taken = wait_for_error(&dup).await;
    assert_eq!(taken.kind(), std::io::ErrorKind::ConnectionReset);
    gate.add_permits(1);
    let (_conn, outcome) = finish(session).await;
    assert_ne!(outcome.reason, Reason::PeerClosed, "{}", outcome.reason);
    assert!(outcome.reason.is_failure(), "{}", outcome.reason);
    // The writer never ran, so nobody knows the error better.
    assert_eq!(outcome.reason, Reason::Aborted);
    assert!(
        outcome
            .reason
            .to_string()
            .starts_with("connection aborted on this side"),
        "{}",
        outcome.reason
    );
}

/// Keeps sending 4 KiB frames from a task of its own until a send fails.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_ends_every_session_with_a_failure() {
    const RUNS: usize = 20;
    let (listener, endpoint) = small_listener().await;
    // The peer accepts and never reads; it keeps every socket open.
    let held = tokio::spawn(async move {
        let mut held: Vec<TcpStream> = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let options = ConnectOptions::default()
        .user_timeout(Some(Duration::from_secs(1)))
        .send_buffer_size(Some(4096));
    let bus = Bus::default();
    let sessions: Vec<_> = (0..RUNS)
        .map(|i| {
            let spec = ConnectionSpec::new(format!("stalled-{i}"), endpoint.clone())
                .connect(options.clone());
            let conn = Connection::new(spec, Box::new(Flooding), &bus);
            start(conn, 1)
        })
        .collect();
    let mut reasons = Vec::new();
    for session in sessions {
        let (_conn, outcome) = finish(session).await;
        reasons.push(outcome.reason);
    }
    held.abort();
    let clean: Vec<&Reason> = reasons
        .iter()
        .filter(|r| **r == Reason::PeerClosed || !r.is_failure())
        .collect();
    assert!(
        clean.is_empty(),
        "{} of {RUNS} dead sessions ended as if closed cleanly: {reasons:?}",
        clean.len()
    );
    // Each says what killed it: the kernel's timeout, met by the reader or
    // by the writer (whose reason wins over the reader's end of input).
    for reason in &reasons {
        assert!(
            matches!(reason, Reason::Io(text) if text.contains("timed out")),
            "{reason:?} in {reasons:?}"
        );
    }
}

/// Waits (bounded) until the socket has a pending error, and takes it.
async fn wait_for_error(sock: &Socket) -> std::io::Error {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        if let Some(error) = sock.take_error().expect("SO_ERROR") {
            return error;
        }
        assert!(tokio::time::Instant::now() < deadline, "no error came");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
