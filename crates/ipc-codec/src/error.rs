//! Every error of the crate: refused layouts ([`LayoutError`]), framing errors
//! on the wire ([`CodecError`]), payloads that are not the message they claim
//! to be ([`MessageError`]) and frames nobody handles ([`DispatchError`]).
//!
//! Each variant carries the values that were wrong, so a log line alone says
//! what the peer sent and which limit it broke.

use std::io;

/// A [`FrameLayout`](crate::FrameLayout) that cannot describe a wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The type field width is not 1, 2 or 4 bytes.
    #[error("type field width {width} is not supported; use 1, 2 or 4 bytes")]
    TypeWidth {
        /// The refused width in bytes.
        width: u8,
    },
    /// The length field width is not 2 or 4 bytes.
    #[error("length field width {width} is not supported; use 2 or 4 bytes")]
    LengthWidth {
        /// The refused width in bytes.
        width: u8,
    },
    /// `IdField::Flagged` needs the flags field that says whether the id follows.
    #[error(
        "id field `Flagged` needs the flags field; enable `flags(true)` or use `IdField::Always` or `IdField::Never`"
    )]
    FlaggedIdWithoutFlags,
    /// `Replies::Marked` needs the flags field to carry the reply mark.
    #[error(
        "replies `Marked` need the flags field to carry the reply mark; enable `flags(true)`, or choose `Replies::ById` (a peer request whose id equals one of ours is then taken for our reply)"
    )]
    MarkedRepliesWithoutFlags,
}

/// A framing error: the bytes on the wire (decoding) or the frame handed to
/// the encoder (encoding) do not fit the layout or its limits.
///
/// After a decoding error the stream is out of step with the frame boundaries:
/// close the connection; do not try to decode further.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The underlying reader or writer failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// A received frame announces a payload longer than the decode limit.
    #[error("frame length {length} exceeds max_frame {max}")]
    FrameTooLarge {
        /// Payload length announced by the header, in bytes.
        length: u64,
        /// The decode limit (`Codec::max_decode_frame`).
        max: usize,
    },
    /// A frame to send has a payload longer than the encode limit.
    #[error(
        "frame length {length} exceeds the encode limit max_encode_frame {max}; split the payload or raise the limit"
    )]
    EncodeTooLarge {
        /// Payload length of the frame to send, in bytes.
        length: usize,
        /// The encode limit (`Codec::max_encode_frame`).
        max: usize,
    },
    /// A received header sets flag bits this layout does not define.
    #[error(
        "unknown flag bits {unknown:#06x} in flags {flags:#06x}; the peer speaks another protocol version"
    )]
    UnknownFlags {
        /// The whole flags field as received.
        flags: u16,
        /// The bits that are not defined (`flags` without the known bits).
        unknown: u16,
    },
    /// The stream ended with part of a frame buffered.
    #[error(
        "stream ended inside a frame: {buffered} bytes buffered of at least {expected}; the peer closed mid-frame"
    )]
    Truncated {
        /// Bytes of the unfinished frame that were received.
        buffered: usize,
        /// Bytes the frame needs as far as the received header tells
        /// (the header alone when the header itself is incomplete).
        expected: usize,
    },
    /// A frame type does not fit the layout's type field.
    #[error(
        "type {ty} does not fit a {width}-byte type field; use a wider layout or a smaller type"
    )]
    TypeTooWide {
        /// The frame type.
        ty: u32,
        /// The width of the type field in bytes.
        width: u8,
    },
    /// The layout puts an id in every frame but the frame to send has none.
    #[error(
        "frame of type {ty} has no id but the layout carries an id in every frame; set one with `Frame::with_id`"
    )]
    MissingId {
        /// The frame type.
        ty: u32,
    },
    /// The frame to send has an id but the layout has no id field.
    #[error(
        "frame of type {ty} has id {id} but the layout has no id field; send it without an id or use a layout with ids"
    )]
    IdNotSupported {
        /// The frame type.
        ty: u32,
        /// The id that cannot be sent.
        id: u64,
    },
    /// The value of the length field does not fit its width.
    #[error(
        "length {length} does not fit a {width}-byte length field; send a smaller payload or use a wider length field"
    )]
    LengthTooWide {
        /// The value the length field would carry, in bytes.
        length: u64,
        /// The width of the length field in bytes.
        width: u8,
    },
    /// A length that counts the header is smaller than the header itself.
    #[error(
        "length {length} is shorter than the {header_len}-byte header it must count; the peer does not use this layout"
    )]
    LengthBelowHeader {
        /// The length field as received.
        length: u64,
        /// The header length of this frame in bytes.
        header_len: usize,
    },
    /// The room for the rest of a received frame could not be allocated:
    /// the process is out of memory, or at its address-space limit
    /// (`ulimit -v`, `RLIMIT_AS`). Only this stream fails.
    #[error(
        "cannot allocate {wanted} bytes for a frame of {frame} bytes: the process is out of memory or at its address-space limit (ulimit -v); lower max_frame or raise the limit"
    )]
    OutOfMemory {
        /// The buffer capacity that could not be allocated, in bytes.
        wanted: usize,
        /// The whole frame (header and payload), in bytes.
        frame: usize,
    },
}

/// A payload that is not a valid instance of the message it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The frame's type is not the message's [`Message::TYPE`](crate::Message::TYPE).
    #[error("frame type {got} is not message type {expected}; dispatch on the type first")]
    WrongType {
        /// The message's type.
        expected: u32,
        /// The frame's type.
        got: u32,
    },
    /// The payload ends before the message does.
    #[error("payload of {got} bytes is too short for message type {ty}, which needs {needed}")]
    TooShort {
        /// The message type.
        ty: u32,
        /// Bytes the message needs.
        needed: usize,
        /// Bytes the payload has.
        got: usize,
    },
    /// The payload is long enough but its content is invalid.
    #[error("invalid payload for message type {ty}: {reason}")]
    Invalid {
        /// The message type.
        ty: u32,
        /// What is wrong with it.
        reason: String,
    },
}

/// A frame that [`Dispatcher::dispatch`](crate::Dispatcher::dispatch) could not hand to a handler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// No handler is registered for the frame's type.
    #[error("no handler for frame type {ty}; register one with `Dispatcher::on`")]
    UnknownType {
        /// The frame type.
        ty: u32,
    },
    /// The handler's message could not be decoded from the payload.
    #[error("cannot decode frame type {ty}: {source}")]
    Decode {
        /// The frame type.
        ty: u32,
        /// Why the payload is not the message.
        #[source]
        source: MessageError,
    },
}
