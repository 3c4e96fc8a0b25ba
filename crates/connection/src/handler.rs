//! [`Handler`]: the application's code for one connection — its handshake,
//! every frame, and the end of every session — [`Burst`], the frames one
//! read delivered, and [`Counting`], the handler of a connection that has
//! none.

use std::collections::VecDeque;

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
/// 2. [`on_frames`](Handler::on_frames) for every [`Burst`] of frames
///    received that are not replies to pending requests, in order; its
///    default hands each frame to [`on_frame`](Handler::on_frame). A
///    handler implements `on_frame` (one boxed future per frame, simplest)
///    and may override `on_frames` to take a whole burst in one call (one
///    future per burst: what a high-rate feed of small frames should do).
/// 3. [`on_disconnect`](Handler::on_disconnect) with the reason, once the
///    session ends, if `on_connect` was called.
///
/// An `Err` from `on_connect`, `on_frames` or `on_frame` ends the session
/// ([`Reason::HandshakeFailed`], [`Reason::Handler`]); so does a panic
/// ([`Reason::HandlerPanic`]), which is caught: it never takes down the
/// process or another connection. Frames of the burst not yet taken when
/// that happens are dropped undelivered, like every later frame.
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

    /// A burst of frames received: every frame the session had already
    /// decoded when it called (at least one, at most [`Burst::MAX`]), in
    /// the order they arrived, replies to pending requests taken out
    /// (those went to their requesters as they were decoded, so a reply
    /// may reach its requester before earlier frames of its burst reach
    /// the handler). Bursts come one after another, never overlapping, so
    /// the order across bursts is the order of arrival too.
    ///
    /// Take the frames with [`Burst::next`] (or iterate `&mut *frames`).
    /// Returning `Ok` with frames left in the burst drops them. An `Err`
    /// (or a panic) ends the session with [`Reason::Handler`] (or
    /// [`Reason::HandlerPanic`]); the frames still in the burst are not
    /// delivered. As for `on_frame`, a stop or a failed writer interrupts
    /// the call (its future is dropped). Every frame of the burst is
    /// already counted in the connection's [`Counters`](crate::Counters),
    /// delivered or not.
    ///
    /// Default: each frame to [`on_frame`](Handler::on_frame) in order,
    /// stopping at the first error — so a handler that only implements
    /// `on_frame` sees exactly the frames, order and errors it would see
    /// one frame at a time.
    ///
    /// ```
    /// use linesman_connection::{Burst, Handler, HandlerError, Link, async_trait};
    /// use linesman_ipc_codec::Frame;
    ///
    /// struct Ticks { count: u64, bytes: usize }
    ///
    /// #[async_trait]
    /// impl Handler for Ticks {
    ///     async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
    ///         self.count += 1;
    ///         self.bytes += frame.payload.len();
    ///         Ok(())
    ///     }
    ///     // One future for the whole burst instead of one per frame.
    ///     async fn on_frames(&mut self, frames: &mut Burst, _link: &Link) -> Result<(), HandlerError> {
    ///         for frame in frames {
    ///             if frame.ty == 0xFF {
    ///                 return Err(HandlerError::msg("the feed sent an abort frame"));
    ///             }
    ///             self.count += 1;
    ///             self.bytes += frame.payload.len();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    async fn on_frames(&mut self, frames: &mut Burst, link: &Link) -> Result<(), HandlerError> {
        for frame in frames {
            self.on_frame(frame, link).await?;
        }
        Ok(())
    }

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

    async fn on_frames(&mut self, frames: &mut Burst, link: &Link) -> Result<(), HandlerError> {
        (**self).on_frames(frames, link).await
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

    async fn on_frames(&mut self, frames: &mut Burst, _link: &Link) -> Result<(), HandlerError> {
        frames.clear();
        Ok(())
    }
}

/// The frames a session hands to [`Handler::on_frames`] in one call, in
/// the order they arrived; an iterator that takes them from the front.
#[derive(Debug, Default)]
pub struct Burst {
    frames: VecDeque<Frame>,
}

impl Burst {
    /// The most frames in one burst.
    pub const MAX: usize = 64;

    /// An empty burst (the session fills its own; this is for handlers
    /// that call another handler's `on_frames`, and for tests).
    pub fn new() -> Burst {
        Burst::default()
    }

    /// Adds a frame at the back. A full burst grows straight to room for
    /// [`MAX`](Self::MAX) frames, not by doubling.
    pub fn push(&mut self, frame: Frame) {
        if self.frames.len() == self.frames.capacity() {
            self.frames
                .reserve(Self::MAX.saturating_sub(self.frames.len()).max(1));
        }
        self.frames.push_back(frame);
    }

    /// The frames not yet taken.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether every frame was taken.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Drops the frames not yet taken.
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// Room held for frames (the session releases it when it waits for
    /// bytes that have not arrived yet).
    pub(crate) fn capacity(&self) -> usize {
        self.frames.capacity()
    }
}

impl Iterator for Burst {
    type Item = Frame;

    /// Takes the next frame from the front.
    fn next(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.frames.len(), Some(self.frames.len()))
    }
}

impl ExactSizeIterator for Burst {}
