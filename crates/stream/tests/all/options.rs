//! `ConnectOptions` on real loopback sockets: the defaults and chosen values
//! are read back from the connected socket.

use std::time::Duration;

use linesman_stream::{ConnectOptions, Keepalive, SocketHooks, connect};

use crate::common::tcp_listener;

#[tokio::test]
async fn default_options_are_applied() {
    let (_listener, _, endpoint) = tcp_listener().await;
    let stream = connect(
        &endpoint,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect("connect");
    let sock = stream.sock_ref();
    assert!(sock.tcp_nodelay().expect("TCP_NODELAY"));
    assert!(sock.keepalive().expect("SO_KEEPALIVE"));
    assert_eq!(
        sock.tcp_keepalive_time().expect("idle"),
        Duration::from_secs(10)
    );
    assert_eq!(
        sock.tcp_keepalive_interval().expect("interval"),
        Duration::from_secs(5)
    );
    assert_eq!(sock.tcp_keepalive_retries().expect("count"), 3);
    assert_eq!(
        sock.tcp_user_timeout().expect("TCP_USER_TIMEOUT"),
        Some(Duration::from_secs(30))
    );
}

#[tokio::test]
async fn chosen_options_are_applied() {
    let (_listener, _, endpoint) = tcp_listener().await;
    let options = ConnectOptions::default()
        .nodelay(false)
        .keepalive(Some(
            Keepalive::default()
                .idle(Duration::from_secs(7))
                .interval(Duration::from_secs(2))
                .count(6),
        ))
        .user_timeout(Some(Duration::from_secs(12)))
        .send_buffer_size(Some(96 * 1024))
        .recv_buffer_size(Some(80 * 1024));
    let stream = connect(&endpoint, &options, &SocketHooks::default())
        .await
        .expect("connect");
    let sock = stream.sock_ref();
    assert!(!sock.tcp_nodelay().expect("TCP_NODELAY"));
    assert_eq!(
        sock.tcp_keepalive_time().expect("idle"),
        Duration::from_secs(7)
    );
    assert_eq!(
        sock.tcp_keepalive_interval().expect("interval"),
        Duration::from_secs(2)
    );
    assert_eq!(sock.tcp_keepalive_retries().expect("count"), 6);
    assert_eq!(
        sock.tcp_user_timeout().expect("TCP_USER_TIMEOUT"),
        Some(Duration::from_secs(12))
    );
    // Linux doubles the value it is given, for its own bookkeeping.
    assert!(sock.send_buffer_size().expect("SO_SNDBUF") >= 96 * 1024);
    assert!(sock.recv_buffer_size().expect("SO_RCVBUF") >= 80 * 1024);

    let off = ConnectOptions::default().keepalive(None).user_timeout(None);
    let stream = connect(&endpoint, &off, &SocketHooks::default())
        .await
        .expect("connect");
    assert!(!stream.sock_ref().keepalive().expect("SO_KEEPALIVE"));
    assert_eq!(
        stream
            .sock_ref()
            .tcp_user_timeout()
            .expect("TCP_USER_TIMEOUT"),
        None
    );
}
