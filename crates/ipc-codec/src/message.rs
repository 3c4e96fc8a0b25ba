//! Typed messages on top of frames: the [`Message`] trait, the
//! [`Frame::from_message`] / [`Frame::decode`] helpers, and [`Dispatcher`],
//! which routes frames by type to typed handlers.

use crate::error::{DispatchError, MessageError};
use crate::frame::Frame;
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::fmt;

/// A typed payload: a frame type and how to write and read its payload.
///
/// ```
/// use bytes::{Buf, BufMut, Bytes, BytesMut};
/// use linesman_ipc_codec::{Frame, Message, MessageError};
///
/// #[derive(Debug, PartialEq)]
/// struct Quote { price: u32 }
///
/// impl Message for Quote {
///     const TYPE: u32 = 0x0101;
///     fn encode(&self, dst: &mut BytesMut) { dst.put_u32(self.price) }
///     fn decode(mut payload: Bytes) -> Result<Self, MessageError> {
///         if payload.len() < 4 {
///             return Err(MessageError::TooShort { ty: Self::TYPE, needed: 4, got: payload.len() });
///         }
///         Ok(Quote { price: payload.get_u32() })
///     }
/// }
///
/// let frame = Frame::from_message(&Quote { price: 99 });
/// assert_eq!(frame.ty, 0x0101);
/// assert_eq!(frame.decode::<Quote>(), Ok(Quote { price: 99 }));
/// ```
pub trait Message: Sized {
    /// The frame type that carries this message.
    const TYPE: u32;

    /// Appends the payload to `dst`.
    fn encode(&self, dst: &mut BytesMut);

    /// Reads the message from a whole payload.
    fn decode(payload: Bytes) -> Result<Self, MessageError>;
}

impl Frame {
    /// A frame of type `M::TYPE`, without id, carrying `message`.
    pub fn from_message<M: Message>(message: &M) -> Self {
        let mut payload = BytesMut::new();
        message.encode(&mut payload);
        Self::new(M::TYPE, payload.freeze())
    }

    /// The message this frame carries, if its type is `M::TYPE` and its
    /// payload decodes. The payload is shared, not copied.
    pub fn decode<M: Message>(&self) -> Result<M, MessageError> {
        if self.ty != M::TYPE {
            return Err(MessageError::WrongType {
                expected: M::TYPE,
                got: self.ty,
            });
        }
        M::decode(self.payload.clone())
    }
}

type Handler<Ctx> = Box<dyn FnMut(Frame, &mut Ctx) -> Result<(), DispatchError> + Send>;

/// Routes frames by type to typed handlers that share a context `Ctx`.
///
/// Registering a second handler for the same type replaces the first.
///
/// ```
/// # use bytes::{Bytes, BytesMut};
/// # use linesman_ipc_codec::{Message, MessageError};
/// # struct Ping;
/// # impl Message for Ping {
/// #     const TYPE: u32 = 1;
/// #     fn encode(&self, _: &mut BytesMut) {}
/// #     fn decode(_: Bytes) -> Result<Self, MessageError> { Ok(Ping) }
/// # }
/// use linesman_ipc_codec::{DispatchError, Dispatcher, Frame};
///
/// let mut dispatcher = Dispatcher::new().on(|_: Ping, pings: &mut u32| *pings += 1);
/// let mut pings = 0;
/// dispatcher.dispatch(Frame::from_message(&Ping), &mut pings)?;
/// assert_eq!(pings, 1);
/// assert_eq!(
///     dispatcher.dispatch(Frame::new(9, ""), &mut pings),
///     Err(DispatchError::UnknownType { ty: 9 })
/// );
/// # Ok::<(), DispatchError>(())
/// ```
pub struct Dispatcher<Ctx> {
    handlers: HashMap<u32, Handler<Ctx>>,
}

impl<Ctx> Default for Dispatcher<Ctx> {
    fn default() -> Self {
        Self {
            handlers: HashMap::new(),
        }
    }
}

impl<Ctx> fmt::Debug for Dispatcher<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut types: Vec<u32> = self.handlers.keys().copied().collect();
        types.sort_unstable();
        f.debug_struct("Dispatcher").field("types", &types).finish()
    }
}

impl<Ctx> Dispatcher<Ctx> {
    /// A dispatcher with no handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes frames of type `M::TYPE` to `handler`, decoded as `M`.
    #[must_use]
    pub fn on<M, F>(mut self, mut handler: F) -> Self
    where
        M: Message + 'static,
        F: FnMut(M, &mut Ctx) + Send + 'static,
    {
        self.handlers.insert(
            M::TYPE,
            Box::new(move |frame: Frame, ctx: &mut Ctx| {
                let message = M::decode(frame.payload).map_err(|source| DispatchError::Decode {
                    ty: frame.ty,
                    source,
                })?;
                handler(message, ctx);
                Ok(())
            }),
        );
        self
    }

    /// Whether a handler is registered for `ty`.
    pub fn handles(&self, ty: u32) -> bool {
        self.handlers.contains_key(&ty)
    }

    /// Decodes `frame` as the message registered for its type and calls
    /// that handler with it.
    pub fn dispatch(&mut self, frame: Frame, ctx: &mut Ctx) -> Result<(), DispatchError> {
        match self.handlers.get_mut(&frame.ty) {
            Some(handler) => handler(frame, ctx),
            None => Err(DispatchError::UnknownType { ty: frame.ty }),
        }
    }
}
