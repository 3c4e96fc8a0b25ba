//! [`Handler`]: the application's code for one connection — its handshake,
//! every frame, and the end of every session — and [`Counting`], the
//! handler of a connection that has none.

use async_trait::async_trait;
use linesman_ipc_codec::Frame;

use crate::error::HandlerError;
use crate::handle::Link;
use crate::reason::Reason;

/// The application's code for one connection.
///
/// One instance lives across all the sessions of its connection, so it can
/// keep state (`&mut self`). Per session:
///
/// 1. [`on_connect`](Handler::on_connect) once the socket is connected: the
///    handshake (initial requests, configuration). It may send and request
///    through the link; replies to its requests are delivered while it runs.
///    Frames that are not replies wait until it returns. Only when it
///    returns `Ok` is the connection announced up (`Connected`).
/// 2. [`on_frame`](Handler::on_frame) for every frame received that is not
///    the reply to a pending request, in order.
/// 3. [`on_disconnect`](Handler::on_disconnect) with the reason, once the
///    session ends, if `on_connect` was called.
///
/// An `Err` from `on_connect` or `on_frame` ends the session
/// ([`Reason::HandshakeFailed`], [`Reason::Handler`]); so does a panic
/// ([`Reason::HandlerPanic`]), which is caught: it never takes down the
/// process or another connection.
///
/// ```
/// use linesman_connection::{Handler, HandlerError, Link, Reason, async_trait};
/// use linesman_ipc_codec::Frame;
///
/// struct Quotes { seen: u64 }
///
/// #[async_trait]
/// impl Handler for Quotes {
///     async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
///         link.send(Frame::new(1, "subscribe eu")).await?;
///         Ok(())
///     }
///     async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
///         self.seen += 1;
///         if frame.ty == 0xFF {
///             return Err(HandlerError::msg("the feed sent an abort frame"));
///         }
///         Ok(())
///     }
///     async fn on_disconnect(&mut self, reason: &Reason) {
///         eprintln!("quotes down after {} frames: {reason}", self.seen);
///     }
/// }
/// ```
#[async_trait]
pub trait Handler: Send + 'static {
    /// The handshake, once the socket is connected. Default: nothing.
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        let _ = link;
        Ok(())
    }

    /// One frame received (not a reply to a pending request).
    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError>;

    /// The session ended. Default: nothing. A panic here is caught and logged.
    async fn on_disconnect(&mut self, reason: &Reason) {
        let _ = reason;
    }
}

#[async_trait]
impl<H: Handler + ?Sized> Handler for Box<H> {
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        (**self).on_connect(link).await
    }

    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
        (**self).on_frame(frame, link).await
    }

    async fn on_disconnect(&mut self, reason: &Reason) {
        (**self).on_disconnect(reason).await;
    }
}

/// The handler of a connection without one: it accepts every frame and
/// does nothing with it. The connection's [`Counters`](crate::Counters)
/// count what arrives, as for every connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

#[async_trait]
impl Handler for Counting {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        Ok(())
    }
}
