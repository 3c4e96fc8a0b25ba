//! `Behavior::Send` and `Behavior::SendForever`: numbered frames, in order.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::Frame;
use linesman_testkit::{Behavior, Listen, Peer, send_payload};

use crate::{Place, connect, tcp, unix, within};

async fn send_n(place: Place) {
    let behavior = Behavior::Send {
        count: 5,
        ty: 3,
        payload_len: 10,
    };
    let peer = Peer::start(place.listen.clone(), behavior)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    for seq in 0..5 {
        let frame = within(client.next())
            .await
            .expect("a frame")
            .expect("a valid frame");
        assert_eq!(frame, Frame::new(3, send_payload(seq, 10)));
    }
    // no sixth frame, and the connection stays open
    let more = tokio::time::timeout(Duration::from_millis(100), client.next()).await;
    assert!(more.is_err(), "expected nothing more, got {more:?}");
    // the peer still reads and counts
    client.send(Frame::new(1, "hi")).await.expect("send");
    let stats = within(peer.wait_frames_received(1)).await;
    assert_eq!((stats.frames_sent, stats.open), (5, 1));
}

#[tokio::test]
async fn send_n_frames_over_tcp() {
    send_n(tcp()).await;
}

#[tokio::test]
async fn send_n_frames_over_unix() {
    send_n(unix()).await;
}

#[tokio::test]
async fn send_forever_streams_numbered_frames_as_fast_as_read() {
    let behavior = Behavior::SendForever {
        ty: 5,
        payload_len: 100,
        interval: None,
    };
    let peer = Peer::start(Listen::default(), behavior)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    for seq in 0..3000 {
        let frame = within(client.next())
            .await
            .expect("a frame")
            .expect("a valid frame");
        assert_eq!((frame.ty, frame.payload), (5, send_payload(seq, 100)));
    }
    drop(client);
    let stats = within(peer.wait_open(0)).await;
    assert!(stats.frames_sent >= 3000, "{stats:?}");
}

#[tokio::test]
async fn send_forever_with_an_interval_sends_one_frame_per_tick() {
    let behavior = Behavior::SendForever {
        ty: 2,
        payload_len: 8,
        interval: Some(Duration::from_millis(2)),
    };
    let place = unix();
    let peer = Peer::start(place.listen.clone(), behavior)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    for seq in 0..5 {
        let frame = within(client.next())
            .await
            .expect("a frame")
            .expect("a valid frame");
        assert_eq!(frame.payload, send_payload(seq, 8));
    }
}
