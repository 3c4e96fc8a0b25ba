//! Writing a frame: every check first (limit, type width, id, length
//! width), so a refused frame writes nothing; then the header and payload.

use super::Codec;
use crate::error::CodecError;
use crate::layout::{ByteOrder, FLAG_ID, FLAG_REPLY, ID_LEN, IdField};
use bytes::{BufMut, BytesMut};

/// Largest header any layout produces: 4-byte type, flags, 4-byte length, id.
const MAX_HEADER_LEN: usize = 4 + 2 + 4 + ID_LEN;

impl Codec {
    /// Writes one frame's header and payload to `dst`, or refuses it without
    /// writing anything. The reply mark is written where the layout marks
    /// replies and left out where it matches them by id.
    pub(super) fn encode_parts(
        &self,
        ty: u32,
        id: Option<u64>,
        reply: bool,
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
        let flags = if reply && layout.marks_replies() {
            flags | FLAG_REPLY
        } else {
            flags
        };
        let header_len = layout.header_len(id.is_some());
        if self.default_layout {
            // Fast path: widths and order known; type checked above.
            let length = u32::try_from(payload.len()).map_err(|_| CodecError::LengthTooWide {
                length: payload.len() as u64,
                width: 4,
            })?;
            dst.reserve(header_len + payload.len());
            dst.put_u16(ty as u16);
            dst.put_u16(flags);
            dst.put_u32(length);
            if let Some(id) = id {
                dst.put_u64(id);
            }
            dst.extend_from_slice(payload);
            return Ok(());
        }
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

/// Writes a `width`-byte unsigned integer (1, 2, 4 or 8) that fits `width`.
/// The caller guarantees that `cur` has room for `width` bytes.
#[inline(always)]
fn put_uint(cur: &mut &mut [u8], value: u64, width: u8, order: ByteOrder) {
    match order {
        ByteOrder::Big => cur.put_uint(value, usize::from(width)),
        ByteOrder::Little => cur.put_uint_le(value, usize::from(width)),
    }
}
