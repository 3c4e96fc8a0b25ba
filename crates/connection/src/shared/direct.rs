//! Direct writes: a send that finds the session's writer idle writes its
//! own frame, instead of queuing it and waking the writer's task.
//!
//! Why: a request's round trip crossed three tasks (the requester, the
//! writer, the session that reads the reply) where plain tokio uses one;
//! waking the writer and polling it was a third of the work per request.
//!
//! How the guarantees of the send path are kept:
//! - Whole frames, in order: the writer lends its [`Pen`] (the write half,
//!   the codec, the buffer) only while it has nothing to write, and a send
//!   borrows it only while up with both queues empty, taking it out of the
//!   queue under the queue's lock. While it is out, every other send is
//!   queued and wakes the writer, which waits for the pen to come back
//!   before it writes anything. A send never holds the pen across an
//!   `.await`: it encodes, tries the write once without waiting, and puts
//!   the pen back.
//! - A sender is told once its frame is written: a frame the socket took
//!   whole (and flushed) is acknowledged at once; one it took in part or
//!   not at all stays in the pen (its bytes left in the buffer, its sender
//!   in [`Pen::carry`]) and the writer finishes it before anything else, or
//!   fails it with `ConnectionLost`. A write error is kept in the pen for
//!   the writer, which ends the session with it as if it had met it.
//! - Graceful stops and `before_close`: the writer takes its pen back
//!   before it drains or ends, so it still hands the write half back to
//!   the session, which closes the stream whole. A session that ends
//!   without its writer (its future dropped) drops a lent pen in
//!   `Shared::end_session`.
//! - The writer lends nothing while it sends heartbeats: its clock of the
//!   last write would not see direct writes.
//!
//! A connection that never sends pays nothing: the pen is made with the
//! writer, on the first frame to write, and `Shared` keeps one pointer for
//! it in place of the stop cause's lock.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use linesman_ipc_codec::{Codec, CodecError, Frame};
use linesman_stream::Stream;
use tokio::io::{AsyncWrite, WriteHalf};
use tokio::sync::oneshot;
use tokio_util::codec::Encoder;

use super::{Outgoing, Phase, Shared, lock};
use crate::error::SendError;

/// A write buffer up to this capacity is kept between writes (as the
/// writer's); a larger one is released.
pub(crate) const KEEP_BUFFER: usize = 1024;

/// What the writer writes with, lent to senders while it is idle.
#[derive(Debug)]
pub(crate) struct Pen {
    pub(crate) half: WriteHalf<Stream>,
    pub(crate) codec: Codec,
    /// Encoded bytes not yet written: empty whenever the pen is lent, and
    /// when it comes back, the rest of [`carry`](Pen::carry)'s frame.
    pub(crate) buf: BytesMut,
    /// A frame a sender began writing and could not finish: the writer
    /// writes the rest (in `buf`) and flushes before anything else, then
    /// acknowledges it. Boxed: it is rare, and the pen lives as long as
    /// the writer (80 bytes inline, 8 boxed).
    pub(crate) carry: Option<Box<Outgoing>>,
    /// The error a sender's write met: the writer ends with it.
    pub(crate) failed: Option<std::io::Error>,
}

impl Pen {
    pub(crate) fn new(half: WriteHalf<Stream>, codec: Codec) -> Pen {
        Pen {
            half,
            codec,
            buf: BytesMut::new(),
            carry: None,
            failed: None,
        }
    }
}

/// A frame accepted for sending.
#[derive(Debug)]
pub(crate) enum Enqueued {
    /// Written whole and flushed already (a direct write).
    Written,
    /// Queued (or begun and left to the writer): the answer comes once it
    /// is written.
    Queued(oneshot::Receiver<Result<(), SendError>>),
}

/// A pen a sender borrowed in session `epoch`: given back when dropped.
struct Borrowed<'a> {
    shared: &'a Shared,
    pen: Option<Box<Pen>>,
    epoch: u32,
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        if let Some(pen) = self.pen.take() {
            self.shared.give_back(pen, self.epoch);
        }
    }
}

