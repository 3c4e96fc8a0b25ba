//! The transport and the codec together against peers in child processes:
//! what a client of `linesman-stream` + `linesman-ipc-codec` sees when a
//! peer dies, misbehaves, or is a blocking driver instead of a socket.

use crate::support::peer_binary;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::{Codec, CodecError, Frame};
use linesman_stream::{
    BlockingSource, BlockingSourceOptions, ConnectOptions, Endpoint, SocketHooks, Stream, connect,
};
use linesman_testkit::{Behavior, HostileKind, Listen, PeerProcess, TempDir};
use std::io;
use std::sync::mpsc;
use tokio_util::codec::{Encoder, Framed, FramedRead};

async fn connect_framed(endpoint: &Endpoint) -> Framed<Stream, Codec> {
    let stream = connect(
        endpoint,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect("the child peer is listening");
    Framed::new(stream, Codec::default())
}

#[tokio::test]
async fn killing_a_child_peer_ends_the_stream_and_refuses_the_next_connect() {
    let mut peer = PeerProcess::spawn_with(peer_binary(), &Listen::tcp(), &Behavior::Echo)
        .expect("linesman-peer starts");
    let endpoint = peer.endpoint().clone();
    let mut framed = connect_framed(&endpoint).await;

    let request = Frame::request(0x10, 42, Bytes::from_static(b"ping"));
    framed
        .send(request.clone())
        .await
        .expect("send to a live peer");
    let echoed = framed
        .next()
        .await
        .expect("the peer answers before it is killed")
        .expect("a well-formed echo");
    assert_eq!(
        echoed,
        request.reply(0x10, "ping"),
        "the echo marks its reply"
    );

    peer.kill().expect("the child can be killed");

    // The kernel closes the dead process's socket: the client sees the end
    // of the stream (or a reset), never a frame.
    match framed.next().await {
        None | Some(Err(CodecError::Io(_))) => {}
        Some(other) => panic!("expected the stream to end after the kill, got {other:?}"),
    }
    let error = connect(
        &endpoint,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect_err("nothing listens after the kill");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    assert!(error.to_string().contains(&endpoint.to_string()), "{error}");
}

#[tokio::test]
async fn hostile_child_peers_give_typed_codec_errors_over_unix_sockets() {
    let folder = TempDir::new("hostile").expect("a temporary folder");
    for kind in HostileKind::ALL {
        let listen = Listen::unix(folder.join(format!("{}.sock", kind.name())));
        let peer = PeerProcess::spawn_with(peer_binary(), &listen, &Behavior::Hostile(kind))
            .expect("linesman-peer starts");
        let mut framed = connect_framed(peer.endpoint()).await;
        let error = match framed.next().await {
            Some(Err(error)) => error,
            Some(Ok(frame)) => panic!("{}: a hostile peer sent a frame: {frame:?}", kind.name()),
            None => panic!("{}: the stream ended without a codec error", kind.name()),
        };
        match (kind, &error) {
            (HostileKind::BadFlags, CodecError::UnknownFlags { .. })
            | (HostileKind::OversizedLength, CodecError::FrameTooLarge { .. })
            | (HostileKind::TruncatedFrame, CodecError::Truncated { .. }) => {}
            _ => panic!("{}: unexpected error {error:?}", kind.name()),
        }
    }
}

#[tokio::test]
async fn a_blocking_driver_is_framed_exactly_like_a_socket() {
    let frames: Vec<Frame> = (0..50u32)
        .map(|n| {
            let frame = Frame::new(n % 7, vec![n as u8; n as usize * 13]);
            if n % 3 == 0 {
                frame.with_id(u64::from(n))
            } else {
                frame
            }
        })
        .collect();
    let mut wire = bytes::BytesMut::new();
    for frame in &frames {
        Codec::default()
            .encode(frame, &mut wire)
            .expect("valid frames encode");
    }

    // The "driver" hands out the encoded bytes in awkward chunk sizes, the
    // way a device delivers whatever it has, then reports end of input.
    let (chunks_tx, chunks_rx) = mpsc::channel::<Vec<u8>>();
    let mut offset = 0;
    for size in [1usize, 7, 3, 64, 5].iter().cycle() {
        if offset >= wire.len() {
            break;
        }
        let end = (offset + size).min(wire.len());
        chunks_tx
            .send(wire[offset..end].to_vec())
            .expect("the receiver is alive");
        offset = end;
    }
    drop(chunks_tx);
    let driver = move |buf: &mut [u8]| -> io::Result<usize> {
        match chunks_rx.recv() {
            Ok(chunk) => {
                buf[..chunk.len()].copy_from_slice(&chunk);
                Ok(chunk.len())
            }
            Err(mpsc::RecvError) => Ok(0),
        }
    };
    let source = BlockingSource::spawn(driver, BlockingSourceOptions::default().name("test-rx"))
        .expect("the driver thread starts");

    let decoded: Vec<Frame> = FramedRead::new(source, Codec::default())
        .map(|frame| frame.expect("the driver's bytes are well-formed frames"))
        .collect()
        .await;
    assert_eq!(decoded, frames);
}
