//! linesman's wire format: [`Frame`]s cut from a byte stream by a
//! [`Codec`] (a tokio-util `Decoder`/`Encoder`) according to a
//! [`FrameLayout`], and typed [`Message`]s routed by a [`Dispatcher`].
//!
//! This crate knows nothing of sockets or supervision: give the codec to
//! `tokio_util::codec::Framed` over any `AsyncRead + AsyncWrite`.
//!
//! # The default layout
//!
//! `FrameLayout::default()`, all integers big endian
//! (`docs/wire-format.md` is the reference):
//!
//! ```text
//!  0       2       4               8                               16
//! +-------+-------+---------------+-------------------------------+-----------
//! | type  | flags |    length     |  id (only if flags bit 0)     | payload …
//! |  u16  |  u16  |      u32      |             u64               | `length` bytes
//! +-------+-------+---------------+-------------------------------+-----------
//! ```
//!
//! - `flags` bit 0: a u64 request id follows the length; bit 1: this frame
//!   replies to the request with that id ([`Frame::reply`]); every other bit
//!   must be 0 (a set unknown bit is [`CodecError::UnknownFlags`]).
//! - `length` counts the payload only, not the header, and is bounded by
//!   [`Codec::max_decode_frame`] (16 MiB by default).
//!
//! Type `0x0001`, no id, payload `"hi"` (10 bytes):
//!
//! ```text
//! 00 01  00 00  00 00 00 02  68 69
//! type   flags  length = 2   "hi"
//! ```
//!
//! Type `0x0102`, id 7, payload `"ping"` (20 bytes):
//!
//! ```text
//! 01 02  00 01  00 00 00 04  00 00 00 00 00 00 00 07  70 69 6e 67
//! type   flags  length = 4   id = 7                   "ping"
//! ```
//!
//! Its reply ([`Frame::reply`]): type `0x0103`, id 7, flags bits 0 and 1,
//! payload `"pong"`:
//!
//! ```text
//! 01 03  00 03  00 00 00 04  00 00 00 00 00 00 00 07  70 6f 6e 67
//! type   flags  length = 4   id = 7                   "pong"
//! ```
//!
//! Other protocols differ: [`FrameLayout::builder`] sets the type width
//! (1, 2 or 4 bytes), the length width (2 or 4), the byte order, whether the
//! length counts the header, whether an id is carried, and whether replies
//! are marked ([`Replies`]).
//!
//! # Example
//!
//! ```
//! use bytes::{Buf, BufMut, Bytes, BytesMut};
//! use futures_util::{SinkExt, StreamExt};
//! use linesman_ipc_codec::{Codec, Dispatcher, Frame, Message, MessageError};
//! use tokio_util::codec::{FramedRead, FramedWrite};
//!
//! #[derive(Debug, PartialEq)]
//! struct Quote { price: u32 }
//!
//! impl Message for Quote {
//!     const TYPE: u32 = 0x0101;
//!     fn encode(&self, dst: &mut BytesMut) { dst.put_u32(self.price) }
//!     fn decode(mut payload: Bytes) -> Result<Self, MessageError> {
//!         if payload.len() != 4 {
//!             return Err(MessageError::TooShort { ty: Self::TYPE, needed: 4, got: payload.len() });
//!         }
//!         Ok(Quote { price: payload.get_u32() })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Any AsyncRead + AsyncWrite works; an in-memory pipe stands in for a socket.
//! let (client, server) = tokio::io::duplex(1024);
//! let mut tx = FramedWrite::new(client, Codec::default());
//! tx.send(Frame::from_message(&Quote { price: 42 })).await?;
//! tx.send(Frame::request(0x0200, 7, "ping")).await?;
//! drop(tx);
//!
//! let mut rx = FramedRead::new(server, Codec::default());
//! let mut prices = Vec::new();
//! let mut dispatcher = Dispatcher::new().on(|q: Quote, prices: &mut Vec<u32>| prices.push(q.price));
//! dispatcher.dispatch(rx.next().await.ok_or("stream ended")??, &mut prices)?;
//! assert_eq!(prices, [42]);
//!
//! let request = rx.next().await.ok_or("stream ended")??;
//! assert_eq!(request, Frame::request(0x0200, 7, "ping"));
//! assert!(rx.next().await.is_none(), "the writer closed after two frames");
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod codec;
mod error;
mod frame;
mod layout;
mod message;

pub use codec::{Codec, DEFAULT_MAX_FRAME};
pub use error::{CodecError, DispatchError, LayoutError, MessageError};
pub use frame::Frame;
pub use layout::{
    ByteOrder, FLAG_ID, FLAG_REPLY, FLAGS_LEN, FrameLayout, FrameLayoutBuilder, ID_LEN, IdField,
    Replies,
};
pub use message::{Dispatcher, Message};
