//! One session from connected to its end: the handshake (`on_connect`,
//! with replies to its requests delivered meanwhile), the announcement that
//! the connection is up, then the frames, a burst at a time (every frame
//! already decoded, up to `Burst::MAX`), to `on_frames` until something
//! ends the session. Handler errors and panics become the session's reason.

use std::any::Any;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Poll, ready};

use futures_util::FutureExt;
use linesman_ipc_codec::Frame;
use linesman_observer::Connected;
use tokio::io::AsyncRead;
use tokio::time::Instant;

use super::Opening;
use super::io::{SessionIo, Step};
use crate::error::HandlerError;
use crate::handle::{ConnectionHandle, Link};
use crate::handler::{Burst, DynHandler};
use crate::reason::Reason;
use crate::shared::Phase;

/// Frames that are not replies, held while `on_connect` runs; past this the
/// session stops reading until the handshake is done.
const EARLY_LIMIT: usize = 1024;

/// A burst buffer with room for more frames than this is released when
/// the session waits for bytes that have not arrived, so an idle
/// connection does not hold one.
const SMALL_BURST: usize = 8;

/// How a session that connected ended.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) reason: Reason,
    /// When it came up, if it did.
    pub(crate) up_since: Option<Instant>,
}

/// Runs a connected session until it ends.
///
/// Not an `async fn`: one keeps its arguments twice in its future (as
/// arguments and as moved locals), for the whole session; the `async move`
/// block captures them once. The same holds for [`pump`].
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn would hold its arguments twice: +24 bytes per session (size.rs)"
)]
pub(crate) fn drive<'a, R: AsyncRead + Unpin + Send>(
    handler: &'a mut dyn DynHandler,
    io: &'a mut SessionIo<R>,
    opening: Box<Opening>,
) -> impl Future<Output = Run> + Send + 'a {
    async move {
        let link = Link::new(ConnectionHandle::new(Arc::clone(&io.shared)));
        // Boxed: the handshake lives only until the session is up; unboxed
        // it would size the future of every session for its whole life.
        let up_since = match Box::pin(come_up(handler, &link, io, opening)).await {
            Ok(up_since) => up_since,
            Err(reason) => {
                return Run {
                    reason,
                    up_since: None,
                };
            }
        };
        let reason = pump(handler, &link, io).await;
        Run {
            reason,
            up_since: Some(up_since),
        }
    }
}

/// The handshake, the announcement that the connection is up, and the
/// delivery of the frames that arrived during the handshake. Returns when
/// the session came up.
async fn come_up<R: AsyncRead + Unpin>(
    handler: &mut dyn DynHandler,
    link: &Link,
    io: &mut SessionIo<R>,
    opening: Box<Opening>,
) -> Result<Instant, Reason> {
    let Opening {
        peer,
        permit,
        attempt,
        up,
    } = *opening;
    let shared = Arc::clone(&io.shared);
    shared.set_phase(Phase::Handshake);
    let mut early = VecDeque::new();
    let handshaken = handshake(handler, link, io, &mut early).await;
    // The connect is over, one way or the other.
    drop(permit);
    handshaken?;
    shared.set_phase(Phase::Up);
    shared.counters.sessions.fetch_add(1, Ordering::Relaxed);
    let up_since = Instant::now();
    shared.publish(Connected { peer });
    up.log(attempt);
    let mut burst = Burst::new();
    while !early.is_empty() {
        let take = early.len().min(Burst::MAX);
        for frame in early.drain(..take) {
            burst.push(frame);
        }
        let delivered = deliver(handler, &mut burst, link, io).await;
        burst.clear();
        handled(delivered)?;
    }
    Ok(up_since)
}

/// The session once up: bursts of frames to the handler until something
/// ends it. Its future holds the burst, the reason that ends it and the
/// borrows, nothing per wait: waiting is a poll of the session's state.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn would hold its arguments twice: +32 bytes per session (size.rs)"
)]
fn pump<'a, R: AsyncRead + Unpin + Send>(
    handler: &'a mut dyn DynHandler,
    link: &'a Link,
    io: &'a mut SessionIo<R>,
) -> impl Future<Output = Reason> + Send + 'a {
    async move {
        let mut burst = Burst::new();
        loop {
            // Boxed (once, when the session ends): held across the last
            // delivery, the 32-byte reason would take room in every
            // session's future for its whole life.
            let end = next_burst(io, &mut burst).await.map(Box::new);
            if !burst.is_empty() {
                let delivered = deliver(handler, &mut burst, link, io).await;
                burst.clear();
                if let Err(reason) = handled(delivered) {
                    return reason;
                }
            }
            if let Some(reason) = end {
                return *reason;
            }
        }
    }
}

