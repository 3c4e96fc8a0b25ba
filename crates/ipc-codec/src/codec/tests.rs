//! The default layout's fast paths must behave exactly like the general
//! paths they shortcut: same frames, same errors, same bytes, on any input.

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
