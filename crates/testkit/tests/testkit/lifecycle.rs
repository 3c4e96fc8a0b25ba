//! `Flap`, `Refuse` and `Reset`: connections that end, a peer that is not
//! there yet, and a reset instead of an orderly close.

use std::io;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::{CodecError, Frame};
use linesman_testkit::{Behavior, Peer};

use crate::{Place, connect, tcp, unix, within};

async fn flap(place: Place) {
    let peer = Peer::start(
        place.listen.clone(),
        Behavior::flap(Duration::from_millis(50)),
    )
    .await
    .expect("peer starts");
    for round in 1..=2u64 {
        let mut client = connect(&peer.endpoint()).await.expect("client connects");
        client.send(Frame::new(1, "x")).await.expect("send");
        let echoed = within(client.next())
            .await
            .expect("an echo")
            .expect("a valid echo");
        assert_eq!(echoed.payload, "x");
        // then the peer drops the connection: an orderly end of stream
        let end = within(client.next()).await;
        assert!(end.is_none(), "expected the end of the stream, got {end:?}");
        let stats = within(peer.wait_open(0)).await;
        assert_eq!(stats.accepted, round);
    }
}

#[tokio::test]
async fn flap_drops_each_connection_and_accepts_the_next_over_tcp() {
    flap(tcp()).await;
}

#[tokio::test]
async fn flap_drops_each_connection_and_accepts_the_next_over_unix() {
    flap(unix()).await;
}

/// Long enough that the first connect certainly falls inside it.
const REFUSE: Duration = Duration::from_secs(1);

#[tokio::test]
async fn refuse_gives_connection_refused_then_echoes_over_tcp() {
    let peer = Peer::start(tcp().listen, Behavior::refuse(REFUSE))
        .await
        .expect("peer starts");
    let refused = connect(&peer.endpoint())
        .await
        .err()
        .expect("connect is refused at first");
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    within(peer.wait_listening())
        .await
        .expect("the peer listens after the period");
    let mut client = connect(&peer.endpoint())
        .await
        .expect("client connects once the peer listens");
    client.send(Frame::new(2, "late")).await.expect("send");
    let echoed = within(client.next())
        .await
        .expect("an echo")
        .expect("a valid echo");
    assert_eq!(echoed.payload, "late");
    assert_eq!(peer.stats().accepted, 1);
}

#[tokio::test]
async fn refuse_has_no_socket_file_then_serves_over_unix() {
    let place = unix();
    let behavior = Behavior::Send {
        count: 1,
        ty: 4,
        payload_len: 0,
    }
    .after_refusing(REFUSE);
    let peer = Peer::start(place.listen.clone(), behavior)
        .await
        .expect("peer starts");
    let missing = connect(&peer.endpoint())
        .await
        .err()
        .expect("connect fails at first");
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    within(peer.wait_listening())
        .await
        .expect("the peer listens after the period");
    let mut client = connect(&peer.endpoint())
        .await
        .expect("client connects once the peer listens");
    let frame = within(client.next())
        .await
        .expect("a frame")
        .expect("a valid frame");
    assert_eq!(frame.ty, 4);
}

#[tokio::test]
async fn stop_during_the_refuse_period_returns_and_never_listens() {
    let peer = Peer::start(tcp().listen, Behavior::refuse(Duration::from_secs(3600)))
        .await
        .expect("peer starts");
    let endpoint = peer.endpoint();
    let pending = tokio::time::timeout(Duration::from_millis(20), peer.wait_listening()).await;
    assert!(
        pending.is_err(),
        "the peer must not listen during its refuse period"
    );
    within(peer.stop()).await;
    let refused = connect(&endpoint)
        .await
        .err()
        .expect("nothing listens after stop");
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn reset_makes_the_client_see_connection_reset_over_tcp() {
    let peer = Peer::start(tcp().listen, Behavior::Reset)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    within(peer.wait_connections(1)).await;
    match within(client.next()).await {
        Some(Err(CodecError::Io(e))) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("expected a connection reset, got {other:?}"),
    }
}

#[tokio::test]
async fn reset_closes_a_unix_connection() {
    let place = unix();
    let peer = Peer::start(place.listen.clone(), Behavior::Reset)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    let end = within(client.next()).await;
    assert!(end.is_none(), "expected the end of the stream, got {end:?}");
}
