//! [`Frame`]: one unit on the wire — a type, an optional request id, the
//! reply mark and a payload that shares the read buffer's memory.

use bytes::Bytes;

/// One frame: its type, its request id if it has one, whether it replies to
/// a request, and its payload.
///
/// A request carries an id and no reply mark; its answer, made with
/// [`Frame::reply`], carries the same id and the mark, so the side that
/// asked can tell it from a request of the peer that happens to have the
/// same id. Equality and hashing include the mark.
///
/// The type is a `u32` in memory so that layouts with a 4-byte type field can
/// be spoken; the encoder refuses a type that does not fit the layout's type
/// field ([`CodecError::TypeTooWide`](crate::CodecError::TypeTooWide)).
/// Decoded payloads are zero-copy slices of the codec's read buffer.
///
/// ```
/// use linesman_ipc_codec::Frame;
/// let ping = Frame::request(7, 42, "ping");
/// assert_eq!(ping, Frame::new(7, "ping").with_id(42));
/// assert_eq!(ping.id, Some(42));
/// assert_eq!(&ping.payload[..], b"ping");
/// let pong = ping.reply(8, "pong");
/// assert_eq!((pong.id, pong.reply), (Some(42), true));
/// assert_ne!(pong, Frame::request(8, 42, "pong"), "the mark counts");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Frame {
    /// Frame type: says what the payload is.
    pub ty: u32,
    /// Request id, for request/response correlation; `None` for a plain message.
    pub id: Option<u64>,
    /// Whether this frame replies to the request with its id: flags bit 1
    /// ([`FLAG_REPLY`](crate::FLAG_REPLY)) in layouts that mark replies.
    /// Layouts with [`Replies::ById`](crate::Replies::ById) do not carry it:
    /// the encoder leaves it out and the decoder never sets it.
    pub reply: bool,
    /// The payload bytes.
    pub payload: Bytes,
}

impl Frame {
    /// A frame without id.
    pub fn new(ty: u32, payload: impl Into<Bytes>) -> Self {
        Self {
            ty,
            id: None,
            reply: false,
            payload: payload.into(),
        }
    }

    /// A frame that carries a request id (and no reply mark).
    pub fn request(ty: u32, id: u64, payload: impl Into<Bytes>) -> Self {
        Self::new(ty, payload).with_id(id)
    }

    /// This frame with the given request id.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = Some(id);
        self
    }

    /// This frame without request id.
    #[must_use]
    pub fn without_id(mut self) -> Self {
        self.id = None;
        self
    }

    /// A reply to this frame: the given type and payload, this frame's id,
    /// and the reply mark, so that the peer hands it to the request it
    /// answers and not to its handler. Only a frame with an id is a
    /// request: a reply to one without id matches no request and is
    /// dropped by a peer that marks replies.
    pub fn reply(&self, ty: u32, payload: impl Into<Bytes>) -> Self {
        Self {
            ty,
            id: self.id,
            reply: true,
            payload: payload.into(),
        }
    }

    /// This frame with the reply mark set or cleared.
    #[must_use]
    pub fn with_reply(mut self, reply: bool) -> Self {
        self.reply = reply;
        self
    }
}