#[cfg(test)]
impl Enqueued {
    /// The answer so far, as `oneshot::Receiver::try_recv` gives it.
    pub(crate) fn try_recv(
        &mut self,
    ) -> Result<Result<(), SendError>, oneshot::error::TryRecvError> {
        match self {
            Enqueued::Written => Ok(Ok(())),
            Enqueued::Queued(answer) => answer.try_recv(),
        }
    }
}

impl Shared {
    /// Writes `frame` with the writer's pen if it is lent and nothing is
    /// queued, while up; gives the frame back otherwise. On `Ok`, the
    /// frame was written, refused by the codec, or left to the writer.
    pub(super) fn try_direct(
        &self,
        frame: Frame,
        request: Option<u64>,
    ) -> Result<Result<Enqueued, SendError>, Frame> {
        let (pen, epoch) = {
            let mut queue = lock(&self.queue);
            if queue.phase != Phase::Up || !queue.main.is_empty() || !queue.handshake.is_empty() {
                return Err(frame);
            }
            // A pen given back with a frame to finish (or an error) is
            // the writer's until it has done so.
            match queue
                .lent
                .take_if(|pen| pen.carry.is_none() && pen.failed.is_none())
            {
                Some(pen) => (pen, queue.epoch),
                None => return Err(frame),
            }
        };
        // Given back however this returns, a panic included: the writer
        // waits for it.
        let mut borrowed = Borrowed {
            shared: self,
            pen: Some(pen),
            epoch,
        };
        let Some(pen) = borrowed.pen.as_deref_mut() else {
            return Err(frame);
        };
        if let Err(refused) = pen.codec.encode(&frame, &mut pen.buf) {
            pen.buf.clear();
            let error = match refused {
                CodecError::Io(error) => SendError::Encode(error.to_string()),
                other => SendError::Encode(other.to_string()),
            };
            return Ok(Err(error));
        }
        let len = pen.buf.len();
        let mut cx = Context::from_waker(Waker::noop());
        let mut written = 0;
        while written < len {
            match Pin::new(&mut pen.half).poll_write(&mut cx, &pen.buf[written..]) {
                Poll::Ready(Ok(0)) => {
                    pen.failed = Some(std::io::ErrorKind::WriteZero.into());
                    break;
                }
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(error)) => {
                    pen.failed = Some(error);
                    break;
                }
                Poll::Pending => break,
            }
        }
        let flushed = written == len
            && pen.failed.is_none()
            && match Pin::new(&mut pen.half).poll_flush(&mut cx) {
                Poll::Ready(Ok(())) => true,
                Poll::Ready(Err(error)) => {
                    pen.failed = Some(error);
                    false
                }
                Poll::Pending => false,
            };
        if flushed {
            if pen.buf.capacity() > KEEP_BUFFER {
                pen.buf = BytesMut::new();
            } else {
                pen.buf.clear();
            }
            let counters = &self.counters;
            counters.frames_out.fetch_add(1, Ordering::Relaxed);
            counters.bytes_out.fetch_add(len as u64, Ordering::Relaxed);
            return Ok(Ok(Enqueued::Written));
        }
        // Left to the writer: the rest of the bytes, then the flush, or the
        // error it met.
        pen.buf.advance(written);
        let (ack, answer) = oneshot::channel();
        pen.carry = Some(Box::new(Outgoing {
            frame,
            ack,
            request,
        }));
        Ok(Ok(Enqueued::Queued(answer)))
    }

    /// Puts a borrowed pen back, waking the writer if it waits for it or
    /// has a frame to finish; drops it if its session (`epoch`) ended
    /// meanwhile (its frame, if any, is then lost: `ConnectionLost`),
    /// still waking a writer that waits for it: its `reclaim` then ends
    /// with `None` instead of waiting for ever. (The lending state may be
    /// the next session's by then: it is left alone.)
    fn give_back(&self, pen: Box<Pen>, epoch: u32) {
        let mut queue = lock(&self.queue);
        if !queue.lending || epoch != queue.epoch {
            drop(queue);
            drop(pen);
            self.wake.notify_one();
            return;
        }
        let wake = std::mem::take(&mut queue.writer_waits) || pen.carry.is_some();
        queue.lent = Some(pen);
        drop(queue);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Lends the writer's pen, if nothing is queued that it may write:
    /// returns it otherwise (then the writer writes).
    pub(crate) fn lend(&self, pen: Box<Pen>, epoch: u32) -> Option<Box<Pen>> {
        let mut queue = lock(&self.queue);
        // A writer that outlived its session `epoch` (its future dropped)
        // lends nothing to the next one.
        if epoch != queue.epoch {
            return Some(pen);
        }
        let writable = !queue.handshake.is_empty()
            || (!queue.main.is_empty()
                && matches!(queue.phase, Phase::Up | Phase::Draining | Phase::Closed));
        if writable {
            return Some(pen);
        }
        queue.lent = Some(pen);
        queue.lending = true;
        queue.writer_waits = false;
        None
    }

    /// Takes the writer's pen back, waiting while a sender has it; `None`
    /// if the session ended without the writer and dropped it.
    pub(crate) async fn reclaim(&self, epoch: u32) -> Option<Box<Pen>> {
        loop {
            {
                let mut queue = lock(&self.queue);
                // A lent pen is the running session's (the end of a
                // session drops the one it finds): not this writer's if
                // its session has ended.
                if queue.epoch != epoch {
                    return None;
                }
                if let Some(pen) = queue.lent.take() {
                    queue.lending = false;
                    queue.writer_waits = false;
                    return Some(pen);
                }
                if !queue.lending {
                    return None;
                }
                queue.writer_waits = true;
            }
            // The sender holds the pen only while it writes, without an
            // `.await`: it wakes this wait when it puts the pen back.
            self.wake.notified().await;
        }
    }

    /// Takes a lent pen out for good: the session ends without its writer.
    pub(super) fn drop_lent(queue: &mut super::Queue) -> Option<Box<Pen>> {
        queue.lending = false;
        queue.lent.take()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_util::FutureExt;
    use linesman_ipc_codec::Codec;
    use linesman_observer::Bus;
    use linesman_stream::{SocketHooks, Stream};

    use super::Pen;
    use crate::shared::{Shared, lock};
    use crate::spec::Target;

    #[tokio::test]
    async fn a_writer_waiting_for_a_pen_its_session_dropped_is_told() {
        let bus = Bus::default();
        let endpoint = "unix:///nowhere.sock".parse().expect("an endpoint");
        let shared = Arc::new(Shared::new(
            bus.publisher("pen"),
            None,
            Target::Endpoint(endpoint),
        ));
        let (ours, _theirs) = tokio::net::UnixStream::pair().expect("a pair");
        let endpoint = "unix:///nowhere.sock".parse().expect("an endpoint");
        let stream = Stream::from_unix(ours, endpoint, SocketHooks::default());
        let (_read, half) = tokio::io::split(stream);
        assert!(
            shared
                .lend(Box::new(Pen::new(half, Codec::default())), 0)
                .is_none(),
            "nothing queued: the writer lends its pen"
        );
        // A sender borrows it, as `try_direct` does.
        let borrowed = lock(&shared.queue).lent.take().expect("the pen is lent");
        // The writer, woken (an abort), waits for it to come back.
        let mut reclaim = Box::pin(shared.reclaim(0));
        assert!((&mut reclaim).now_or_never().is_none());
        // The session ends without its writer (its future dropped), then
        // the sender puts the pen back: it is dropped.
        Shared::drop_lent(&mut lock(&shared.queue));
        shared.give_back(borrowed, 0);
        // The writer must learn that its pen is gone, or its task waits
        // for ever, holding the connection's shared state.
        assert!(
            matches!((&mut reclaim).now_or_never(), Some(None)),
            "the writer was woken and told its pen is gone"
        );
    }
}
