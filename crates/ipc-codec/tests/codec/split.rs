//! The decoder sees the stream cut anywhere: at every byte offset, one byte
//! at a time with empty reads in between, and through `FramedRead` over a
//! reader that returns one byte per read and `Pending` between reads.

use crate::support::{encode_all, layout_and_frames, sample_frames};
use bytes::BytesMut;
use futures_util::StreamExt;
use linesman_ipc_codec::{Codec, Frame};
use proptest::prelude::*;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::codec::{Decoder, FramedRead};

/// Feeds `chunks` one after the other, decoding after each (an empty chunk
/// is an empty read), then ends the stream.
fn decode_chunks<'a>(codec: &mut Codec, chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Frame> {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut buf).expect("valid input") {
            frames.push(frame);
        }
    }
    while let Some(frame) = codec
        .decode_eof(&mut buf)
        .expect("input ends between frames")
    {
        frames.push(frame);
    }
    assert!(buf.is_empty());
    frames
}

#[test]
fn every_split_offset_yields_exactly_the_frames() {
    let frames = sample_frames();
    let mut codec = Codec::default();
    let wire = encode_all(&mut codec, &frames);
    for at in 0..=wire.len() {
        let (a, b) = wire.split_at(at);
        assert_eq!(decode_chunks(&mut codec, [a, b]), frames, "split at {at}");
    }
}

#[test]
fn every_pair_of_split_offsets_yields_exactly_the_frames() {
    let frames = sample_frames();
    let mut codec = Codec::default();
    let wire = encode_all(&mut codec, &frames);
    for i in 0..=wire.len() {
        for j in i..=wire.len() {
            let chunks = [&wire[..i], &wire[i..j], &wire[j..]];
            assert_eq!(
                decode_chunks(&mut codec, chunks),
                frames,
                "split at {i} and {j}"
            );
        }
    }
}

#[test]
fn one_byte_chunks_with_empty_reads_yield_exactly_the_frames() {
    let frames = sample_frames();
    let mut codec = Codec::default();
    let wire = encode_all(&mut codec, &frames);
    let empty: &[u8] = &[];
    let chunks = wire.chunks(1).flat_map(|byte| [empty, byte, empty]);
    assert_eq!(decode_chunks(&mut codec, chunks), frames);
}

proptest! {
    #[test]
    fn any_layout_decodes_byte_by_byte((layout, frames) in layout_and_frames()) {
        let mut codec = Codec::new(layout);
        let wire = encode_all(&mut codec, &frames);
        prop_assert_eq!(decode_chunks(&mut codec, wire.chunks(1)), frames);
    }

    #[test]
    fn any_layout_decodes_any_split(
        (layout, frames) in layout_and_frames(),
        cut in any::<proptest::sample::Index>(),
    ) {
        let mut codec = Codec::new(layout);
        let wire = encode_all(&mut codec, &frames);
        let (a, b) = wire.split_at(cut.index(wire.len() + 1));
        prop_assert_eq!(decode_chunks(&mut codec, [a, b]), frames);
    }
}

/// Returns one byte per read, and `Pending` (waking itself) before each.
struct Trickle {
    bytes: Vec<u8>,
    at: usize,
    pending_next: bool,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        if let Some(&byte) = self.bytes.get(self.at) {
            buf.put_slice(&[byte]);
            self.at += 1;
        }
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn framed_read_through_pending_reads_yields_exactly_the_frames() {
    let frames = sample_frames();
    let wire = encode_all(&mut Codec::default(), &frames);
    let reader = Trickle {
        bytes: wire.to_vec(),
        at: 0,
        pending_next: true,
    };
    let decoded: Vec<Frame> = FramedRead::new(reader, Codec::default())
        .map(|frame| frame.expect("valid input"))
        .collect()
        .await;
    assert_eq!(decoded, frames);
}
