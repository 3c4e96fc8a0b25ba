//! `connect` on real loopback TCP and Unix sockets: success, name
//! resolution over every address, refusal, timeout, hooks.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linesman_stream::{
    ConnectError, ConnectOptions, Endpoint, SocketAddress, SocketHooks, connect,
};
use socket2::{Domain, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{refused_port, tcp_listener};

/// Hooks that count how often `before_close` ran.
fn counting_hooks() -> (SocketHooks, Arc<AtomicUsize>) {
    let closes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&closes);
    let hooks = SocketHooks::default().before_close(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    (hooks, closes)
}

#[tokio::test]
async fn tcp_connects_and_carries_bytes_both_ways() {
    let (listener, addr, endpoint) = tcp_listener().await;
    let mut stream = connect(
        &endpoint,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect("connect to a listening loopback port");
    let (mut peer, peer_sees) = listener.accept().await.expect("accept");

    assert!(stream.is_tcp());
    assert_eq!(stream.endpoint(), &endpoint);
    assert_eq!(
        stream.peer_addr().expect("peer_addr"),
        SocketAddress::Tcp(addr)
    );
    assert_eq!(
        stream.local_addr().expect("local_addr"),
        SocketAddress::Tcp(peer_sees)
    );

    stream.write_all(b"ping").await.expect("write");
    let mut buf = [0; 4];
    peer.read_exact(&mut buf).await.expect("peer reads");
    assert_eq!(&buf, b"ping");
    peer.write_all(b"pong").await.expect("peer writes");
    stream.read_exact(&mut buf).await.expect("read");
    assert_eq!(&buf, b"pong");
}

#[tokio::test]
async fn localhost_is_resolved_and_every_address_tried() {
    // A listener on 127.0.0.1 only: if localhost resolves to ::1 first, that
    // attempt is refused and the next address must be tried.
    let (listener, addr, _) = tcp_listener().await;
    let endpoint: Endpoint = format!("tcp://localhost:{}", addr.port())
        .parse()
        .expect("endpoint");
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host(("localhost", addr.port()))
        .await
        .expect("localhost resolves")
        .collect();
    assert!(
        resolved.contains(&addr),
        "localhost must resolve to 127.0.0.1: {resolved:?}"
    );

    let (hooks, closes) = counting_hooks();
    let stream = connect(&endpoint, &ConnectOptions::default(), &hooks)
        .await
        .expect("one of localhost's addresses listens");
    assert_eq!(
        stream.peer_addr().expect("peer_addr"),
        SocketAddress::Tcp(addr)
    );
    let (_peer, _) = listener.accept().await.expect("accept");
    // Every address before 127.0.0.1 was tried and its socket closed.
    let tried_before = resolved.iter().position(|a| *a == addr).expect("present");
    assert_eq!(closes.load(Ordering::SeqCst), tried_before);
}

#[tokio::test]
async fn refused_names_the_endpoint_every_address_and_the_os_error() {
    let port = refused_port();
    let endpoint: Endpoint = format!("tcp://localhost:{port}").parse().expect("endpoint");
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host(("localhost", port))
        .await
        .expect("localhost resolves")
        .collect();

    let (hooks, closes) = counting_hooks();
    let error = connect(&endpoint, &ConnectOptions::default(), &hooks)
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, ConnectError::Connect { .. }), "{error:?}");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(error.endpoint(), &endpoint);
    let tried: Vec<SocketAddress> = error.attempts().iter().map(|a| a.address.clone()).collect();
    let expected: Vec<SocketAddress> = resolved.iter().copied().map(SocketAddress::Tcp).collect();
    assert_eq!(tried, expected, "every resolved address is tried, in order");
    assert_eq!(
        closes.load(Ordering::SeqCst),
        resolved.len(),
        "before_close for each socket"
    );

    let message = error.to_string();
    assert!(
        message.starts_with(&format!("connect to tcp://localhost:{port} failed: ")),
        "{message}"
    );
    for addr in &resolved {
        assert!(
            message.contains(&format!("{addr}: ")),
            "{message} lacks {addr}"
        );
    }
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test]
async fn a_full_backlog_gives_a_typed_timeout() {
    // Loopback answers at once, so a connect hangs only when the listener's
    // accept queue is full: Linux then drops the SYN. Backlog 0 queues one
    // connection; a listener that never accepts makes a later one hang.
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("address");
    listener.bind(&any_port.into()).expect("bind");
    listener.listen(0).expect("listen");
    let addr = listener
        .local_addr()
        .expect("local_addr")
        .as_socket()
        .expect("an inet address");
    let endpoint = Endpoint::Tcp {
        host: "127.0.0.1".into(),
        port: addr.port(),
    };
    let options = ConnectOptions::default().connect_timeout(Duration::from_millis(200));
    let (hooks, closes) = counting_hooks();

    let mut queued = Vec::new();
    let error = loop {
        match connect(&endpoint, &options, &hooks).await {
            Ok(stream) => queued.push(stream),
            Err(error) => break error,
        }
        assert!(queued.len() < 8, "the backlog never filled");
    };
    assert!(
        matches!(error, ConnectError::Timeout { timeout, .. } if timeout == Duration::from_millis(200)),
        "{error:?}"
    );
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert_eq!(error.attempts().len(), 1);
    assert_eq!(error.attempts()[0].address, SocketAddress::Tcp(addr));
    let message = error.to_string();
    assert!(
        message.contains(&endpoint.to_string()) && message.contains("timed out"),
        "{message}"
    );
    assert_eq!(
        closes.load(Ordering::SeqCst),
        1,
        "the timed-out socket got before_close"
    );
}

