//! [`Codec`]: the tokio-util `Decoder`/`Encoder` that cuts a byte stream into
//! [`Frame`]s according to a [`FrameLayout`], and writes frames back.
//!
//! Why it is shaped this way: the decoder is stateless between calls. Each
//! call re-reads the (at most 24-byte) header from the front of the buffer,
//! validates it *before* anything is reserved, and only then reserves the rest
//! of the frame — so the buffer never grows past `header + max_decode_frame`
//! whatever a peer claims, and a partial frame costs nothing to resume. A
//! complete frame is split off the buffer (`split_to(..).freeze()`), so its
//! payload shares the read buffer's memory: no copy.

use crate::error::CodecError;
use crate::frame::Frame;
use crate::layout::{ByteOrder, FLAG_ID, FrameLayout, ID_LEN, IdField};
use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Default decode and encode limit on a frame's payload: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// Largest header any layout produces: 4-byte type, flags, 4-byte length, id.
const MAX_HEADER_LEN: usize = 4 + 2 + 4 + ID_LEN;

/// Frames a byte stream with a [`FrameLayout`]; use it with
/// `tokio_util::codec::Framed`, `FramedRead` or `FramedWrite`.
///
/// The limits bound the payload length (the bytes after the header), for
/// decoding and encoding separately; both default to [`DEFAULT_MAX_FRAME`]
/// (16 MiB). The decoder never reserves more than `header + max_decode_frame`
/// bytes of buffer, and reserves nothing for a header it has refused.
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
}

impl Default for Codec {
    fn default() -> Self {
        Self::new(FrameLayout::default())
    }
}

/// What the front of the read buffer holds.
enum Head {
    /// Not a whole frame yet: the frame needs at least this many bytes.
    Need(usize),
    /// A whole frame of `header_len + payload_len` bytes is buffered.
    Ready {
        ty: u32,
        id: Option<u64>,
        header_len: usize,
        payload_len: usize,
    },
}

