//! What every fuzz target checks, whatever the layout: decoding arbitrary
//! bytes never panics, never grows the buffer past what the limit or the
//! input justify, ends in a frame boundary or a typed error, and every frame
//! it yields re-encodes to exactly the bytes it was decoded from.

use bytes::BytesMut;
use linesman_ipc_codec::{Codec, Frame};
use tokio_util::codec::{Decoder, Encoder};

/// Decode limit used by the targets: small, so oversized lengths are common.
pub const LIMIT: usize = 64 * 1024;

/// Decodes `data` whole, then fed in `chunk`-byte pieces, and checks both.
pub fn check(codec: &Codec, data: &[u8], chunk: usize) {
    let whole = decode_checked(codec, data, data.len().max(1));
    let pieces = decode_checked(codec, data, chunk.max(1));
    assert_eq!(whole, pieces, "splitting the input changed the frames");
}

/// Decodes `data` fed `chunk` bytes at a time, then at end of input; returns
/// the frames, after checking each one and the buffer's capacity.
fn decode_checked(codec: &Codec, data: &[u8], chunk: usize) -> Vec<Frame> {
    let mut codec = codec.clone();
    let bound = 2 * (data.len() + codec.layout().max_header_len() + codec.decode_limit());
    let mut buf = BytesMut::new();
    let mut consumed = 0;
    let mut frames = Vec::new();
    let mut pieces = data.chunks(chunk).peekable();
    loop {
        let at_eof = pieces.peek().is_none();
        if let Some(piece) = pieces.next() {
            buf.extend_from_slice(piece);
        }
        loop {
            let before = buf.len();
            let result = if at_eof {
                codec.decode_eof(&mut buf)
            } else {
                codec.decode(&mut buf)
            };
            assert!(buf.capacity() <= bound, "buffer grew to {}", buf.capacity());
            match result {
                Ok(Some(frame)) => {
                    let used = before - buf.len();
                    let mut again = BytesMut::new();
                    codec
                        .encode(&frame, &mut again)
                        .expect("a decoded frame re-encodes");
                    assert_eq!(
                        &again[..],
                        &data[consumed..consumed + used],
                        "re-encoding differs"
                    );
                    consumed += used;
                    frames.push(frame);
                }
                Ok(None) if at_eof => {
                    assert!(buf.is_empty(), "clean end with bytes left");
                    return frames;
                }
                Ok(None) => break,
                Err(_) => return frames,
            }
        }
    }
}
