//! Reading a frame header from the front of the read buffer: the general
//! path for any [`FrameLayout`](crate::FrameLayout), and a fast path for the
//! default layout whose field positions are known at compile time.
//!
//! Both validate the header completely (flags, length against the limit)
//! before they report how many bytes the frame needs, so the caller never
//! reserves memory for a header that will be refused.

use super::Codec;
use crate::error::CodecError;
use crate::layout::{ByteOrder, FLAG_ID, FLAG_REPLY, ID_LEN, IdField};
use bytes::Buf;

/// What the front of the read buffer holds.
pub(super) enum Head {
    /// Not a whole frame yet: the frame needs at least this many bytes.
    Need(usize),
    /// A whole frame of `header_len + payload_len` bytes is buffered.
    Ready {
        ty: u32,
        id: Option<u64>,
        reply: bool,
        header_len: usize,
        payload_len: usize,
    },
}

impl Codec {
    /// [`parse_head`](Self::parse_head) for the default layout, with every
    /// field width and position known at compile time. It must agree with
    /// the general path on every input (a unit test checks that).
    #[inline(always)]
    pub(super) fn parse_default_head(&self, buf: &[u8]) -> Result<Head, CodecError> {
        let Some(mut head) = buf.first_chunk::<8>().map(|h| &h[..]) else {
            return Ok(Head::Need(8));
        };
        let ty = u32::from(head.get_u16());
        let flags = head.get_u16();
        let length = u64::from(head.get_u32());
        const KNOWN: u16 = FLAG_ID | FLAG_REPLY;
        if flags & !KNOWN != 0 {
            return Err(CodecError::UnknownFlags {
                flags,
                unknown: flags & !KNOWN,
            });
        }
        if length > self.max_decode as u64 {
            return Err(CodecError::FrameTooLarge {
                length,
                max: self.max_decode,
            });
        }
        let (header_len, id) = if flags & FLAG_ID != 0 {
            let total = (length as usize).saturating_add(16);
            match buf.get(8..16) {
                Some(mut id) if buf.len() >= total => (16, Some(id.get_u64())),
                _ => return Ok(Head::Need(total)),
            }
        } else {
            let total = (length as usize).saturating_add(8);
            if buf.len() < total {
                return Ok(Head::Need(total));
            }
            (8, None)
        };
        Ok(Head::Ready {
            ty,
            id,
            reply: flags & FLAG_REPLY != 0,
            header_len,
            payload_len: length as usize,
        })
    }

    /// Reads and validates the header at the front of `buf`, if it is there.
    #[inline]
    pub(super) fn parse_head(&self, buf: &[u8]) -> Result<Head, CodecError> {
        let Some(mut cur) = buf.get(..self.fixed_len) else {
            return Ok(Head::Need(self.fixed_len));
        };
        let layout = &self.layout;
        let order = layout.byte_order();
        // `cur` holds exactly the fixed header, so every read below is in bounds.
        let ty = get_uint(&mut cur, layout.type_width(), order) as u32;
        let (has_id, reply) = if layout.has_flags() {
            let flags = get_uint(&mut cur, 2, order) as u16;
            let unknown = flags & !layout.known_flags();
            if unknown != 0 {
                return Err(CodecError::UnknownFlags { flags, unknown });
            }
            let has_id = match layout.id() {
                IdField::Flagged => flags & FLAG_ID != 0,
                IdField::Always => true,
                IdField::Never => false,
            };
            // Known only when the layout marks replies.
            (has_id, flags & FLAG_REPLY != 0)
        } else {
            (layout.id() == IdField::Always, false)
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
            reply,
            header_len,
            payload_len,
        })
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
