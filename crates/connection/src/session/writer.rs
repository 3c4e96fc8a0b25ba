//! The writer task of a socket session: takes frames from the send queue,
//! writes them whole (encode, then flush) and only then tells each sender;
//! sends the heartbeat; on a graceful stop, writes what was queued.
//!
//! Why a task of its own and not a branch of the session's loop: a handler
//! that sends from `on_connect` or `on_frame` waits for its frame to be
//! written while the session is busy running that very handler, so writing
//! must make progress without the session's loop. The writer owns the write
//! half of the socket and gives it back when it ends, so the session can
//! close the whole stream explicitly.
//!
//! The task starts at once only for a heartbeat; otherwise the session
//! starts it when the first frame is queued (it watches the send queue
//! whenever it waits, including while a handler runs), so a connection that
//! only receives never pays for a second task. A send made while the
//! session is busy handing out frames it already holds starts the writer
//! when that burst is done.
//!
//! While it has nothing to write (and sends no heartbeat) the writer lends
//! its [`Pen`] to senders, which then write their frames themselves (see
//! `shared/direct.rs`); it takes the pen back whenever it is woken, before
//! it writes anything, so the order of frames and the end of the session
//! are as if it had written them.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use linesman_ipc_codec::{Codec, CodecError, Frame, FrameLayout};
use linesman_stream::Stream;
use tokio::io::{AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::codec::Encoder;

use crate::error::{RequestError, SendError};
use crate::reason::Reason;
use crate::shared::{KEEP_BUFFER, Outgoing, Pen, Phase, Shared};
use crate::spec::Heartbeat;

mod control;

pub(crate) use control::Control;
use control::{ABORT, DRAIN, abortable};

/// Frames encoded before one flush: one write for a burst of small frames.
const BATCH: usize = 64;
/// Buffered bytes past which the buffer is written before encoding more.
const BACKPRESSURE: usize = 8 * 1024;

/// What the writer gives back: the write half (unless the session ended
/// without the writer while its pen was lent, which dropped it), and why
/// it ended.
#[derive(Debug)]
pub(crate) struct Exit {
    pub(crate) half: Option<WriteHalf<Stream>>,
    /// `Ok` when told to end; the failure otherwise.
    pub(crate) result: Result<(), Reason>,
}

/// The running writer of one session. Dropping it (a session future
/// dropped half-way) aborts the writer, which then drops its half of the
/// stream: the stream closes, `before_close` first.
#[derive(Debug)]
pub(crate) struct WriterTask {
    pub(crate) handle: JoinHandle<Exit>,
    pub(crate) control: Arc<Control>,
}

impl Drop for WriterTask {
    fn drop(&mut self) {
        self.control.abort();
    }
}

/// Starts the writer of one session on its own task.
pub(crate) fn spawn(
    half: WriteHalf<Stream>,
    codec: Codec,
    shared: Arc<Shared>,
    heartbeat: Option<Heartbeat>,
    write_timeout: Option<Duration>,
) -> WriterTask {
    let epoch = shared.session_epoch();
    let control = Arc::new(Control::new(shared));
    let writer = Writer {
        layout: codec.layout(),
        pen: Some(Box::new(Pen::new(half, codec))),
        epoch,
        heartbeat,
        write_timeout,
        control: Arc::clone(&control),
        batch: Vec::new(),
        written: 0,
    };
    WriterTask {
        handle: tokio::spawn(writer.run()),
        control,
    }
}

struct Writer {
    /// The write half, the codec and the encoded bytes not yet written
    /// (a buffer released once flushed if it grew past [`KEEP_BUFFER`]);
    /// `None` while lent to senders.
    pen: Option<Box<Pen>>,
    layout: FrameLayout,
    heartbeat: Option<Heartbeat>,
    /// How long one write may make no progress.
    write_timeout: Option<Duration>,
    /// Also the connection's shared state (`control.shared`).
    control: Arc<Control>,
    /// The session this writer writes for (`Shared::session_epoch`).
    epoch: u32,
    /// Frames taken from the queue and not yet written.
    batch: Vec<Outgoing>,
    /// Bytes of the batch being written that the socket has taken: the
    /// frames they cover whole are written, whatever happens next.
    written: usize,
}

impl Writer {
    async fn run(mut self) -> Exit {
        let result = self.work().await;
        // A write that failed or was aborted half-way: the frames the socket
        // took whole are written; dropping the ack of every other frame
        // tells its sender `ConnectionLost` (it never reached the peer whole).
        self.ack_written();
        self.batch.clear();
        if self.pen.is_none() {
            self.pen = self.control.shared.reclaim(self.epoch).await;
        }
        // The writers of a connection share one wake-up, and one that
        // outlived its session can be the one a send of the next session
        // wakes (it began to wait just after the abort that ended it). It
        // ends here without using it: pass it on. The next writer, if none
        // was meant, wakes once, finds nothing, and waits again.
        self.control.shared.wake_writer();
        // A frame a sender began and the writer did not finish: lost too.
        Exit {
            half: self.pen.map(|pen| pen.half),
            result,
        }
    }

    /// Takes the pen back if it is lent, then finishes the frame a sender
    /// left in it, or fails with the error the sender's write met. `false`:
    /// the session ended without this writer (the pen was dropped).
    async fn hold_pen(&mut self, control: &Control) -> Result<bool, Reason> {
        if self.pen.is_none() {
            self.pen = self.control.shared.reclaim(self.epoch).await;
        }
        let Some(pen) = self.pen.as_deref_mut() else {
            return Ok(false);
        };
        if let Some(error) = pen.failed.take() {
            pen.carry = None;
            pen.buf.clear();
            return Err(self.write_failed(&error));
        }
        if pen.carry.is_none() {
            return Ok(true);
        }
        self.written = 0;
        let Some(result) = abortable(control, self.flush()).await else {
            return Ok(false);
        };
        if let Err(error) = result {
            return Err(self.write_failed(&error));
        }
        if let Some(item) = self.pen.as_deref_mut().and_then(|pen| pen.carry.take()) {
            let counters = &self.control.shared.counters;
            counters.frames_out.fetch_add(1, Ordering::Relaxed);
            counters
                .bytes_out
                .fetch_add(self.encoded_len(&item.frame), Ordering::Relaxed);
            let _ = item.ack.send(Ok(()));
        }
        Ok(true)
    }

    /// Moves the frames to write into the batch; when there are none,
    /// lends the pen (unless heartbeats need the writer's clock) and waits
    /// for a wake-up: a send, a phase change, the control, or a sender
    /// giving the pen back with a frame to finish. The batch may be empty
    /// on return; the pen is taken back at the top of the loop.
    async fn next_batch(&mut self) {
        let shared = &self.control.shared;
        shared.take_in(self.epoch, BATCH, &mut self.batch);
        if !self.batch.is_empty() {
            return;
        }
        if self.heartbeat.is_none()
            && let Some(pen) = self.pen.take()
        {
            self.pen = shared.lend(pen, self.epoch);
            if self.pen.is_some() {
                // Something was queued meanwhile: write it.
                return;
            }
        }
        // `notify_one` stores a permit when nobody waits, so a frame
        // enqueued between `take` and here is not missed.
        shared.writer_woken().await;
    }

    async fn work(&mut self) -> Result<(), Reason> {
        let control = Arc::clone(&self.control);
        let mut last_sent = Instant::now();
        loop {
            if !self.hold_pen(&control).await? {
                return Ok(());
            }
            match control.state() {
                ABORT => return Ok(()),
                DRAIN => return self.drain(&control).await,
                _ => {}
            }
            let beat = match self.heartbeat {
                Some(beat) if self.control.shared.phase() == Phase::Up => Some(beat),
                _ => None,
            };
            let due = beat.map(|b| last_sent + b.interval);
            // Woken by a send, a phase change or the control: the loop
            // reads the control state again either way.
            tokio::select! {
                biased;
                () = self.next_batch() => {}
                () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    if let Some(beat) = beat {
                        let Some(result) = abortable(&control, self.heartbeat(beat)).await else {
                            return Ok(());
                        };
                        result?;
                        last_sent = Instant::now();
                    }
                    continue;
                }
            }
            if self.batch.is_empty() || self.pen.is_none() || control.state() == ABORT {
                continue;
            }
            let Some(result) = abortable(&control, self.write_batch()).await else {
                return Ok(());
            };
            result?;
            if self.heartbeat.is_some() {
                last_sent = Instant::now();
            }
        }
    }

    /// Writes up to the drain limit of queued frames, then ends.
    async fn drain(&mut self, control: &Control) -> Result<(), Reason> {
        let mut left = control.drain_limit.load(Ordering::Relaxed);
        while left > 0 {
            self.control
                .shared
                .take_in(self.epoch, left.min(BATCH), &mut self.batch);
            if self.batch.is_empty() {
                break;
            }
            left = left.saturating_sub(self.batch.len());
            let Some(result) = abortable(control, self.write_batch()).await else {
                return Ok(());
            };
            result?;
        }
        Ok(())
    }

    /// Encodes every frame of the batch, flushes, then acknowledges them. A
    /// frame the codec refuses is answered `Encode` and skipped; it wrote
    /// nothing. On an I/O error (or an abort) the frames the socket took
    /// whole are acknowledged and every other one fails with
    /// `ConnectionLost`: a frame reported lost never reached the peer whole.
    ///
    /// The batch stays in `self.batch` while it is written, so that an
    /// abort, which drops this future half-way, still finds it.
    async fn write_batch(&mut self) -> Result<(), Reason> {
        self.written = 0;
        let mut next = 0;
        while next < self.batch.len() {
            // As in `feed`, with the frame borrowed from the batch.
            let Some(pen) = self.pen.as_deref_mut() else {
                return Err(self.write_failed(&lent()));
            };
            if pen.buf.len() >= BACKPRESSURE {
                if let Err(error) = self.write_out().await {
                    return Err(self.write_failed(&error));
                }
                if let Some(pen) = self.pen.as_deref_mut() {
                    pen.buf.clear();
                }
                continue;
            }
            match pen.codec.encode(&self.batch[next].frame, &mut pen.buf) {
                Ok(()) => next += 1,
                Err(CodecError::Io(error)) => return Err(self.write_failed(&error)),
                Err(refused) => {
                    let item = self.batch.remove(next);
                    let error = SendError::Encode(refused.to_string());
                    if let Some(id) = item.request {
                        self.control
                            .shared
                            .fail_request(id, RequestError::Send(error.clone()));
                    }
                    let _ = item.ack.send(Err(error));
                }
            }
        }
        if self.batch.is_empty() {
            return Ok(());
        }
        if let Err(error) = self.flush().await {
            return Err(self.write_failed(&error));
        }
        self.ack_written();
        Ok(())
    }

    /// Acknowledges, in order, every frame of the batch whose bytes the
    /// socket has all taken, and counts them; the rest stay in the batch.
    fn ack_written(&mut self) {
        let mut end = 0;
        let mut whole = 0;
        for item in &self.batch {
            let len = self.layout.header_len(item.frame.id.is_some()) + item.frame.payload.len();
            if end + len > self.written {
                break;
            }
            end += len;
            whole += 1;
        }
        if whole == 0 {
            return;
        }
        let counters = &self.control.shared.counters;
        counters
            .frames_out
            .fetch_add(whole as u64, Ordering::Relaxed);
        counters.bytes_out.fetch_add(end as u64, Ordering::Relaxed);
        for item in self.batch.drain(..whole) {
            let _ = item.ack.send(Ok(()));
        }
        self.written -= end;
    }

    /// Writes one heartbeat frame: type `beat.ty`, no id, no payload.
    async fn heartbeat(&mut self, beat: Heartbeat) -> Result<(), Reason> {
        let frame = Frame::new(beat.ty, Bytes::new());
        let sent = match self.feed(&frame).await {
            Ok(()) => self.flush().await.map_err(CodecError::Io),
            Err(error) => Err(error),
        };
        match sent {
            Err(CodecError::Io(error)) if Stalled::is(&error) => {
                return Err(self.write_failed(&error));
            }
            Err(error) => return Err(Reason::HeartbeatFailed(error.to_string())),
            Ok(()) => {}
        }
        let counters = &self.control.shared.counters;
        counters.frames_out.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes_out
            .fetch_add(self.encoded_len(&frame), Ordering::Relaxed);
        Ok(())
    }

    /// Encodes `frame` after what is buffered, first writing the buffer out
    /// once it holds [`BACKPRESSURE`] bytes (as `FramedWrite` does). A frame
    /// the codec refuses adds nothing to the buffer.
    async fn feed(&mut self, frame: &Frame) -> Result<(), CodecError> {
        let buffered = self.pen.as_deref().map_or(0, |pen| pen.buf.len());
        if buffered >= BACKPRESSURE {
            self.write_out().await?;
        }
        let Some(pen) = self.pen.as_deref_mut() else {
            return Err(CodecError::Io(lent()));
        };
        if buffered >= BACKPRESSURE {
            pen.buf.clear();
        }
        pen.codec.encode(frame, &mut pen.buf)
    }

    /// Writes the whole buffer; a write that makes no progress for the
    /// write timeout fails with [`Stalled`]. Each write is tried once
    /// without a timer: one the socket takes at once (the common case)
    /// reads no clock and arms nothing.
    async fn write_out(&mut self) -> std::io::Result<()> {
        let mut written = 0;
        let Some(pen) = self.pen.as_deref_mut() else {
            return Err(lent());
        };
        while written < pen.buf.len() {
            let (half, rest) = (&mut pen.half, &pen.buf[written..]);
            let at_once = poll_fn(|cx| match Pin::new(&mut *half).poll_write(cx, rest) {
                Poll::Ready(result) => Poll::Ready(Some(result)),
                Poll::Pending => Poll::Ready(None),
            })
            .await;
            let n = match (at_once, self.write_timeout) {
                (Some(result), _) => result?,
                (None, None) => half.write(rest).await?,
                (None, Some(after)) => match tokio::time::timeout(after, half.write(rest)).await {
                    Ok(result) => result?,
                    Err(_elapsed) => {
                        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, Stalled));
                    }
                },
            };
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            written += n;
            self.written += n;
        }
        Ok(())
    }

    /// The session's reason for a failed write.
    fn write_failed(&self, error: &std::io::Error) -> Reason {
        match self.write_timeout {
            Some(after) if Stalled::is(error) => Reason::WriteTimeout { after },
            _ => Reason::from_io(error),
        }
    }

    /// Writes out everything buffered and flushes. A buffer that grew
    /// past [`KEEP_BUFFER`] is released, so a connection that sent a burst
    /// does not hold its room; a smaller one is kept for the next write.
    async fn flush(&mut self) -> std::io::Result<()> {
        self.write_out().await?;
        let Some(pen) = self.pen.as_deref_mut() else {
            return Err(lent());
        };
        if pen.buf.capacity() > KEEP_BUFFER {
            pen.buf = BytesMut::new();
        } else {
            pen.buf.clear();
        }
        pen.half.flush().await
    }

    fn encoded_len(&self, frame: &Frame) -> u64 {
        (self.layout.header_len(frame.id.is_some()) + frame.payload.len()) as u64
    }
}

/// The writer wrote without its pen: a bug, never met (the writer takes its
/// pen back at the top of its loop, before it writes).
fn lent() -> std::io::Error {
    std::io::Error::other("the writer's pen is lent")
}

/// A write made no progress for the write timeout.
#[derive(Debug, thiserror::Error)]
#[error("no progress writing to the peer")]
struct Stalled;

impl Stalled {
    fn is(error: &std::io::Error) -> bool {
        error.get_ref().is_some_and(|inner| inner.is::<Stalled>())
    }
}
