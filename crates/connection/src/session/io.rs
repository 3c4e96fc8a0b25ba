//! The receiving side of a session: reading frames (counted by
//! [`Tracked`]), and
//! [`SessionIo::poll_step`], which polls for the next thing that happens — a
//! frame, a stop or finish, the writer failing, the idle timeout, or the
//! frame timeout.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use linesman_ipc_codec::{Codec, CodecError, Frame};
use linesman_stream::Stream;
use tokio::io::{AsyncRead, WriteHalf};
use tokio::time::{Instant, Sleep, sleep_until};

use super::read::FrameReader;
use super::tracked::Tracked;
use super::writer::{self, WriterTask};
use crate::FAR_FUTURE;
use crate::handler::Burst;
use crate::reason::Reason;
use crate::shared::{Phase, Shared};

/// The writer of the session, if it has one (a blocking source has none).
#[derive(Debug)]
pub(crate) enum WriterSlot {
    None,
    /// Not started yet: nothing has been queued for writing this session
    /// (and there is no heartbeat). The writer task starts on the first
    /// frame to write, so a connection that only receives never has one.
    /// The writer's codec is the reader's, copied when the writer starts;
    /// the write timeout is kept here for it.
    Idle(WriteHalf<Stream>, Option<Duration>),
    Running(WriterTask),
    /// It ended; its write half, unless its task failed.
    Exited(Option<WriteHalf<Stream>>),
}

impl WriterSlot {
    /// Starts the writer task if it has not started yet.
    fn start(&mut self, shared: &Arc<Shared>, codec: &Codec) {
        if !matches!(self, WriterSlot::Idle(..)) {
            return;
        }
        if let WriterSlot::Idle(half, write_timeout) = std::mem::replace(self, WriterSlot::None) {
            shared.writer_started();
            *self = WriterSlot::Running(writer::spawn(
                half,
                codec.clone(),
                Arc::clone(shared),
                None,
                write_timeout,
            ));
        }
    }

    /// Ready when the writer ends by itself, with why; pending otherwise.
    /// An idle writer is started here as soon as a frame is queued, so a
    /// handler that sends and waits for its frame to be written is never
    /// stuck while the session polls this.
    fn poll_failed(
        &mut self,
        cx: &mut Context<'_>,
        shared: &Arc<Shared>,
        codec: &Codec,
    ) -> Poll<Reason> {
        if matches!(self, WriterSlot::Idle(..)) {
            ready!(shared.poll_queued(cx));
            self.start(shared, codec);
        }
        let WriterSlot::Running(task) = self else {
            return Poll::Pending;
        };
        let joined = ready!(Pin::new(&mut task.handle).poll(cx));
        let (half, reason) = match joined {
            Ok(exit) => (exit.half, exit.result.err()),
            Err(error) => (
                None,
                Some(Reason::Io(format!("the writer task failed: {error}"))),
            ),
        };
        *self = WriterSlot::Exited(half);
        match reason {
            Some(reason) => Poll::Ready(reason),
            None => Poll::Pending,
        }
    }

    /// Ends the writer: a graceful end writes up to the frames queued now
    /// within `drain`; anything else aborts at once. Returns the write
    /// half, and why the writer failed if it did (a write that had already
    /// failed when the abort came still reports its error).
    pub(crate) async fn finish(
        mut self,
        shared: &Arc<Shared>,
        codec: &Codec,
        graceful: bool,
        drain: Duration,
    ) -> (Option<WriteHalf<Stream>>, Option<Reason>) {
        if graceful {
            // New sends now go to the outbox or fail; what is queued at
            // this moment is written.
            shared.set_phase(Phase::Draining);
            if shared.queued() > 0 {
                self.start(shared, codec);
            }
        }
        let exited = |joined: Result<writer::Exit, tokio::task::JoinError>| match joined {
            Ok(exit) => (exit.half, exit.result.err()),
            Err(error) => (
                None,
                Some(Reason::Io(format!("the writer task failed: {error}"))),
            ),
        };
        match self {
            WriterSlot::None => (None, None),
            WriterSlot::Idle(half, _) => (Some(half), None),
            WriterSlot::Exited(half) => (half, None),
            WriterSlot::Running(mut task) => {
                if graceful {
                    task.control.drain(shared.queued());
                    if let Ok(joined) = tokio::time::timeout(drain, &mut task.handle).await {
                        return exited(joined);
                    }
                    tracing::debug!("drain timed out; frames not yet written stay queued");
                }
                task.control.abort();
                exited((&mut task.handle).await)
            }
        }
    }
}