#[tokio::test]
async fn on_open_runs_before_connect() {
    let (listener, _, endpoint) = tcp_listener().await;
    // The hook binds the socket and records the port it got, and whether the
    // socket had a peer yet; a bind after connect would fail.
    let seen: Arc<Mutex<Option<(u16, bool)>>> = Arc::default();
    let record = Arc::clone(&seen);
    let hooks = SocketHooks::default().on_open(move |sock| {
        let any_port: SocketAddr = "127.0.0.1:0".parse().map_err(io::Error::other)?;
        sock.bind(&any_port.into())?;
        let port = sock.local_addr()?.as_socket().map_or(0, |a| a.port());
        *record.lock().map_err(|_| io::Error::other("poisoned"))? =
            Some((port, sock.peer_addr().is_ok()));
        Ok(())
    });
    let stream = connect(&endpoint, &ConnectOptions::default(), &hooks)
        .await
        .expect("connect");
    let (_peer, peer_sees) = listener.accept().await.expect("accept");

    let (bound_port, had_peer) = seen.lock().expect("lock").expect("on_open ran");
    assert!(!had_peer, "on_open must run before connect");
    assert_eq!(
        peer_sees.port(),
        bound_port,
        "the listener sees the port bound in on_open"
    );
    assert_eq!(
        stream.local_addr().expect("local_addr"),
        SocketAddress::Tcp(peer_sees)
    );
}

#[tokio::test]
async fn a_failing_on_open_aborts_before_any_connection() {
    let (listener, addr, endpoint) = tcp_listener().await;
    let closes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&closes);
    let hooks = SocketHooks::default()
        .on_open(|_| {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "mark refused",
            ))
        })
        .before_close(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
    let error = connect(&endpoint, &ConnectOptions::default(), &hooks)
        .await
        .expect_err("the hook fails");
    assert!(
        matches!(&error, ConnectError::Hook { address, .. } if *address == SocketAddress::Tcp(addr)),
        "{error:?}"
    );
    assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
    let message = error.to_string();
    assert!(
        message.contains(&endpoint.to_string()) && message.contains("mark refused"),
        "{message}"
    );
    assert_eq!(
        closes.load(Ordering::SeqCst),
        1,
        "the abandoned socket got before_close"
    );

    // The listener saw no connection: the first one it accepts is the next.
    let next = connect(
        &endpoint,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect("connect without the hook");
    let (_peer, first_seen) = listener.accept().await.expect("accept");
    assert_eq!(
        next.local_addr().expect("local_addr"),
        SocketAddress::Tcp(first_seen)
    );
}

#[tokio::test]
async fn a_panicking_on_open_is_a_hook_error() {
    let (_listener, _, endpoint) = tcp_listener().await;
    let hooks = SocketHooks::default().on_open(|_| panic!("hook bug"));
    let error = connect(&endpoint, &ConnectOptions::default(), &hooks)
        .await
        .expect_err("the hook panics");
    assert!(matches!(error, ConnectError::Hook { .. }), "{error:?}");
    assert!(error.to_string().contains("panicked"), "{error}");
}

#[test]
fn streams_and_sources_move_between_tasks() {
    fn send_sync_unpin<T: Send + Sync + Unpin + 'static>() {}
    send_sync_unpin::<linesman_stream::Stream>();
    send_sync_unpin::<linesman_stream::BlockingSource>();
    send_sync_unpin::<SocketHooks>();
    send_sync_unpin::<ConnectError>();
}
