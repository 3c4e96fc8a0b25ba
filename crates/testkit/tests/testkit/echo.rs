//! `Behavior::Echo`: frames come back unchanged, ids included, in order; a
//! request comes back marked as its reply.

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::Frame;
use linesman_testkit::{Behavior, Peer};
use tokio::io::AsyncWriteExt;

use crate::{Place, connect, connect_raw, tcp, unix, within};

async fn round_trip(place: Place) {
    let peer = Peer::start(place.listen.clone(), Behavior::Echo)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    let plain = Frame::new(7, "ping");
    let request = Frame::request(9, 42, "req");
    client.send(plain.clone()).await.expect("send plain");
    client.send(request.clone()).await.expect("send request");
    let first = within(client.next())
        .await
        .expect("a reply")
        .expect("a valid reply");
    let second = within(client.next())
        .await
        .expect("a reply")
        .expect("a valid reply");
    assert_eq!(first, plain);
    assert_eq!(second, request.clone().with_reply(true));
    assert_eq!(
        second,
        request.reply(9, "req"),
        "as `Frame::reply` makes it"
    );

    let stats = within(peer.wait_for(|s| s.frames_sent == 2)).await;
    assert_eq!(stats.accepted, 1);
    assert_eq!(stats.open, 1);
    assert_eq!(stats.frames_received, 2);
    assert_eq!(stats.bytes_received, (8 + 4) + (16 + 3));
    assert_eq!(stats.bytes_sent, stats.bytes_received);
    assert_eq!(stats.protocol_errors, 0);
    assert_eq!(stats.requests_answered, 1);
    peer.stop().await;
}

#[tokio::test]
async fn echo_round_trip_over_tcp() {
    round_trip(tcp()).await;
}

#[tokio::test]
async fn echo_round_trip_over_unix() {
    round_trip(unix()).await;
}

#[tokio::test]
async fn echo_keeps_the_order_of_a_burst() {
    let peer = Peer::echo().await.expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    for i in 0..500u32 {
        client
            .feed(Frame::new(i, vec![0u8; (i % 300) as usize]))
            .await
            .expect("feed");
    }
    SinkExt::<Frame>::flush(&mut client).await.expect("flush");
    for i in 0..500u32 {
        let frame = within(client.next())
            .await
            .expect("a reply")
            .expect("a valid reply");
        assert_eq!((frame.ty, frame.payload.len()), (i, (i % 300) as usize));
    }
    assert_eq!(peer.stats().frames_received, 500);
}

#[tokio::test]
async fn echo_closes_a_client_that_sends_bytes_that_are_not_frames() {
    let peer = Peer::echo().await.expect("peer starts");
    let mut raw = connect_raw(&peer.endpoint())
        .await
        .expect("client connects");
    // flags 0xffff: every undefined bit set
    raw.write_all(&[0, 1, 0xff, 0xff, 0, 0, 0, 0])
        .await
        .expect("write");
    let stats = within(peer.wait_for(|s| s.accepted == 1 && s.open == 0)).await;
    assert_eq!(stats.protocol_errors, 1);
    assert_eq!(stats.frames_received, 0);
}
