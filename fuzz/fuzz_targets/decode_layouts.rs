//! Arbitrary bytes through a codec whose layout the first two input bytes
//! choose (type width, length width, byte order, length counting the header,
//! flags field, id field, reply marks), with the same checks as `decode_default`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use linesman_fuzz::{LIMIT, check};
use linesman_ipc_codec::{ByteOrder, Codec, FrameLayout, IdField, Replies};

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else { return };
    let layout = FrameLayout::builder()
        .type_width([1, 2, 4][usize::from(a & 3) % 3])
        .length_width(if a & 4 == 0 { 2 } else { 4 })
        .byte_order(if a & 8 == 0 {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        })
        .length_includes_header(a & 16 != 0)
        .flags(a & 32 != 0)
        .id([IdField::Flagged, IdField::Always, IdField::Never][usize::from(b % 3)])
        .replies(if a & 64 == 0 {
            Replies::Marked
        } else {
            Replies::ById
        })
        .build();
    // Contradictory layouts are refused by `build`; nothing to decode then.
    let Ok(layout) = layout else { return };
    let chunk = usize::from(b / 3 % 32) + 1;
    check(&Codec::new(layout).max_decode_frame(LIMIT), rest, chunk);
});
