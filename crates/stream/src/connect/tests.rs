//! Trying addresses in turn, independent of what the resolver returns on
//! this machine (here `localhost` may have one address or two).

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use super::try_in_turn;
use crate::{ConnectError, ConnectOptions, Endpoint, SocketAddress, SocketHooks};

/// A port on 127.0.0.1 that nothing listens on.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind to find a free port");
    listener.local_addr().expect("listener address").port()
}

#[tokio::test]
async fn a_refused_first_address_falls_through_to_the_next() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let good = listener.local_addr().expect("address");
    // [::1] on the same port has no listener (or no IPv6 at all): it fails.
    let bad: SocketAddr = format!("[::1]:{}", good.port()).parse().expect("address");
    let endpoint = Endpoint::Tcp {
        host: "example.invalid".into(),
        port: good.port(),
    };
    let addresses = vec![SocketAddress::Tcp(bad), SocketAddress::Tcp(good)];
    let stream = try_in_turn(
        &endpoint,
        addresses,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect("the second address listens");
    assert_eq!(
        stream.peer_addr().expect("peer_addr"),
        SocketAddress::Tcp(good)
    );
    assert_eq!(stream.endpoint(), &endpoint);
}

#[tokio::test]
async fn when_all_fail_each_address_is_reported_in_order() {
    let first: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let second: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let endpoint = Endpoint::Tcp {
        host: "feed".into(),
        port: first.port(),
    };
    let addresses = vec![SocketAddress::Tcp(first), SocketAddress::Tcp(second)];
    let error = try_in_turn(
        &endpoint,
        addresses,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect_err("nothing listens");
    assert!(matches!(error, ConnectError::Connect { .. }), "{error:?}");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    let tried: Vec<&SocketAddress> = error.attempts().iter().map(|a| &a.address).collect();
    assert_eq!(
        tried,
        [&SocketAddress::Tcp(first), &SocketAddress::Tcp(second)]
    );
    let message = error.to_string();
    let at_first = message
        .find(&format!("{first}: "))
        .expect("first address named");
    let at_second = message
        .find(&format!("; {second}: "))
        .expect("second address named");
    assert!(at_first < at_second, "{message}");
}
