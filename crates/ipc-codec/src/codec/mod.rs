//! [`Codec`]: the tokio-util `Decoder`/`Encoder` that cuts a byte stream into
//! [`Frame`]s according to a [`FrameLayout`], and writes frames back.
//!
//! Why it is shaped this way: the decoder is stateless between calls. Each
//! call re-reads the (at most 24-byte) header from the front of the buffer,
//! validates it *before* anything is reserved, and only then reserves room
//! for more of the frame, in steps (64 KiB, or as much as is already
//! buffered) — so the buffer grows with the bytes that arrive, never past
//! the frame's own size (`header + length`, at most `header +
//! max_decode_frame`) whatever a peer claims, and a partial frame costs
//! nothing to resume. A large step is allocated fallibly: a buffer the
//! process cannot get is [`CodecError::OutOfMemory`] for this stream, not
//! an abort of the process with every other connection in it. A
//! complete frame is split off the buffer (`split_to(..).freeze()`), so its
//! payload shares the read buffer's memory: no copy. A frame that fills the
//! buffer to its capacity takes the buffer itself, without the allocation
//! a split makes to share it.

mod decode;
mod encode;
#[cfg(test)]
mod tests;

use crate::error::CodecError;
use crate::frame::Frame;
use crate::layout::FrameLayout;
use bytes::{Buf, Bytes, BytesMut};
use decode::Head;
use tokio_util::codec::{Decoder, Encoder};

/// Default decode and encode limit on a frame's payload: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// The most a decode reserves for the rest of a frame beyond the bytes
/// already buffered (unless more than this is buffered: then as much as
/// that). What one read can bring, not what the header claims.
const RESERVE_STEP: usize = 64 * 1024;

/// Room up to this capacity is reserved the plain way (an allocation
/// failure there aborts, as everywhere in Rust); past it, fallibly and
/// never past the frame's end.
const FALLIBLE_FROM: usize = 1024 * 1024;

/// Frames a byte stream with a [`FrameLayout`]; use it with
/// `tokio_util::codec::Framed`, `FramedRead` or `FramedWrite`.
///
/// The limits bound the payload length (the bytes after the header), for
/// decoding and encoding separately; both default to [`DEFAULT_MAX_FRAME`]
/// (16 MiB). The decoder reserves room for a frame in steps as its bytes
/// arrive (64 KiB, or as much as is buffered, at a time), never more than
/// `header + max_decode_frame` bytes of buffer, and nothing for a header it
/// has refused.
///
/// ```
/// use bytes::BytesMut;
/// use linesman_ipc_codec::{Codec, CodecError, Frame};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = Codec::default().max_decode_frame(1024);
/// assert_eq!(codec.decode_limit(), 1024);
/// // Type 1, no flags, a claimed payload of 1 GiB:
/// let mut hostile = BytesMut::from(&[0, 1, 0, 0, 0x40, 0, 0, 0][..]);
/// let err = codec.decode(&mut hostile).unwrap_err();
/// assert!(matches!(err, CodecError::FrameTooLarge { length: 1_073_741_824, max: 1024 }));
/// assert_eq!(err.to_string(), "frame length 1073741824 exceeds max_frame 1024");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    layout: FrameLayout,
    max_decode: usize,
    max_encode: usize,
    /// `layout.fixed_header_len()`, computed once.
    fixed_len: usize,
    /// Whether `layout` is the default one, which has a decoding fast path.
    default_layout: bool,
}

impl Default for Codec {
    fn default() -> Self {
        Self::new(FrameLayout::default())
    }
}

impl Codec {
    /// A codec for `layout`, with both limits at [`DEFAULT_MAX_FRAME`].
    pub fn new(layout: FrameLayout) -> Self {
        Self {
            layout,
            max_decode: DEFAULT_MAX_FRAME,
            max_encode: DEFAULT_MAX_FRAME,
            fixed_len: layout.fixed_header_len(),
            default_layout: layout == FrameLayout::default(),
        }
    }

    /// Largest payload accepted when decoding, in bytes. Default: 16 MiB
    /// (16 777 216). A longer announced length is
    /// [`CodecError::FrameTooLarge`].
    ///
    /// ```
    /// use linesman_ipc_codec::Codec;
    /// assert_eq!(Codec::default().decode_limit(), 16_777_216);
    /// assert_eq!(Codec::default().max_decode_frame(4096).decode_limit(), 4096);
    /// ```
    #[must_use]
    pub fn max_decode_frame(mut self, max: usize) -> Self {
        self.max_decode = max;
        self
    }

