//! [`Handler`]: the application's code for one connection — its handshake,
//! every frame, and the end of every session — [`DynHandler`], its
//! dyn-compatible form, [`Burst`], the frames one read delivered, and
//! [`Counting`], the handler of a connection that has none.
//!
//! Why native `async fn` in the trait and not `async-trait`: an
//! `async-trait` method boxes its future at every call, and `on_frame` is
//! called once per frame — on a feed of small frames the allocation and
//! free were the largest cost per frame (measured: about 130 of the 310
//! instructions per 64-byte frame that linesman spent beyond plain
//! `Framed`). Here a handler's `on_frame` futures are awaited inside its
//! own `on_frames`, compiled for its type, with no allocation; the session
//! holds the handler as a [`DynHandler`] and boxes one future per burst.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

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
///    handler implements `on_frame` and may override `on_frames` to take a
///    whole burst in one call. A request of the peer (a frame with an id
///    and, in layouts that mark replies, no reply mark) is one of them:
///    answer it with `link.send(frame.reply(ty, payload))`.
/// 3. [`on_disconnect`](Handler::on_disconnect) with the reason, once the
///    session ends, if `on_connect` was called.
///
/// An `Err` from `on_connect`, `on_frames` or `on_frame` ends the session
/// ([`Reason::HandshakeFailed`], [`Reason::Handler`]); so does a panic
/// ([`Reason::HandlerPanic`]), which is caught: it never takes down the
/// process or another connection. Frames of the burst not yet taken when
/// that happens are dropped undelivered, like every later frame.
///
/// Implement it with `async fn`s (no macro). The futures must be `Send`:
/// a handler runs on the supervisor's multi-threaded runtime. Where the
/// handler is chosen at run time, box it as a [`DynHandler`], which every
/// `Handler` is.
///
/// ```
/// use linesman_connection::{Handler, HandlerError, Link, Reason};
/// use linesman_ipc_codec::Frame;
///
/// struct Quotes { seen: u64 }
///
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
pub trait Handler: Send + 'static {
    /// The handshake, once the socket is connected. Default: nothing.
    fn on_connect(&mut self, link: &Link) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = link;
        async { Ok(()) }
    }

    /// One frame received (not a reply to a pending request): a message,
    /// or a request of the peer, to answer with
    /// `link.send(frame.reply(ty, payload))`.
    fn on_frame(
        &mut self,
        frame: Frame,
        link: &Link,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

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
    /// one frame at a time. Override it to handle a burst as a whole (to
    /// batch work, say, or to look at frames side by side).
    ///
    /// ```
    /// use linesman_connection::{Burst, Handler, HandlerError, Link};
    /// use linesman_ipc_codec::Frame;
    ///
    /// struct Ticks { count: u64, bytes: usize }
    ///
    /// impl Handler for Ticks {
    ///     async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
    ///         self.count += 1;
    ///         self.bytes += frame.payload.len();
    ///         Ok(())
    ///     }
    ///     // The burst as a whole: one size check for all its frames.
    ///     async fn on_frames(&mut self, frames: &mut Burst, _link: &Link) -> Result<(), HandlerError> {
    ///         let bytes: usize = frames.iter().map(|frame| frame.payload.len()).sum();
    ///         if bytes > 1 << 20 {
    ///             return Err(HandlerError::msg("a burst over 1 MiB: the feed is flooding"));
    ///         }
    ///         self.count += frames.len() as u64;
    ///         self.bytes += bytes;
    ///         frames.clear();
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn on_frames(
        &mut self,
        frames: &mut Burst,
        link: &Link,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async move {
            for frame in frames {
                self.on_frame(frame, link).await?;
            }
            Ok(())
        }
    }

    /// The session ended. Default: nothing. A panic here is caught and logged.
    fn on_disconnect(&mut self, reason: &Reason) -> impl Future<Output = ()> + Send {
        let _ = reason;
        async {}
    }
}

/// A boxed handler is a handler.
impl<H: Handler> Handler for Box<H> {
    fn on_connect(&mut self, link: &Link) -> impl Future<Output = Result<(), HandlerError>> + Send {
        (**self).on_connect(link)
    }

    fn on_frame(
        &mut self,
        frame: Frame,
        link: &Link,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        (**self).on_frame(frame, link)
    }

    fn on_frames(
        &mut self,
        frames: &mut Burst,
        link: &Link,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        (**self).on_frames(frames, link)
    }

    fn on_disconnect(&mut self, reason: &Reason) -> impl Future<Output = ()> + Send {
        (**self).on_disconnect(reason)
    }
}

/// A boxed future of a [`DynHandler`] call.
pub type HandlerFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The dyn-compatible form of [`Handler`], which a session holds: one boxed
/// future per call, and a call per burst (not per frame). Every `Handler`
/// is a `DynHandler`; implement [`Handler`], not this, unless you forward
/// to a handler you hold as a `Box<dyn DynHandler>`.
///
/// ```
/// use linesman_connection::{Counting, DynHandler, Handler, HandlerError, Link};
/// use linesman_ipc_codec::Frame;
///
/// struct Log;
/// impl Handler for Log {
///     async fn on_frame(&mut self, frame: Frame, _: &Link) -> Result<(), HandlerError> {
///         Ok(println!("frame of type {}", frame.ty))
///     }
/// }
///
/// // Chosen at run time: both are `Box<dyn DynHandler>`.
/// let verbose = std::env::var_os("VERBOSE").is_some();
/// let handler: Box<dyn DynHandler> = if verbose { Box::new(Log) } else { Box::new(Counting) };
/// # drop(handler);
/// ```
pub trait DynHandler: Send + 'static {
    /// [`Handler::on_connect`], boxed.
    fn on_connect<'a>(&'a mut self, link: &'a Link) -> HandlerFuture<'a, Result<(), HandlerError>>;

    /// [`Handler::on_frames`], boxed.
    fn on_frames<'a>(
        &'a mut self,
        frames: &'a mut Burst,
        link: &'a Link,
    ) -> HandlerFuture<'a, Result<(), HandlerError>>;

    /// [`Handler::on_disconnect`], boxed.
    fn on_disconnect<'a>(&'a mut self, reason: &'a Reason) -> HandlerFuture<'a, ()>;
}

impl<H: Handler> DynHandler for H {
    fn on_connect<'a>(&'a mut self, link: &'a Link) -> HandlerFuture<'a, Result<(), HandlerError>> {
        Box::pin(Handler::on_connect(self, link))
    }

    fn on_frames<'a>(
        &'a mut self,
        frames: &'a mut Burst,
        link: &'a Link,
    ) -> HandlerFuture<'a, Result<(), HandlerError>> {
        Box::pin(Handler::on_frames(self, frames, link))
    }

    fn on_disconnect<'a>(&'a mut self, reason: &'a Reason) -> HandlerFuture<'a, ()> {
        Box::pin(Handler::on_disconnect(self, reason))
    }
}

/// The handler of a connection without one: it accepts every frame and
/// does nothing with it. The connection's [`Counters`](crate::Counters)
/// count what arrives, as for every connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

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

    /// The frames not yet taken, front to back, without taking them.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Frame> {
        self.frames.iter()
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
