//! The reply mark (flags bit 1): written by `Frame::reply`, read back, kept
//! apart from the id; left out by layouts that match replies by id, which
//! refuse the bit like any unknown one.

use crate::support::decode_all;
use bytes::BytesMut;
use linesman_ipc_codec::{Codec, CodecError, Frame, FrameLayout, IdField, Replies};
use tokio_util::codec::{Decoder, Encoder};

fn encode(layout: FrameLayout, frame: &Frame) -> BytesMut {
    let mut wire = BytesMut::new();
    Codec::new(layout)
        .encode(frame, &mut wire)
        .expect("the frame fits");
    wire
}

fn by_id() -> FrameLayout {
    FrameLayout::builder()
        .replies(Replies::ById)
        .build()
        .expect("valid layout")
}

#[test]
fn a_reply_keeps_the_id_and_carries_the_mark_both_ways() {
    let request = Frame::request(0x0102, 7, "ping");
    let reply = request.reply(0x0103, "pong");
    assert_eq!((reply.id, reply.reply), (Some(7), true));
    assert!(!request.reply, "a request is not a reply");
    let wire = encode(FrameLayout::default(), &reply);
    assert_eq!(&wire[..8], [0x01, 0x03, 0x00, 0x03, 0, 0, 0, 4]);
    let decoded = decode_all(&mut Codec::default(), &mut wire.clone()).expect("decodes");
    assert_eq!(decoded, [reply]);
    // The mark is part of the frame's identity: the request with the same
    // id, type and payload is another frame.
    assert_ne!(decoded[0], Frame::request(0x0103, 7, "pong"));
}

#[test]
fn a_mark_without_an_id_round_trips_where_the_layout_has_flags() {
    let layout = FrameLayout::builder()
        .id(IdField::Never)
        .build()
        .expect("valid layout");
    let frame = Frame::new(5, "x").with_reply(true);
    let wire = encode(layout, &frame);
    assert_eq!(&wire[..], [0, 5, 0, 2, 0, 0, 0, 1, b'x']);
    let decoded = decode_all(&mut Codec::new(layout), &mut wire.clone()).expect("decodes");
    assert_eq!(decoded, [frame]);
}

#[test]
fn a_by_id_layout_leaves_the_mark_out_and_refuses_the_bit() {
    let layout = by_id();
    assert_eq!(layout.known_flags(), 0x0001);
    let reply = Frame::request(1, 9, "q").reply(2, "a");
    let wire = encode(layout, &reply);
    assert_eq!(&wire[..4], [0, 2, 0, 1], "flags: the id bit only");
    let decoded = decode_all(&mut Codec::new(layout), &mut wire.clone()).expect("decodes");
    assert_eq!(decoded, [Frame::request(2, 9, "a")], "no mark comes back");
    let mut marked = BytesMut::from(&[0, 1, 0, 2, 0, 0, 0, 0][..]);
    let err = Codec::new(layout)
        .decode(&mut marked)
        .expect_err("bit 1 means nothing here");
    assert!(
        matches!(
            err,
            CodecError::UnknownFlags {
                flags: 2,
                unknown: 2
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_layout_without_flags_matches_by_id_only_when_told() {
    let layout = FrameLayout::builder()
        .flags(false)
        .id(IdField::Always)
        .replies(Replies::ById)
        .build()
        .expect("valid layout");
    assert!(!layout.marks_replies());
    let wire = encode(layout, &Frame::request(1, 3, "q").reply(1, "a"));
    assert_eq!(wire.len(), 2 + 4 + 8 + 1, "no flags field, so no mark");
    // Without ids there is nothing to match: the default is accepted.
    let no_ids = FrameLayout::builder()
        .flags(false)
        .id(IdField::Never)
        .build();
    assert!(no_ids.is_ok(), "{no_ids:?}");
}
