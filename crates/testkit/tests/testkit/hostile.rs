//! `Behavior::Hostile`: the exact bytes, and the codec's typed error for each.

use futures_util::StreamExt;
use linesman_ipc_codec::{CodecError, DEFAULT_MAX_FRAME};
use linesman_testkit::{Behavior, HostileKind, Peer};
use tokio::io::AsyncReadExt;

use crate::{Place, connect, connect_raw, tcp, unix, within};

#[tokio::test]
async fn each_kind_sends_exactly_its_bytes() {
    for kind in HostileKind::ALL {
        let peer = Peer::start(tcp().listen, Behavior::Hostile(kind))
            .await
            .expect("peer starts");
        let mut raw = connect_raw(&peer.endpoint())
            .await
            .expect("client connects");
        let expected = kind.bytes();
        let mut got = vec![0u8; expected.len()];
        within(raw.read_exact(&mut got))
            .await
            .expect("the hostile bytes arrive");
        assert_eq!(got, expected, "{kind:?}");
        let stats = within(peer.wait_for(|s| s.frames_sent == 1)).await;
        assert_eq!(stats.bytes_sent, expected.len() as u64);
    }
}

async fn first_error(place: &Place, kind: HostileKind) -> CodecError {
    let peer = Peer::start(place.listen.clone(), Behavior::Hostile(kind))
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    match within(client.next()).await {
        Some(Err(e)) => e,
        other => panic!("expected a codec error for {kind:?}, got {other:?}"),
    }
}

async fn typed_errors(place: Place) {
    match first_error(&place, HostileKind::BadFlags).await {
        CodecError::UnknownFlags { flags, unknown } => assert_eq!((flags, unknown), (4, 4)),
        other => panic!("expected unknown flags, got {other:?}"),
    }
    match first_error(&place, HostileKind::OversizedLength).await {
        CodecError::FrameTooLarge { length, max } => {
            assert_eq!((length, max), (1 << 30, DEFAULT_MAX_FRAME))
        }
        other => panic!("expected a frame too large, got {other:?}"),
    }
    match first_error(&place, HostileKind::TruncatedFrame).await {
        CodecError::Truncated { buffered, expected } => assert_eq!((buffered, expected), (16, 24)),
        other => panic!("expected a truncated frame, got {other:?}"),
    }
}

#[tokio::test]
async fn the_codec_reports_each_kind_with_its_values_over_tcp() {
    typed_errors(tcp()).await;
}

#[tokio::test]
async fn the_codec_reports_each_kind_with_its_values_over_unix() {
    typed_errors(unix()).await;
}