impl FrameTimer {
    /// Ready with the timeout once the frame begun in the buffer has waited
    /// for its rest too long. `in_frame`: part of a frame is buffered now.
    fn poll(&mut self, cx: &mut Context<'_>, in_frame: bool) -> Poll<Duration> {
        if !in_frame {
            self.armed = false;
            return Poll::Pending;
        }
        if !self.armed {
            self.armed = true;
            self.sleep.as_mut().reset(Instant::now() + self.after);
        }
        self.sleep.as_mut().poll(cx).map(|()| self.after)
    }
}

/// What happened next in a session.
pub(crate) enum Step {
    /// A frame arrived.
    Frame(Frame),
    /// The session must end.
    End(Reason),
}

/// The idle timeout of a session: one timer, armed once and moved only when
/// it fires before the deadline (bytes came meanwhile), so the frame path
/// never touches it.
struct Idle {
    after: Duration,
    sleep: Pin<Box<Sleep>>,
}

/// The frame timeout of a session: armed when the session waits with part
/// of a frame buffered, disarmed when a frame is read whole, so a frame
/// that arrives in one read never touches it. Boxed in the session (it is
/// opt-in), its timer made with it.
struct FrameTimer {
    after: Duration,
    armed: bool,
    sleep: Pin<Box<Sleep>>,
}

/// The receiving side of one session.
pub(crate) struct SessionIo<R> {
    pub(crate) reader: FrameReader<Tracked<R>>,
    pub(crate) writer: WriterSlot,
    pub(crate) shared: Arc<Shared>,
    idle: Option<Idle>,
    frame: Option<Box<FrameTimer>>,
    /// Frames received and not yet added to the shared counters: they are
    /// published once per burst (before every wait and at the end), not
    /// with an atomic operation per frame. The bytes are counted per read,
    /// by the [`Tracked`] reader.
    frames_in: u64,
}

impl<R: AsyncRead + Unpin> SessionIo<R> {
    pub(crate) fn new(
        reader: R,
        codec: Codec,
        writer: WriterSlot,
        shared: Arc<Shared>,
        idle: Option<Duration>,
        frame: Option<Duration>,
    ) -> SessionIo<R> {
        let reader = Tracked::new(reader, idle.is_some());
        // Added to the clock below and at every re-arm: a "never" given as
        // `Duration::MAX` must not overflow it.
        let (idle, frame) = (
            idle.map(|d| d.min(FAR_FUTURE)),
            frame.map(|d| d.min(FAR_FUTURE)),
        );
        let idle = idle.map(|after| Idle {
            after,
            sleep: Box::pin(sleep_until(reader.last_rx + after)),
        });
        let frame = frame.map(|after| {
            Box::new(FrameTimer {
                after,
                armed: false,
                sleep: Box::pin(sleep_until(reader.last_rx + after)),
            })
        });
        SessionIo {
            reader: FrameReader::new(reader, codec),
            writer,
            shared,
            idle,
            frame,
            frames_in: 0,
        }
    }

