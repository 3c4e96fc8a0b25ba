//! `input_end` after a read returned end of input: the peer's orderly close
//! is told from an abort on this side (a reset, `TCP_USER_TIMEOUT`), also
//! when another call took the abort's error first — which is how a writer
//! sharing the socket with a reader hid a dead connection behind a clean
//! end of input.

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use linesman_stream::{
    AbortedElsewhere, ConnectOptions, InputEnd, SocketHooks, connect, input_end,
};
use socket2::{Domain, SockRef, Socket, Type};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::common::tcp_listener;

/// Bounds every wait; never asserted as a duration.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_peers_close_is_a_peer_close() {
    let (listener, _, endpoint) = tcp_listener().await;
    let options = ConnectOptions::default();
    let mut stream = connect(&endpoint, &options, &SocketHooks::default())
        .await
        .expect("connect");
    let (peer, _) = listener.accept().await.expect("accept");
    drop(peer);
    let read = tokio::time::timeout(PATIENCE, stream.read(&mut [0; 16]))
        .await
        .expect("end of input in time")
        .expect("a clean read");
    assert_eq!(read, 0);
    assert!(
        matches!(input_end(stream.as_fd()), InputEnd::PeerClosed),
        "{:?}",
        input_end(stream.as_fd())
    );
}

#[tokio::test]
async fn a_reset_whose_error_another_call_took_reads_as_an_abort_not_an_end() {
    let (listener, _, endpoint) = tcp_listener().await;
    let mut stream = connect(
        &endpoint,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect("connect");
    let (peer, _) = listener.accept().await.expect("accept");
    // SO_LINGER 0: closing sends a reset instead of a FIN.
    SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER");
    drop(peer);
    // Another user of the socket (a writer) takes the reset's error first;
    // the socket itself would now read as a clean end of input.
    let taken = wait_for_error(&stream.sock_ref()).await;
    assert_eq!(taken.kind(), io::ErrorKind::ConnectionReset);
    assert!(
        matches!(input_end(stream.as_fd()), InputEnd::Aborted(None)),
        "{:?}",
        input_end(stream.as_fd())
    );
    let error = stream
        .read(&mut [0; 16])
        .await
        .expect_err("an aborted connection never reads as a clean end");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted);
    assert!(AbortedElsewhere::is(&error), "{error}");
    assert!(
        error.to_string().contains("aborted on this side"),
        "{error}"
    );
}

#[tokio::test]
async fn a_user_timeout_with_a_peer_that_never_reads_is_an_abort() {
    let (listener, addr, _) = tcp_listener().await;
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .set_tcp_user_timeout(Some(Duration::from_secs(1)))
        .expect("TCP_USER_TIMEOUT");
    socket.set_send_buffer_size(4096).expect("SO_SNDBUF");
    socket.connect(&addr.into()).expect("connect");
    socket.set_nonblocking(true).expect("O_NONBLOCK");
    let stream = TcpStream::from_std(socket.into()).expect("register");
    let (peer, _) = listener.accept().await.expect("accept");
    SockRef::from(&peer)
        .set_recv_buffer_size(4096)
        .expect("SO_RCVBUF");
    // Fill both buffers: the peer never reads, its window closes, and the
    // kernel gives up on the connection after the user timeout.
    let chunk = [7u8; 16 * 1024];
    loop {
        match stream.try_write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write failed before the buffers filled: {e}"),
        }
    }
    tokio::time::timeout(PATIENCE, stream.readable())
        .await
        .expect("the kernel aborts the connection in time")
        .expect("readiness");
    // The first look finds the error still pending; it is taken then.
    match input_end(stream.as_fd()) {
        InputEnd::Aborted(Some(error)) => assert_eq!(error.kind(), io::ErrorKind::TimedOut),
        other => panic!("expected an abort with its error, got {other:?}"),
    }
    assert!(matches!(input_end(stream.as_fd()), InputEnd::Aborted(None)));
    assert_eq!(
        stream.try_read(&mut [0; 16]).expect("read after the abort"),
        0
    );
    drop(peer);
}

/// Waits (bounded) until the socket has a pending error, and takes it.
async fn wait_for_error(sock: &SockRef<'_>) -> io::Error {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(error) = sock.take_error().expect("SO_ERROR") {
            return error;
        }
        assert!(tokio::time::Instant::now() < deadline, "no error came");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
