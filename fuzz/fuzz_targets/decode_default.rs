//! Arbitrary bytes through the default layout's codec (decode, then
//! decode_eof), whole and in pieces: no panic, bounded buffer, and every
//! decoded frame re-encodes to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use linesman_fuzz::{LIMIT, check};
use linesman_ipc_codec::Codec;

fuzz_target!(|data: &[u8]| {
    let chunk = data.first().map_or(1, |&b| usize::from(b % 32) + 1);
    check(&Codec::default().max_decode_frame(LIMIT), data, chunk);
});