    /// Largest payload accepted when encoding, in bytes. Default: 16 MiB
    /// (16 777 216). A longer payload is [`CodecError::EncodeTooLarge`].
    ///
    /// ```
    /// use linesman_ipc_codec::Codec;
    /// assert_eq!(Codec::default().encode_limit(), 16_777_216);
    /// assert_eq!(Codec::default().max_encode_frame(4096).encode_limit(), 4096);
    /// ```
    #[must_use]
    pub fn max_encode_frame(mut self, max: usize) -> Self {
        self.max_encode = max;
        self
    }

    /// The decode limit, in payload bytes.
    pub fn decode_limit(&self) -> usize {
        self.max_decode
    }

    /// The encode limit, in payload bytes.
    pub fn encode_limit(&self) -> usize {
        self.max_encode
    }

    /// The layout this codec speaks.
    pub fn layout(&self) -> FrameLayout {
        self.layout
    }
}

/// Makes room in `src` for `additional` more bytes of a frame `frame`
/// bytes long. Small buffers grow as `BytesMut::reserve` grows them; past
/// [`FALLIBLE_FROM`] the capacity doubles at most, never beyond `frame`
/// (`reserve` would make a 16 MiB frame's buffer up to 32 MiB), and the
/// allocation is fallible.
fn reserve_within(src: &mut BytesMut, additional: usize, frame: usize) -> Result<(), CodecError> {
    let wanted = src.len() + additional;
    if src.capacity() >= wanted {
        return Ok(());
    }
    let target = (src.capacity() * 2).max(wanted).min(frame.max(wanted));
    if target <= FALLIBLE_FROM {
        src.reserve(additional);
        return Ok(());
    }
    let out_of_memory = || CodecError::OutOfMemory {
        wanted: target,
        frame,
    };
    let mut grown: Vec<u8> = Vec::new();
    grown
        .try_reserve_exact(target)
        .map_err(|_| out_of_memory())?;
    grown.extend_from_slice(src);
    // A Vec with room left becomes a unique `Bytes`, which becomes a
    // `BytesMut` without a copy, its capacity kept.
    *src = BytesMut::from(Bytes::from(grown));
    Ok(())
}

impl Decoder for Codec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        let head = if self.default_layout {
            self.parse_default_head(src)?
        } else {
            self.parse_head(src)?
        };
        match head {
            Head::Need(needed) => {
                // `needed` is a validated header plus at most `max_decode`
                // payload bytes; of what is missing, reserve one step: at
                // most RESERVE_STEP, or as much as is already buffered, so
                // room grows with the bytes that came (geometrically: a
                // large frame costs a bounded number of copies) and a peer
                // that claims 16 MiB and sends nothing gets 64 KiB.
                let missing = needed.saturating_sub(src.len());
                reserve_within(src, missing.min(RESERVE_STEP.max(src.len())), needed)?;
                Ok(None)
            }
            Head::Ready {
                ty,
                id,
                reply,
                header_len,
                payload_len,
            } => {
                src.advance(header_len);
                let payload = if payload_len == src.len() && src.capacity() == payload_len {
                    // The frame is all the buffer holds and all it has room
                    // for (a buffer made to the size of what one read
                    // brought, as a reply's often is): the buffer becomes
                    // the payload. A split would first allocate the
                    // reference count that shares the buffer, for a buffer
                    // that nothing else would use.
                    std::mem::take(src).freeze()
                } else {
                    src.split_to(payload_len).freeze()
                };
                Ok(Some(Frame {
                    ty,
                    id,
                    reply,
                    payload,
                }))
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let expected = match self.parse_head(buf)? {
            Head::Need(needed) => needed,
            Head::Ready { .. } => buf.len(),
        };
        Err(CodecError::Truncated {
            buffered: buf.len(),
            expected,
        })
    }
}

impl Encoder<&Frame> for Codec {
    type Error = CodecError;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode_parts(frame.ty, frame.id, frame.reply, &frame.payload, dst)
    }
}

impl Encoder<Frame> for Codec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode_parts(frame.ty, frame.id, frame.reply, &frame.payload, dst)
    }
}