impl Codec {
    /// A codec for `layout`, with both limits at [`DEFAULT_MAX_FRAME`].
    pub fn new(layout: FrameLayout) -> Self {
        Self {
            layout,
            max_decode: DEFAULT_MAX_FRAME,
            max_encode: DEFAULT_MAX_FRAME,
            fixed_len: layout.fixed_header_len(),
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

    /// Reads and validates the header at the front of `buf`, if it is there.
    #[inline]
    fn parse_head(&self, buf: &[u8]) -> Result<Head, CodecError> {
        let Some(mut cur) = buf.get(..self.fixed_len) else {
            return Ok(Head::Need(self.fixed_len));
        };
        let layout = &self.layout;
        let order = layout.byte_order();
        // `cur` holds exactly the fixed header, so every read below is in bounds.
        let ty = get_uint(&mut cur, layout.type_width(), order) as u32;
        let has_id = if layout.has_flags() {
            let flags = get_uint(&mut cur, 2, order) as u16;
            let unknown = flags & !layout.known_flags();
            if unknown != 0 {
                return Err(CodecError::UnknownFlags { flags, unknown });
            }
            match layout.id() {
                IdField::Flagged => flags & FLAG_ID != 0,
                IdField::Always => true,
                IdField::Never => false,
            }
        } else {
            layout.id() == IdField::Always
        };
        let length = get_uint(&mut cur, layout.length_width(), order);
        let header_len = if has_id && layout.id() == IdField::Flagged {
            self.fixed_len + ID_LEN
        } else {
            self.fixed_len
        };
        let payload_len = if layout.length_includes_header() {
            length
                .checked_sub(header_len as u64)
                .ok_or(CodecError::LengthBelowHeader { length, header_len })?
        } else {
            length
        };
        if payload_len > self.max_decode as u64 {
            return Err(CodecError::FrameTooLarge {
                length: payload_len,
                max: self.max_decode,
            });
        }
        // Bounded by max_decode (a usize) plus a header of at most 18 bytes.
        let payload_len = payload_len as usize;
        let total = header_len.saturating_add(payload_len);
        if buf.len() < total {
            return Ok(Head::Need(total));
        }
        let id = if has_id {
            let mut id_bytes = &buf[header_len - ID_LEN..header_len];
            Some(get_uint(&mut id_bytes, ID_LEN as u8, order))
        } else {
            None
        };
        Ok(Head::Ready {
            ty,
            id,
            header_len,
            payload_len,
        })
    }

    /// Writes one frame's header and payload to `dst`, or refuses it without
    /// writing anything.
    fn encode_parts(
        &self,
        ty: u32,
        id: Option<u64>,
        payload: &[u8],
        dst: &mut BytesMut,
    ) -> Result<(), CodecError> {
        let layout = &self.layout;
        if payload.len() > self.max_encode {
            return Err(CodecError::EncodeTooLarge {
                length: payload.len(),
                max: self.max_encode,
            });
        }
        if ty > layout.max_type() {
            return Err(CodecError::TypeTooWide {
                ty,
                width: layout.type_width(),
            });
        }
        let (flags, id) = match (layout.id(), id) {
            (IdField::Flagged, Some(id)) => (FLAG_ID, Some(id)),
            (IdField::Flagged, None) | (IdField::Never, None) => (0, None),
            (IdField::Always, Some(id)) => (0, Some(id)),
            (IdField::Always, None) => return Err(CodecError::MissingId { ty }),
            (IdField::Never, Some(id)) => return Err(CodecError::IdNotSupported { ty, id }),
        };
        let header_len = layout.header_len(id.is_some());
        let length = if layout.length_includes_header() {
            payload.len() as u64 + header_len as u64
        } else {
            payload.len() as u64
        };
        if length > layout.max_length_field() {
            return Err(CodecError::LengthTooWide {
                length,
                width: layout.length_width(),
            });
        }
        let order = layout.byte_order();
        let mut header = [0u8; MAX_HEADER_LEN];
        let mut cur = &mut header[..];
        put_uint(&mut cur, u64::from(ty), layout.type_width(), order);
        if layout.has_flags() {
            put_uint(&mut cur, u64::from(flags), 2, order);
        }
        put_uint(&mut cur, length, layout.length_width(), order);
        if let Some(id) = id {
            put_uint(&mut cur, id, ID_LEN as u8, order);
        }
        dst.reserve(header_len + payload.len());
        dst.extend_from_slice(&header[..header_len]);
        dst.extend_from_slice(payload);
        Ok(())
    }
}

/// Reads a `width`-byte unsigned integer (1, 2, 4 or 8) and advances `cur`.
/// The caller guarantees that `cur` holds at least `width` bytes.
#[inline(always)]
fn get_uint(cur: &mut &[u8], width: u8, order: ByteOrder) -> u64 {
    match (width, order) {
        (1, _) => u64::from(cur.get_u8()),
        (2, ByteOrder::Big) => u64::from(cur.get_u16()),
        (2, ByteOrder::Little) => u64::from(cur.get_u16_le()),
        (4, ByteOrder::Big) => u64::from(cur.get_u32()),
        (4, ByteOrder::Little) => u64::from(cur.get_u32_le()),
        (_, ByteOrder::Big) => cur.get_u64(),
        (_, ByteOrder::Little) => cur.get_u64_le(),
    }
}

/// Writes a `width`-byte unsigned integer (1, 2, 4 or 8) that fits `width`.
/// The caller guarantees that `cur` has room for `width` bytes.
#[inline(always)]
fn put_uint(cur: &mut &mut [u8], value: u64, width: u8, order: ByteOrder) {
    match order {
        ByteOrder::Big => cur.put_uint(value, usize::from(width)),
        ByteOrder::Little => cur.put_uint_le(value, usize::from(width)),
    }
}

impl Decoder for Codec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.parse_head(src)? {
            Head::Need(needed) => {
                // `needed` is a validated header plus at most `max_decode`
                // payload bytes: never more than the limit justifies.
                src.reserve(needed.saturating_sub(src.len()));
                Ok(None)
            }
            Head::Ready {
                ty,
                id,
                header_len,
                payload_len,
            } => {
                src.advance(header_len);
                let payload = src.split_to(payload_len).freeze();
                Ok(Some(Frame { ty, id, payload }))
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
        self.encode_parts(frame.ty, frame.id, &frame.payload, dst)
    }
}

impl Encoder<Frame> for Codec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode_parts(frame.ty, frame.id, &frame.payload, dst)
    }
}
