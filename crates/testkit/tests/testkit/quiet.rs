//! `Silent` and `SlowReader`: peers that do not keep up.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::{Codec, Frame};
use linesman_testkit::{Behavior, Peer};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::Encoder;

use crate::{Place, connect, connect_raw, tcp, unix, within};

async fn silent(place: Place) {
    let peer = Peer::start(place.listen.clone(), Behavior::Silent)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    client
        .send(Frame::new(1, "anyone there?"))
        .await
        .expect("send");
    within(peer.wait_connections(1)).await;
    // a bound on how long we look, not a timing assertion: nothing arrives
    // and the connection does not end
    let nothing = tokio::time::timeout(Duration::from_millis(100), client.next()).await;
    assert!(nothing.is_err(), "expected silence, got {nothing:?}");
    let stats = peer.stats();
    assert_eq!(
        (
            stats.open,
            stats.reads,
            stats.frames_received,
            stats.bytes_sent
        ),
        (1, 0, 0, 0)
    );
}

#[tokio::test]
async fn silent_keeps_the_connection_open_and_says_nothing_over_tcp() {
    silent(tcp()).await;
}

#[tokio::test]
async fn silent_keeps_the_connection_open_and_says_nothing_over_unix() {
    silent(unix()).await;
}

async fn slow_reader(place: Place) {
    let behavior = Behavior::SlowReader {
        bytes_per_read: 1024,
        delay: Duration::from_millis(1),
    };
    let peer = Peer::start(place.listen.clone(), behavior)
        .await
        .expect("peer starts");
    let mut raw = connect_raw(&peer.endpoint())
        .await
        .expect("client connects");
    let mut bytes = bytes::BytesMut::new();
    Codec::default()
        .encode(Frame::new(1, vec![7u8; 64 * 1024]), &mut bytes)
        .expect("a 64 KiB frame encodes");
    within(raw.write_all(&bytes))
        .await
        .expect("the write completes");
    let stats = within(peer.wait_frames_received(1)).await;
    // at most 1024 bytes per read: the frame took at least this many reads
    let least = (bytes.len() as u64).div_ceil(1024);
    assert!(
        stats.reads >= least,
        "{} reads for {} bytes",
        stats.reads,
        bytes.len()
    );
    assert_eq!(stats.bytes_received, bytes.len() as u64);
}

#[tokio::test]
async fn slow_reader_takes_many_small_reads_over_tcp() {
    slow_reader(tcp()).await;
}

#[tokio::test]
async fn slow_reader_takes_many_small_reads_over_unix() {
    slow_reader(unix()).await;
}
