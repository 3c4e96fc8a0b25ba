//! One session from connected to its end: the handshake (`on_connect`,
//! with replies to its requests delivered meanwhile), the announcement that
//! the connection is up, then the frames, a burst at a time (every frame
//! already decoded, up to `Burst::MAX`), to `on_frames` until something
//! ends the session. Handler errors and panics become the session's reason.

use std::any::Any;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;

use futures_util::FutureExt;
use linesman_ipc_codec::Frame;
use linesman_observer::Connected;
use tokio::io::AsyncRead;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::io::{SessionIo, Step};
use crate::handle::{ConnectionHandle, Link};
use crate::handler::{Burst, DynHandler};
use crate::reason::Reason;
use crate::shared::{Phase, Shared};

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
pub(crate) async fn drive<R: AsyncRead + Unpin>(
    handler: &mut dyn DynHandler,
    shared: &Arc<Shared>,
    io: &mut SessionIo<R>,
    stop: &CancellationToken,
    peer: String,
    connect_permit: Option<OwnedSemaphorePermit>,
) -> Run {
    let link = Link::new(ConnectionHandle::new(Arc::clone(shared)));
    shared.set_phase(Phase::Handshake);
    let mut early = VecDeque::new();
    // Boxed: the handshake's future lives only until the session is up;
    // unboxed it would size the future of every session for its whole life.
    let handshaken = Box::pin(handshake(handler, &link, io, stop, &mut early)).await;
    // The connect is over, one way or the other.
    drop(connect_permit);
    if let Err(reason) = handshaken {
        return Run {
            reason,
            up_since: None,
        };
    }
    shared.set_phase(Phase::Up);
    shared.counters.sessions.fetch_add(1, Ordering::Relaxed);
    let up_since = Some(Instant::now());
    shared.publish(Connected { peer });
    tracing::info!("up");
    let mut burst = Burst::new();
    while !early.is_empty() {
        let take = early.len().min(Burst::MAX);
        for frame in early.drain(..take) {
            burst.push(frame);
        }
        if let Err(reason) = deliver(handler, &mut burst, &link, io, stop).await {
            return Run { reason, up_since };
        }
    }
    drop(early);
    loop {
        // Frames already buffered go straight into the burst; only when
        // none is left does the session wait on everything else (having
        // released a burst's large buffer first).
        let step = match io.ready(stop) {
            Some(step) => step,
            None => {
                // The burst's room is released only if the wait would
                // block: a busy session keeps it from burst to burst. One
                // await: a wait future held across two would take a slot
                // of its own for the whole session.
                let mut step = std::pin::pin!(io.step(stop, true));
                let mut first = true;
                poll_fn(|cx| {
                    let polled = step.as_mut().poll(cx);
                    if polled.is_pending()
                        && std::mem::take(&mut first)
                        && burst.capacity() > SMALL_BURST
                    {
                        burst = Burst::new();
                    }
                    polled
                })
                .await
            }
        };
        let mut end = match step {
            Step::Frame(frame) => {
                if let Some(frame) = shared.complete(frame) {
                    burst.push(frame);
                }
                None
            }
            Step::End(reason) => Some(reason),
        };
        // The rest of what is already decoded joins the burst; an end
        // found here comes after the burst is delivered, as it would have
        // after the same frames one at a time.
        while end.is_none() && burst.len() < Burst::MAX {
            match io.ready(stop) {
                None => break,
                Some(Step::Frame(frame)) => {
                    if let Some(frame) = shared.complete(frame) {
                        burst.push(frame);
                    }
                }
                Some(Step::End(reason)) => end = Some(reason),
            }
        }
        if !burst.is_empty()
            && let Err(reason) = deliver(handler, &mut burst, &link, io, stop).await
        {
            return Run { reason, up_since };
        }
        if let Some(reason) = end {
            return Run { reason, up_since };
        }
    }
}

/// Runs `on_connect` while reading: replies complete their requests (so the
/// handshake may use `request`), other frames wait in `early`.
async fn handshake<R: AsyncRead + Unpin>(
    handler: &mut dyn DynHandler,
    link: &Link,
    io: &mut SessionIo<R>,
    stop: &CancellationToken,
    early: &mut VecDeque<Frame>,
) -> Result<(), Reason> {
    let on_connect = AssertUnwindSafe(handler.on_connect(link)).catch_unwind();
    tokio::pin!(on_connect);
    loop {
        let read = early.len() < EARLY_LIMIT;
        tokio::select! {
            biased;
            done = &mut on_connect => {
                return match done {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(Reason::HandshakeFailed(error.to_string())),
                    Err(panic) => Err(Reason::HandlerPanic(format!(
                        "in on_connect: {}",
                        panic_message(&*panic)
                    ))),
                };
            }
            step = io.step(stop, read) => match step {
                Step::Frame(frame) => {
                    if let Some(frame) = io.shared.complete(frame) {
                        early.push_back(frame);
                    }
                }
                Step::End(reason) => return Err(reason),
            },
        }
    }
}

/// Gives a burst to `on_frames`; it is empty afterwards (frames the
/// handler left are dropped). A stop or a failed writer interrupts it (the
/// handler's future is dropped), so a handler waiting for a send cannot
/// hold the session open.
async fn deliver<R: AsyncRead + Unpin>(
    handler: &mut dyn DynHandler,
    burst: &mut Burst,
    link: &Link,
    io: &mut SessionIo<R>,
    stop: &CancellationToken,
) -> Result<(), Reason> {
    let result = {
        let mut on_frames = AssertUnwindSafe(handler.on_frames(burst, link)).catch_unwind();
        // Most handlers finish at their first poll: then nothing else is built.
        let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut on_frames).poll(cx))).await;
        match first {
            Poll::Ready(done) => Ok(done),
            // Boxed: only a handler that is still pending pays for the
            // wait, not the future of every session.
            Poll::Pending => {
                Box::pin(async {
                    tokio::select! {
                        biased;
                        done = on_frames => Ok(done),
                        reason = io.interrupted(stop) => Err(reason),
                    }
                })
                .await
            }
        }
    };
    burst.clear();
    match result? {
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
