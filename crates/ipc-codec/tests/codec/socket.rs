//! The codec over a real loopback TCP socket: frames written in small pieces
//! arrive whole, and a hostile length surfaces as the typed error.

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::{Codec, CodecError, Frame};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::support::{encode_all, sample_frames};

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (client.expect("connect"), accepted.expect("accept").0)
}

#[tokio::test]
async fn frames_written_in_pieces_arrive_whole() {
    let (mut client, server) = pair().await;
    client.set_nodelay(true).expect("nodelay");
    let frames = sample_frames();
    let wire = encode_all(&mut Codec::default(), &frames);
    let writer = tokio::spawn(async move {
        for piece in wire.chunks(3) {
            client.write_all(piece).await.expect("write");
            client.flush().await.expect("flush");
            tokio::task::yield_now().await;
        }
    });
    let received: Vec<Frame> = FramedRead::new(server, Codec::default())
        .map(|frame| frame.expect("valid frames"))
        .collect()
        .await;
    writer.await.expect("writer task");
    assert_eq!(received, frames);
}

#[tokio::test]
async fn framed_write_and_read_agree() {
    let (client, server) = pair().await;
    let frames = sample_frames();
    let to_send = frames.clone();
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(client, Codec::default());
        for frame in &to_send {
            sink.send(frame).await.expect("send");
        }
    });
    let received: Vec<Frame> = FramedRead::new(server, Codec::default())
        .map(|frame| frame.expect("valid frames"))
        .collect()
        .await;
    writer.await.expect("writer task");
    assert_eq!(received, frames);
}

#[tokio::test]
async fn hostile_length_and_truncation_arrive_as_typed_errors() {
    let (mut client, server) = pair().await;
    client
        .write_all(&[0, 1, 0, 0, 0x40, 0, 0, 0])
        .await
        .expect("write");
    let mut reader = FramedRead::new(server, Codec::default());
    let err = reader
        .next()
        .await
        .expect("an item")
        .expect_err("oversized");
    assert_eq!(
        err.to_string(),
        "frame length 1073741824 exceeds max_frame 16777216"
    );

    let (mut client, server) = pair().await;
    client
        .write_all(&[0, 1, 0, 0, 0, 0, 0, 9, 1, 2])
        .await
        .expect("write");
    drop(client);
    let mut reader = FramedRead::new(server, Codec::default());
    let err = reader
        .next()
        .await
        .expect("an item")
        .expect_err("truncated");
    assert!(
        matches!(
            err,
            CodecError::Truncated {
                buffered: 10,
                expected: 17
            }
        ),
        "{err:?}"
    );
}
