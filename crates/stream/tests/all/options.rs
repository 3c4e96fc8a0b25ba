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
        Some(Duration::from_secs(20))
    );
}

#[test]
fn the_defaults_notice_a_dead_peer_within_25_seconds() {
    let secs = Duration::from_secs;
    let defaults = ConnectOptions::default();
    // Linux: probes at 10 s and 15 s; at 20 s the user timeout has run out.
    assert_eq!(defaults.dead_peer_after(), Some(secs(20)));
    // Without TCP_USER_TIMEOUT, the three probes decide: 10 + 3 × 5.
    assert_eq!(
        defaults.clone().user_timeout(None).dead_peer_after(),
        Some(secs(25))
    );
    // A user timeout is checked only when a probe is due, and only after
    // one went unanswered.
    let at = |idle, interval, user| {
        ConnectOptions::default()
            .keepalive(Some(
                Keepalive::default()
                    .idle(secs(idle))
                    .interval(secs(interval)),
            ))
            .user_timeout(Some(secs(user)))
            .dead_peer_after()
    };
    assert_eq!(at(10, 5, 30), Some(secs(30)), "the old defaults: 30 s");
    assert_eq!(at(10, 5, 21), Some(secs(25)), "rounded up to a probe");
    assert_eq!(at(10, 5, 5), Some(secs(15)), "at least one probe");
    assert_eq!(defaults.keepalive(None).dead_peer_after(), None);
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
