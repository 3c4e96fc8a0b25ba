//! The default layout's fast paths must behave exactly like the general
//! paths they shortcut: same frames, same errors, same bytes, on any input.
//! A decoded payload shares the read buffer's memory (or takes the buffer
//! itself, when it is all the buffer has room for).

use super::Codec;
use crate::frame::Frame;
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

/// The default codec with its fast paths switched off.
fn general(limit: usize) -> Codec {
    Codec {
        default_layout: false,
        ..Codec::default()
            .max_decode_frame(limit)
            .max_encode_frame(limit)
    }
}

fn fast(limit: usize) -> Codec {
    Codec::default()
        .max_decode_frame(limit)
        .max_encode_frame(limit)
}

/// Every decode result until the first error or the end, as text.
fn decode_trace(mut codec: Codec, input: &[u8], chunk: usize) -> Vec<String> {
    let mut buf = BytesMut::new();
    let mut trace = Vec::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let result = codec.decode(&mut buf);
            trace.push(format!("{result:?} {}", buf.len()));
            match result {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return trace,
            }
        }
    }
    trace.push(format!("{:?}", codec.decode_eof(&mut buf)));
    trace
}

/// Bytes that look like default-layout headers more often than random ones do.
fn near_valid_stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = (
        any::<u16>(),
        prop_oneof![
            Just(0u16),
            Just(1),
            Just(2),
            Just(3),
            (0u32..16).prop_map(|bit| 1u16 << bit),
            any::<u16>()
        ],
        prop_oneof![0u32..80, any::<u32>()],
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(ty, flags, len, rest)| {
            let mut bytes = Vec::new();
            bytes.extend_from_slice(&ty.to_be_bytes());
            bytes.extend_from_slice(&flags.to_be_bytes());
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend(rest);
            bytes
        });
    proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn fast_and_general_decoding_agree(
        input in prop_oneof![near_valid_stream(), proptest::collection::vec(any::<u8>(), 0..200)],
        chunk in 1usize..32,
        limit in prop_oneof![Just(64usize), Just(crate::DEFAULT_MAX_FRAME)],
    ) {
        prop_assert_eq!(
            decode_trace(fast(limit), &input, chunk),
            decode_trace(general(limit), &input, chunk)
        );
    }

    #[test]
    fn fast_and_general_encoding_agree(
        ty in prop_oneof![0u32..=0xffff, any::<u32>()],
        id in proptest::option::of(any::<u64>()),
        reply in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
        limit in prop_oneof![Just(50usize), Just(crate::DEFAULT_MAX_FRAME)],
    ) {
        let frame = Frame { ty, id, reply, payload: Bytes::from(payload) };
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        let fast_result = fast(limit).encode(&frame, &mut a).map_err(|e| e.to_string());
        let general_result = general(limit).encode(&frame, &mut b).map_err(|e| e.to_string());
        prop_assert_eq!(fast_result, general_result);
        prop_assert_eq!(a, b);
    }
}

/// One frame, encoded by the default codec.
fn encoded(frame: &Frame) -> BytesMut {
    let mut out = BytesMut::new();
    fast(crate::DEFAULT_MAX_FRAME)
        .encode(frame, &mut out)
        .expect("an encodable frame");
    out
}

#[test]
fn a_frame_that_fills_its_buffer_takes_the_buffer_itself() {
    let frame = Frame::new(2, Bytes::from(vec![7u8; 64])).with_id(9);
    let bytes = encoded(&frame);
    // A buffer made to the size of what one read brought.
    let mut buf = BytesMut::with_capacity(bytes.len());
    buf.extend_from_slice(&bytes);
    assert_eq!(buf.capacity(), buf.len(), "the test's premise");
    let start = buf.as_ptr() as usize;
    let decoded = fast(crate::DEFAULT_MAX_FRAME)
        .decode(&mut buf)
        .expect("a valid frame")
        .expect("a whole frame");
    assert_eq!(decoded, frame);
    assert_eq!(
        decoded.payload.as_ptr() as usize,
        start + bytes.len() - 64,
        "the payload is the buffer's own memory, not a copy"
    );
    assert!(
        decoded.payload.is_unique(),
        "the buffer (still alive) shares nothing with the payload: no \
         reference count was allocated to share it"
    );
    assert!(buf.is_empty());
    assert_eq!(buf.capacity(), 0, "the buffer went with the frame");
}

#[test]
fn a_frame_in_a_buffer_with_room_to_spare_is_split_off_and_the_room_stays() {
    let frame = Frame::new(2, Bytes::from(vec![7u8; 64])).with_id(9);
    let bytes = encoded(&frame);
    let mut buf = BytesMut::with_capacity(8 * 1024);
    buf.extend_from_slice(&bytes);
    buf.extend_from_slice(&bytes[..5]);
    let mut codec = fast(crate::DEFAULT_MAX_FRAME);
    let decoded = codec.decode(&mut buf).expect("a valid frame");
    assert_eq!(decoded, Some(frame.clone()));
    assert_eq!(buf.len(), 5, "the next frame's first bytes stay");
    assert!(buf.capacity() > 8000, "the reader keeps its room");
    // A frame that is all the buffer holds but not all its room is split
    // too: the reader keeps the room for its next read.
    let mut buf = BytesMut::with_capacity(8 * 1024);
    buf.extend_from_slice(&bytes);
    assert_eq!(codec.decode(&mut buf).expect("a valid frame"), Some(frame));
    assert!(buf.is_empty());
    assert!(buf.capacity() > 8000, "the reader keeps its room");
}

#[test]
fn a_large_frame_grows_its_buffer_to_its_own_size_and_no_further() {
    // `BytesMut::reserve` grows a buffer to at least twice its capacity: a
    // 5 MiB frame arriving 64 KiB at a time ended in a buffer of up to
    // twice that (a hostile run's 16 MiB frames took 18 MiB each).
    let frame = Frame::new(2, Bytes::from(vec![3u8; 5 * 1024 * 1024 + 7]));
    let bytes = encoded(&frame);
    let mut codec = fast(crate::DEFAULT_MAX_FRAME);
    let mut buf = BytesMut::new();
    let mut largest = 0;
    let mut decoded = None;
    for chunk in bytes.chunks(64 * 1024) {
        // As the reader does: the decoder first, which makes room, then
        // the bytes of one read.
        assert_eq!(codec.decode(&mut buf).expect("valid so far"), None);
        buf.extend_from_slice(chunk);
        largest = largest.max(buf.capacity());
        if let Some(whole) = codec.decode(&mut buf).expect("a valid frame") {
            decoded = Some(whole);
        }
    }
    assert_eq!(decoded, Some(frame));
    assert!(
        largest <= bytes.len(),
        "the buffer never outgrew the frame: {largest} > {}",
        bytes.len()
    );
}

#[test]
fn room_the_process_cannot_have_is_an_error_of_the_stream_not_an_abort() {
    let mut buf = BytesMut::with_capacity(2 * 1024 * 1024);
    buf.extend_from_slice(&[0u8; 2 * 1024 * 1024]);
    // More than any allocator gives: `try_reserve` refuses it.
    let error =
        super::reserve_within(&mut buf, usize::MAX / 2, usize::MAX).expect_err("no such buffer");
    assert!(
        matches!(error, crate::CodecError::OutOfMemory { .. })
            && error.to_string().contains("out of memory"),
        "{error}"
    );
    assert_eq!(buf.len(), 2 * 1024 * 1024, "the bytes buffered stay");
}