    /// Adds the frames and bytes received since the last call to the
    /// shared counters. Called before every wait and when the session ends,
    /// so a reader of the counters sees them at most one burst late.
    pub(crate) fn publish_counts(&mut self) {
        let bytes = self.reader.get_mut().take_bytes();
        let counters = &self.shared.counters;
        if self.frames_in > 0 {
            counters
                .frames_in
                .fetch_add(std::mem::take(&mut self.frames_in), Ordering::Relaxed);
        }
        if bytes > 0 {
            counters.bytes_in.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Moves the frames already read and buffered into `burst`, until it
    /// holds [`Burst::MAX`], without waiting; replies go to their requests
    /// instead. Returns why the session must end if that is found (a stop,
    /// a malformed frame); the frames taken before it stay in the burst.
    ///
    /// The stop is checked once per call (an atomic load), so a peer that
    /// floods frames delays a stop by at most one burst. One tight loop:
    /// this is the path of every frame of a busy session.
    pub(crate) fn take_buffered(&mut self, burst: &mut Burst) -> Option<Reason> {
        if let Some(reason) = self.shared.end_requested() {
            return Some(reason);
        }
        while burst.len() < Burst::MAX {
            match self.reader.buffered()? {
                Ok(frame) => {
                    self.frames_in += 1;
                    if let Some(frame) = self
                        .shared
                        .complete(frame, self.reader.codec().layout().replies())
                    {
                        burst.push(frame);
                    }
                }
                Err(error) => return Some(Reason::from_codec(error)),
            }
        }
        None
    }

    /// What to do before waiting in [`poll_step`](Self::poll_step): adds
    /// the counts to the shared counters and checks for a stop or finish
    /// (without registering a waker).
    pub(crate) fn before_wait(&mut self) -> Option<Reason> {
        self.publish_counts();
        self.shared.end_requested()
    }

    /// Polls for the next frame or the end of the session, in this order:
    /// a frame, a stop or finish, the writer failing, the idle timeout, the
    /// frame timeout. With `read` false, no frame is read (and so neither
    /// timeout runs): only a stop, a finish or a failed writer ends the
    /// wait.
    ///
    /// A poll, not an `async fn`: every future a wait would build (the
    /// stop's, the writer's, the timer's) would take room in the session's
    /// future for its whole life. The stop is a flag in `Shared` with a
    /// waker, not a future.
    pub(crate) fn poll_step(&mut self, cx: &mut Context<'_>, read: bool) -> Poll<Step> {
        if !read {
            return self.poll_interrupted(cx).map(Step::End);
        }
        if let Poll::Ready(item) = self.reader.poll_next(cx) {
            if let Some(frame) = &mut self.frame {
                frame.armed = false;
            }
            return Poll::Ready(self.received(item));
        }
        if let Poll::Ready(reason) = self.poll_interrupted(cx) {
            return Poll::Ready(Step::End(reason));
        }
        if let Some(frame) = &mut self.frame
            && let Poll::Ready(after) = frame.poll(cx, self.reader.in_frame())
        {
            return Poll::Ready(Step::End(Reason::FrameTimeout { after }));
        }
        if let Some(idle) = &mut self.idle {
            while idle.sleep.as_mut().poll(cx).is_ready() {
                // Bytes may have arrived since the timer was armed.
                let due = self.reader.get_ref().last_rx + idle.after;
                if due <= Instant::now() {
                    return Poll::Ready(Step::End(Reason::IdleTimeout { after: idle.after }));
                }
                idle.sleep.as_mut().reset(due);
            }
        }
        Poll::Pending
    }

    /// Polls for a stop, a finish or a failed writer only: what may
    /// interrupt a handler.
    pub(crate) fn poll_interrupted(&mut self, cx: &mut Context<'_>) -> Poll<Reason> {
        if let Poll::Ready(reason) = self.shared.poll_end(cx) {
            return Poll::Ready(reason);
        }
        self.writer
            .poll_failed(cx, &self.shared, self.reader.codec())
    }

    fn received(&mut self, item: Option<Result<Frame, CodecError>>) -> Step {
        match item {
            None => Step::End(Reason::PeerClosed),
            Some(Err(error)) => Step::End(Reason::from_codec(error)),
            Some(Ok(frame)) => {
                self.frames_in += 1;
                Step::Frame(frame)
            }
        }
    }
}