/// Fills `burst` with the frames that arrived (replies go to their
/// requests), waiting only while it is empty; resolves with the reason if
/// the session must end (after the burst is delivered, as it would have
/// been after the same frames one at a time).
///
/// Frames already buffered go straight into the burst; only when none is
/// left does the session wait on everything else, having released a
/// burst's large buffer first (only if the wait would block: a busy
/// session keeps it from burst to burst).
fn next_burst<'a, R: AsyncRead + Unpin>(
    io: &'a mut SessionIo<R>,
    burst: &'a mut Burst,
) -> impl Future<Output = Option<Reason>> + 'a {
    // The stop was checked (without a waker) for this wait; the burst's
    // room was released for it.
    let mut checked = false;
    let mut released = false;
    // A reply read in this poll completed its request: the requester it
    // woke runs before this task reads again (see below).
    let mut answered = false;
    poll_fn(move |cx| {
        loop {
            if let Some(reason) = io.take_buffered(burst) {
                return Poll::Ready(Some(reason));
            }
            if !Burst::is_empty(burst) {
                return Poll::Ready(None);
            }
            if std::mem::take(&mut answered) {
                // Yield: the task woken by its reply (queued before this
                // one) sends its next request before this task polls the
                // socket again. That poll only finds it empty and registers
                // for the next bytes, so made now it would delay every
                // requester waiting on its reply; made after, it overlaps
                // the peer's work on the request.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if !std::mem::replace(&mut checked, true)
                && let Some(reason) = io.before_wait()
            {
                return Poll::Ready(Some(reason));
            }
            match io.poll_step(cx, true) {
                Poll::Ready(Step::Frame(frame)) => {
                    (checked, released) = (false, false);
                    match io
                        .shared
                        .complete(frame, io.reader.codec().layout().replies())
                    {
                        Some(frame) => burst.push(frame),
                        None => answered = true,
                    }
                }
                Poll::Ready(Step::End(reason)) => return Poll::Ready(Some(reason)),
                Poll::Pending => {
                    if !std::mem::replace(&mut released, true) && burst.capacity() > SMALL_BURST {
                        *burst = Burst::new();
                    }
                    // Bytes of a frame not whole yet: counted now, so a
                    // peer that trickles a frame (or stops inside one)
                    // shows in `bytes_in` while it does (a no-op when the
                    // wait read nothing).
                    io.publish_counts();
                    return Poll::Pending;
                }
            }
        }
    })
}

/// Runs `on_connect` while reading: replies complete their requests (so the
/// handshake may use `request`), other frames wait in `early`.
async fn handshake<R: AsyncRead + Unpin>(
    handler: &mut dyn DynHandler,
    link: &Link,
    io: &mut SessionIo<R>,
    early: &mut VecDeque<Frame>,
) -> Result<(), Reason> {
    let mut on_connect = pin!(AssertUnwindSafe(handler.on_connect(link)).catch_unwind());
    let done = poll_fn(|cx| {
        loop {
            if let Poll::Ready(done) = on_connect.as_mut().poll(cx) {
                return Poll::Ready(Ok(done));
            }
            io.publish_counts();
            let read = early.len() < EARLY_LIMIT;
            match ready!(io.poll_step(cx, read)) {
                Step::Frame(frame) => {
                    if let Some(frame) = io
                        .shared
                        .complete(frame, io.reader.codec().layout().replies())
                    {
                        early.push_back(frame);
                    }
                }
                Step::End(reason) => return Poll::Ready(Err(reason)),
            }
        }
    })
    .await?;
    match done {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Reason::HandshakeFailed(error.to_string())),
        Err(panic) => Err(Reason::HandlerPanic(format!(
            "in on_connect: {}",
            panic_message(&*panic)
        ))),
    }
}

/// What `on_frames` returned or how it panicked; or why it was interrupted.
type Delivered = Result<std::thread::Result<Result<(), HandlerError>>, Reason>;

/// Gives a burst to `on_frames`. A stop or a failed writer interrupts it
/// (the handler's future is dropped), so a handler waiting for a send
/// cannot hold the session open. The caller clears the burst afterwards
/// (frames the handler left are dropped) and reads the result with
/// [`handled`].
///
/// A plain future over the handler's: most handlers finish at their first
/// poll, and the stop and the writer are polled only while one is pending.
fn deliver<'a, R: AsyncRead + Unpin>(
    handler: &'a mut dyn DynHandler,
    burst: &'a mut Burst,
    link: &'a Link,
    io: &'a mut SessionIo<R>,
) -> impl Future<Output = Delivered> + 'a {
    let mut on_frames = AssertUnwindSafe(handler.on_frames(burst, link)).catch_unwind();
    poll_fn(move |cx| {
        if let Poll::Ready(done) = Pin::new(&mut on_frames).poll(cx) {
            return Poll::Ready(Ok(done));
        }
        io.poll_interrupted(cx).map(Err)
    })
}

/// The session's reason to end, if a delivery ends it.
fn handled(delivered: Delivered) -> Result<(), Reason> {
    match delivered? {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Reason::Handler(error.to_string())),
        Err(panic) => Err(Reason::HandlerPanic(format!(
            "while handling frames: {}",
            panic_message(&*panic)
        ))),
    }
}

/// Runs `on_disconnect`; a panic in it is caught and logged.
pub(crate) async fn disconnect(handler: &mut dyn DynHandler, reason: &Reason) {
    let done = AssertUnwindSafe(handler.on_disconnect(reason))
        .catch_unwind()
        .await;
    if let Err(panic) = done {
        tracing::error!(
            panic = %panic_message(&*panic),
            "on_disconnect panicked; the session ends anyway"
        );
    }
}

/// The text of a panic's payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
