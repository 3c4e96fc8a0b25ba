//! The handle: counters, waiting on them, `drop_all`, `stop` and drop.

use std::io;

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::Frame;
use linesman_testkit::{Behavior, Peer};

use crate::{Place, connect, tcp, unix, within};

#[tokio::test]
async fn counters_follow_connections_opening_and_closing() {
    let peer = Peer::echo().await.expect("peer starts");
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(connect(&peer.endpoint()).await.expect("client connects"));
    }
    let stats = within(peer.wait_open(3)).await;
    assert_eq!(stats.accepted, 3);
    drop(clients.pop());
    let stats = within(peer.wait_open(2)).await;
    assert_eq!(stats.accepted, 3);
    for client in &mut clients {
        client.send(Frame::new(1, "abc")).await.expect("send");
    }
    let stats = within(peer.wait_frames_received(2)).await;
    assert_eq!(stats.bytes_received, 2 * (8 + 3));
}

async fn drop_all(place: Place) {
    let peer = Peer::start(place.listen.clone(), Behavior::Echo)
        .await
        .expect("peer starts");
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(connect(&peer.endpoint()).await.expect("client connects"));
    }
    within(peer.wait_open(5)).await;
    within(peer.drop_all()).await;
    assert_eq!(
        peer.stats().open,
        0,
        "drop_all returns once every connection is closed"
    );
    for client in &mut clients {
        let end = within(client.next()).await;
        assert!(end.is_none(), "expected the end of the stream, got {end:?}");
    }
    // the peer still listens and serves new connections
    let mut client = connect(&peer.endpoint())
        .await
        .expect("client connects after drop_all");
    client.send(Frame::new(3, "again")).await.expect("send");
    let echoed = within(client.next())
        .await
        .expect("an echo")
        .expect("a valid echo");
    assert_eq!(echoed.payload, "again");
    assert_eq!(peer.stats().accepted, 6);
}

#[tokio::test]
async fn drop_all_closes_every_connection_and_keeps_listening_over_tcp() {
    drop_all(tcp()).await;
}

#[tokio::test]
async fn drop_all_closes_every_connection_and_keeps_listening_over_unix() {
    drop_all(unix()).await;
}

#[tokio::test]
async fn stop_closes_connections_and_the_listener_over_tcp() {
    let peer = Peer::echo().await.expect("peer starts");
    let endpoint = peer.endpoint();
    let mut client = connect(&endpoint).await.expect("client connects");
    within(peer.wait_open(1)).await;
    within(peer.stop()).await;
    let end = within(client.next()).await;
    assert!(end.is_none(), "expected the end of the stream, got {end:?}");
    let refused = connect(&endpoint)
        .await
        .err()
        .expect("nothing listens after stop");
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn stop_removes_the_unix_socket_file() {
    let place = unix();
    let peer = Peer::start(place.listen.clone(), Behavior::Echo)
        .await
        .expect("peer starts");
    let linesman_stream::Endpoint::Unix(path) = peer.endpoint() else {
        panic!("a unix peer has a unix endpoint");
    };
    assert!(path.exists());
    within(peer.stop()).await;
    assert!(!path.exists());
}

#[tokio::test]
async fn dropping_the_peer_closes_its_connections_and_socket_file() {
    let place = unix();
    let peer = Peer::start(place.listen.clone(), Behavior::Silent)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    within(peer.wait_open(1)).await;
    let linesman_stream::Endpoint::Unix(path) = peer.endpoint() else {
        panic!("a unix peer has a unix endpoint");
    };
    drop(peer);
    assert!(!path.exists());
    let end = within(client.next()).await;
    assert!(end.is_none(), "expected the end of the stream, got {end:?}");
}

#[tokio::test]
async fn a_stale_socket_file_is_replaced_but_another_file_is_not() {
    let place = unix();
    let linesman_testkit::Listen::Unix(path) = &place.listen else {
        panic!("unix() gives a unix listen address");
    };
    // a socket file left by a peer that did not clean up
    let stale = std::os::unix::net::UnixListener::bind(path).expect("bind a stale socket");
    drop(stale);
    let peer = Peer::start(place.listen.clone(), Behavior::Echo)
        .await
        .expect("a stale socket is replaced");
    peer.stop().await;
    std::fs::write(path, b"not a socket").expect("write a plain file");
    let err = Peer::start(place.listen.clone(), Behavior::Echo)
        .await
        .expect_err("a plain file is kept");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    assert_eq!(
        std::fs::read(path).expect("the file is still there"),
        b"not a socket"
    );
}
