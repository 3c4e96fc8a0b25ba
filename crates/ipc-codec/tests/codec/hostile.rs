//! Hostile input: every malformed stream is a typed error naming the values,
//! never a panic, and never a buffer grown past what the limit or the bytes
//! received justify.

use crate::support::any_layout;
use bytes::BytesMut;
use linesman_ipc_codec::{Codec, CodecError, Frame, FrameLayout, IdField};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

/// A buffer holding `bytes` whose capacity is exactly known.
fn buffer(bytes: &[u8]) -> BytesMut {
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(bytes);
    buf
}

#[test]
fn length_over_the_limit_is_refused_without_reserving_it() {
    let mut buf = buffer(&[0, 1, 0, 0, 0x40, 0, 0, 0]);
    let capacity = buf.capacity();
    let err = Codec::default()
        .decode(&mut buf)
        .expect_err("1 GiB is over 16 MiB");
    assert!(
        matches!(
            err,
            CodecError::FrameTooLarge {
                length: 1_073_741_824,
                max: 16_777_216
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "frame length 1073741824 exceeds max_frame 16777216"
    );
    assert_eq!(
        buf.capacity(),
        capacity,
        "nothing reserved for a refused frame"
    );
}

#[test]
fn length_just_over_a_custom_limit_is_refused_and_at_it_accepted() {
    let mut codec = Codec::default().max_decode_frame(100);
    let mut over = buffer(&[0, 1, 0, 0, 0, 0, 0, 101]);
    assert!(matches!(
        codec.decode(&mut over),
        Err(CodecError::FrameTooLarge {
            length: 101,
            max: 100
        })
    ));
    let mut at = buffer(&[0, 1, 0, 0, 0, 0, 0, 100]);
    assert_eq!(codec.decode(&mut at).expect("within limit"), None);
    assert!(
        at.capacity() >= 108,
        "the rest of an accepted frame is reserved"
    );
}

#[test]
fn a_header_claiming_16_mib_followed_by_nothing_reserves_a_step_not_the_frame() {
    // 16 MiB announced (the default limit), then the peer sends nothing more:
    // the buffer grows by one read's worth, not by the claim.
    let mut buf = buffer(&[0, 1, 0, 0, 0x01, 0, 0, 0]);
    assert_eq!(
        Codec::default().decode(&mut buf).expect("valid header"),
        None
    );
    assert!(
        buf.capacity() <= 2 * RESERVE_STEP,
        "capacity {} for 8 bytes received",
        buf.capacity()
    );
    assert!(buf.capacity() - buf.len() >= 1024, "room for the next read");
}

/// What one decode may reserve past the bytes held (the codec's step).
const RESERVE_STEP: usize = 64 * 1024;

#[test]
fn the_reservation_grows_with_the_bytes_that_arrive_and_decoding_stays_exact() {
    let payload: Vec<u8> = (0..(1 << 20) + 13).map(|i| (i % 251) as u8).collect();
    let frame = Frame::new(9, payload);
    let mut codec = Codec::default();
    let mut wire = BytesMut::new();
    codec.encode(&frame, &mut wire).expect("encodable");
    // A reader fills only the room the decoder left (as `read_buf` does),
    // so the capacity seen is the decoder's doing.
    let mut buf = BytesMut::new();
    let mut rest = &wire[..];
    let mut got = None;
    while got.is_none() {
        let room = (buf.capacity() - buf.len()).max(8);
        let (piece, after) = rest.split_at(room.min(rest.len()));
        assert!(!piece.is_empty(), "the decoder left no room to read into");
        buf.extend_from_slice(piece);
        rest = after;
        got = codec.decode(&mut buf).expect("valid frame");
        // Never more than about twice what arrived, plus one step.
        assert!(
            buf.capacity() <= 2 * buf.len() + 2 * RESERVE_STEP,
            "capacity {} for {} bytes received",
            buf.capacity(),
            buf.len()
        );
    }
    assert_eq!(got, Some(frame));
    assert!(buf.is_empty());
}

#[test]
fn unknown_flag_bits_are_named() {
    let mut buf = buffer(&[0, 1, 0x80, 0x07, 0, 0, 0, 0]);
    let err = Codec::default()
        .decode(&mut buf)
        .expect_err("bits 2 and 15 are unknown");
    assert!(
        matches!(
            err,
            CodecError::UnknownFlags {
                flags: 0x8007,
                unknown: 0x8004
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("0x8004"), "{err}");
}

#[test]
fn every_flag_bit_but_the_id_and_reply_bits_is_refused_alone_and_with_them() {
    for bit in 2..16 {
        let unknown = 1u16 << bit;
        for flags in [unknown, unknown | 1, unknown | 2, unknown | 3] {
            let [hi, lo] = flags.to_be_bytes();
            let mut buf = buffer(&[0, 1, hi, lo, 0, 0, 0, 0]);
            let result = Codec::default().decode(&mut buf);
            assert!(
                matches!(result, Err(CodecError::UnknownFlags { flags: f, unknown: u }) if f == flags && u == unknown),
                "flags {flags:#06x}: {result:?}"
            );
        }
    }
}

#[test]
fn id_bit_is_unknown_when_the_layout_has_no_flagged_id() {
    let layout = FrameLayout::builder()
        .id(IdField::Never)
        .build()
        .expect("valid");
    let mut buf = buffer(&[0, 1, 0, 1, 0, 0, 0, 0]);
    assert!(matches!(
        Codec::new(layout).decode(&mut buf),
        Err(CodecError::UnknownFlags {
            flags: 1,
            unknown: 1
        })
    ));
}

#[test]
fn stream_ending_inside_the_header_is_truncated() {
    let mut buf = buffer(&[0, 1, 0]);
    let mut codec = Codec::default();
    assert_eq!(codec.decode(&mut buf).expect("incomplete, not wrong"), None);
    let err = codec
        .decode_eof(&mut buf)
        .expect_err("ends inside the header");
    assert!(
        matches!(
            err,
            CodecError::Truncated {
                buffered: 3,
                expected: 8
            }
        ),
        "{err:?}"
    );
}

#[test]
fn stream_ending_inside_the_id_is_truncated() {
    let mut buf = buffer(&[0, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
    let err = Codec::default()
        .decode_eof(&mut buf)
        .expect_err("ends inside the id");
    assert!(
        matches!(
            err,
            CodecError::Truncated {
                buffered: 11,
                expected: 18
            }
        ),
        "{err:?}"
    );
}

#[test]
fn stream_ending_inside_the_payload_is_truncated() {
    let mut buf = buffer(&[0, 1, 0, 0, 0, 0, 0, 10, b'a', b'b', b'c', b'd']);
    let err = Codec::default()
        .decode_eof(&mut buf)
        .expect_err("ends inside the payload");
    assert!(
        matches!(
            err,
            CodecError::Truncated {
                buffered: 12,
                expected: 18
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "stream ended inside a frame: 12 bytes buffered of at least 18; the peer closed mid-frame"
    );
}

#[test]
fn stream_ending_between_frames_is_a_clean_end() {
    let mut buf = buffer(&[0, 1, 0, 0, 0, 0, 0, 1, b'z']);
    let mut codec = Codec::default();
    assert_eq!(
        codec.decode_eof(&mut buf).expect("whole frame"),
        Some(Frame::new(1, "z"))
    );
    assert_eq!(codec.decode_eof(&mut buf).expect("empty at eof"), None);
}

#[test]
fn length_counting_the_header_cannot_be_shorter_than_it() {
    let layout = FrameLayout::builder()
        .length_includes_header(true)
        .build()
        .expect("valid");
    let mut buf = buffer(&[0, 1, 0, 1, 0, 0, 0, 12]);
    let err = Codec::new(layout)
        .decode(&mut buf)
        .expect_err("12 < 16-byte header with id");
    assert!(
        matches!(
            err,
            CodecError::LengthBelowHeader {
                length: 12,
                header_len: 16
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("12") && err.to_string().contains("16-byte header"));
}

#[test]
fn encoding_over_the_limit_is_refused_as_the_encode_limit() {
    let mut dst = BytesMut::new();
    let err = Codec::default()
        .max_encode_frame(4)
        .encode(Frame::new(1, "12345"), &mut dst)
        .expect_err("5 bytes over a 4-byte limit");
    assert!(
        matches!(err, CodecError::EncodeTooLarge { length: 5, max: 4 }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("frame length 5 exceeds the encode limit max_encode_frame 4")
    );
    assert!(dst.is_empty());
}

#[test]
fn type_too_wide_for_the_layout_is_refused() {
    let mut dst = BytesMut::new();
    let err = Codec::default()
        .encode(Frame::new(70_000, "x"), &mut dst)
        .expect_err("70000 > u16::MAX");
    assert!(
        matches!(
            err,
            CodecError::TypeTooWide {
                ty: 70_000,
                width: 2
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("type 70000 does not fit a 2-byte type field")
    );
    assert!(dst.is_empty());
}

#[test]
fn ids_that_the_layout_cannot_carry_are_refused() {
    let always = FrameLayout::builder()
        .id(IdField::Always)
        .build()
        .expect("valid");
    let never = FrameLayout::builder()
        .id(IdField::Never)
        .build()
        .expect("valid");
    let mut dst = BytesMut::new();
    assert!(matches!(
        Codec::new(always).encode(Frame::new(3, "x"), &mut dst),
        Err(CodecError::MissingId { ty: 3 })
    ));
    assert!(matches!(
        Codec::new(never).encode(Frame::request(3, 5, "x"), &mut dst),
        Err(CodecError::IdNotSupported { ty: 3, id: 5 })
    ));
    assert!(dst.is_empty());
}

#[test]
fn payload_over_a_two_byte_length_is_refused() {
    let layout = FrameLayout::builder()
        .length_width(2)
        .build()
        .expect("valid");
    let mut dst = BytesMut::new();
    let err = Codec::new(layout)
        .encode(Frame::new(1, vec![0u8; 70_000]), &mut dst)
        .expect_err("70000 > u16::MAX");
    assert!(
        matches!(
            err,
            CodecError::LengthTooWide {
                length: 70_000,
                width: 2
            }
        ),
        "{err:?}"
    );
}

const LIMIT: usize = 1024;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_nor_grow_the_buffer_unboundedly(
        layout in any_layout(),
        input in proptest::collection::vec(any::<u8>(), 0..2048),
        chunk in 1usize..64,
    ) {
        let mut codec = Codec::new(layout).max_decode_frame(LIMIT);
        let mut buf = BytesMut::new();
        // Vec-style growth may double a reservation; past that, the buffer is
        // bounded by one frame under the limit plus the bytes received.
        let bound = 2 * (layout.max_header_len() + LIMIT) + input.len();
        let mut failed = false;
        for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(frame)) => prop_assert!(frame.payload.len() <= LIMIT),
                    Ok(None) => break,
                    Err(_) => { failed = true; break; }
                }
            }
            prop_assert!(buf.capacity() <= bound, "capacity {} > {}", buf.capacity(), bound);
            if failed { break; }
        }
        if !failed {
            // At the end: a clean end exactly when nothing is left over,
            // otherwise a truncation that names what was buffered.
            match codec.decode_eof(&mut buf) {
                Ok(None) => prop_assert!(buf.is_empty()),
                Ok(Some(_)) => prop_assert!(false, "decode already drained every whole frame"),
                Err(CodecError::Truncated { buffered, expected }) => {
                    prop_assert_eq!(buffered, buf.len());
                    prop_assert!(buffered > 0 && expected > buffered);
                }
                Err(other) => prop_assert!(false, "unexpected error at eof: {other}"),
            }
        }
    }
}
