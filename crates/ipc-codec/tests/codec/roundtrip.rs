//! Round trips: whatever the layout, decoding what was encoded gives back the
//! same frames, and nothing else is left in the buffer.

use crate::support::{decode_all, encode_all, layout_and_frames};
use bytes::BytesMut;
use linesman_ipc_codec::{
    ByteOrder, Codec, CodecError, FLAG_ID, FLAG_REPLY, Frame, FrameLayout, IdField, LayoutError,
    Replies,
};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

proptest! {
    #[test]
    fn any_layout_round_trips_any_frames((layout, frames) in layout_and_frames()) {
        let mut codec = Codec::new(layout);
        let mut wire = encode_all(&mut codec, &frames);
        let expected_len: usize = frames
            .iter()
            .map(|f| layout.header_len(f.id.is_some()) + f.payload.len())
            .sum();
        prop_assert_eq!(wire.len(), expected_len);
        let decoded = decode_all(&mut codec, &mut wire).expect("encoded bytes decode");
        prop_assert_eq!(decoded, frames);
        prop_assert!(wire.is_empty());
    }

    #[test]
    fn owned_and_borrowed_encoding_write_the_same_bytes((layout, frames) in layout_and_frames()) {
        let mut codec = Codec::new(layout);
        let borrowed = encode_all(&mut codec, &frames);
        let mut owned = BytesMut::new();
        for frame in frames {
            codec.encode(frame, &mut owned).expect("the frame fits the layout");
        }
        prop_assert_eq!(borrowed, owned);
    }
}

#[test]
fn little_endian_layout_writes_little_endian() {
    let layout = FrameLayout::builder()
        .type_width(4)
        .length_width(2)
        .byte_order(ByteOrder::Little)
        .flags(false)
        .id(IdField::Always)
        .replies(Replies::ById)
        .build()
        .expect("valid layout");
    let mut wire = BytesMut::new();
    Codec::new(layout)
        .encode(
            Frame::request(0x0403_0201, 0x0807_0605_0403_0201, "x"),
            &mut wire,
        )
        .expect("fits");
    assert_eq!(&wire[..], [1, 2, 3, 4, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, b'x']);
}

#[test]
fn length_including_header_counts_the_id_too() {
    let layout = FrameLayout::builder()
        .length_includes_header(true)
        .build()
        .expect("valid layout");
    let mut codec = Codec::new(layout);
    let mut wire = BytesMut::new();
    codec
        .encode(Frame::request(1, 9, "abc"), &mut wire)
        .expect("fits");
    assert_eq!(&wire[4..8], [0, 0, 0, 16 + 3]);
    assert_eq!(
        codec.decode(&mut wire).expect("valid"),
        Some(Frame::request(1, 9, "abc"))
    );
}

#[test]
fn two_byte_length_carries_exactly_its_maximum() {
    let layout = FrameLayout::builder()
        .length_width(2)
        .length_includes_header(true)
        .build()
        .expect("valid layout");
    let mut codec = Codec::new(layout);
    let header = layout.header_len(false);
    assert_eq!(header, 6, "u16 type, u16 flags, u16 length");
    let largest = Frame::new(1, vec![7u8; 65_535 - header]);
    let mut wire = encode_all(&mut codec, std::slice::from_ref(&largest));
    assert_eq!(decode_all(&mut codec, &mut wire).expect("valid"), [largest]);

    let mut dst = BytesMut::new();
    let err = codec
        .encode(Frame::new(1, vec![7u8; 65_535 - header + 1]), &mut dst)
        .expect_err("one byte too many for a 2-byte length");
    assert!(
        matches!(
            err,
            CodecError::LengthTooWide {
                length: 65_536,
                width: 2
            }
        ),
        "{err}"
    );
    assert!(dst.is_empty(), "a refused frame writes nothing");
}

#[test]
fn invalid_layouts_are_refused_when_built() {
    assert_eq!(
        FrameLayout::builder().type_width(0).build(),
        Err(LayoutError::TypeWidth { width: 0 })
    );
    assert_eq!(
        FrameLayout::builder().length_width(1).build(),
        Err(LayoutError::LengthWidth { width: 1 })
    );
    assert_eq!(
        FrameLayout::builder().length_width(8).build(),
        Err(LayoutError::LengthWidth { width: 8 })
    );
    let err = FrameLayout::builder()
        .flags(false)
        .id(IdField::Flagged)
        .build()
        .expect_err("flagged id without flags field");
    assert_eq!(err, LayoutError::FlaggedIdWithoutFlags);
    assert!(err.to_string().contains("flags(true)"), "{err}");
    let err = FrameLayout::builder()
        .flags(false)
        .id(IdField::Always)
        .build()
        .expect_err("marked replies without flags field");
    assert_eq!(err, LayoutError::MarkedRepliesWithoutFlags);
    assert!(err.to_string().contains("Replies::ById"), "{err}");
}

#[test]
fn default_layout_is_the_design_format() {
    let layout = FrameLayout::default();
    assert_eq!(
        layout,
        FrameLayout::builder().build().expect("default is valid")
    );
    assert_eq!(
        (
            layout.type_width(),
            layout.length_width(),
            layout.byte_order()
        ),
        (2, 4, ByteOrder::Big)
    );
    assert!(layout.has_flags() && !layout.length_includes_header());
    assert_eq!(layout.id(), IdField::Flagged);
    assert_eq!(layout.replies(), Replies::Marked);
    assert_eq!(layout.known_flags(), FLAG_ID | FLAG_REPLY);
    assert_eq!((layout.header_len(false), layout.header_len(true)), (8, 16));
    assert_eq!(Codec::default().layout(), layout);
}
