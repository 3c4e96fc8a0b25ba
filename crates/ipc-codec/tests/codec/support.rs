//! Helpers shared by the test modules: proptest strategies for layouts and
//! frames that fit them, and encode/decode shorthands.

use bytes::{Bytes, BytesMut};
use linesman_ipc_codec::{ByteOrder, Codec, CodecError, Frame, FrameLayout, IdField, Replies};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

/// Every valid layout.
pub(crate) fn any_layout() -> impl Strategy<Value = FrameLayout> {
    (
        prop_oneof![Just(1u8), Just(2), Just(4)],
        prop_oneof![Just(2u8), Just(4)],
        prop_oneof![Just(ByteOrder::Big), Just(ByteOrder::Little)],
        any::<bool>(),
        prop_oneof![
            Just((true, IdField::Flagged, Replies::Marked)),
            Just((true, IdField::Flagged, Replies::ById)),
            Just((true, IdField::Always, Replies::Marked)),
            Just((true, IdField::Always, Replies::ById)),
            Just((true, IdField::Never, Replies::Marked)),
            Just((false, IdField::Always, Replies::ById)),
            Just((false, IdField::Never, Replies::Marked)),
            Just((false, IdField::Never, Replies::ById)),
        ],
    )
        .prop_map(
            |(type_width, length_width, order, includes, (flags, id, replies))| {
                FrameLayout::builder()
                    .type_width(type_width)
                    .length_width(length_width)
                    .byte_order(order)
                    .length_includes_header(includes)
                    .flags(flags)
                    .id(id)
                    .replies(replies)
                    .build()
                    .expect("the strategy only combines valid options")
            },
        )
}

/// A frame that `layout` can carry: its type fits, its id matches the id
/// field, it is marked as a reply only where the layout marks replies, and
/// its payload is short enough for any length field.
pub(crate) fn frame_for(layout: FrameLayout) -> impl Strategy<Value = Frame> {
    let id = match layout.id() {
        IdField::Flagged => proptest::option::of(any::<u64>()).boxed(),
        IdField::Always => any::<u64>().prop_map(Some).boxed(),
        IdField::Never => Just(None).boxed(),
    };
    let reply = if layout.marks_replies() {
        any::<bool>().boxed()
    } else {
        Just(false).boxed()
    };
    (
        0..=layout.max_type(),
        id,
        reply,
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(ty, id, reply, payload)| Frame {
            ty,
            id,
            reply,
            payload: Bytes::from(payload),
        })
}

/// A layout and a few frames it can carry.
pub(crate) fn layout_and_frames() -> impl Strategy<Value = (FrameLayout, Vec<Frame>)> {
    any_layout().prop_flat_map(|layout| {
        (
            Just(layout),
            proptest::collection::vec(frame_for(layout), 0..8),
        )
    })
}

/// The bytes of `frames` encoded back to back.
pub(crate) fn encode_all(codec: &mut Codec, frames: &[Frame]) -> BytesMut {
    let mut wire = BytesMut::new();
    for frame in frames {
        codec
            .encode(frame, &mut wire)
            .expect("the frame fits the layout");
    }
    wire
}

/// Decodes every frame of a complete buffer, then checks the end of stream.
pub(crate) fn decode_all(codec: &mut Codec, wire: &mut BytesMut) -> Result<Vec<Frame>, CodecError> {
    let mut frames = Vec::new();
    while let Some(frame) = codec.decode(wire)? {
        frames.push(frame);
    }
    if let Some(frame) = codec.decode_eof(wire)? {
        frames.push(frame);
    }
    Ok(frames)
}

/// The frames the split tests feed: no id, with id, a reply, empty payload.
pub(crate) fn sample_frames() -> Vec<Frame> {
    let request = Frame::request(0x0102, 0x0102_0304_0506_0708, "with an id");
    vec![
        Frame::new(1, "hello"),
        request.reply(0x0103, "a reply"),
        request,
        Frame::new(0xffff, Bytes::new()),
        Frame::new(3, vec![0xa5; 40]),
    ]
}
