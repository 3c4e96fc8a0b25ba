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

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use linesman_ipc_codec::{Codec, CodecError, Frame, FrameLayout};
use linesman_stream::Stream;
use tokio::io::{AsyncWriteExt, WriteHalf};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::codec::Encoder;
use tokio_util::sync::CancellationToken;

use crate::error::SendError;
use crate::reason::Reason;
use crate::shared::{Outgoing, Phase, Shared};
use crate::spec::Heartbeat;

/// Frames encoded before one flush: one write for a burst of small frames.
const BATCH: usize = 64;
/// Buffered bytes past which the buffer is written before encoding more.
const BACKPRESSURE: usize = 8 * 1024;

/// How the session tells its writer to end.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// End now; a frame being written fails with `ConnectionLost`.
    abort: CancellationToken,
    /// Write up to `drain_limit` queued frames, then end.
    drain: CancellationToken,
    drain_limit: AtomicUsize,
}

impl Control {
    pub(crate) fn abort(&self) {
        self.abort.cancel();
    }

    pub(crate) fn drain(&self, limit: usize) {
        self.drain_limit.store(limit, Ordering::Relaxed);
        self.drain.cancel();
    }
}

/// What the writer gives back: the write half, and why it ended.
#[derive(Debug)]
pub(crate) struct Exit {
    pub(crate) half: WriteHalf<Stream>,
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
) -> WriterTask {
    let control = Arc::new(Control::default());
    let writer = Writer {
        layout: codec.layout(),
        half,
        codec,
        buf: BytesMut::new(),
        shared,
        heartbeat,
        control: Arc::clone(&control),
        batch: Vec::new(),
    };
    WriterTask {
        handle: tokio::spawn(writer.run()),
        control,
    }
}

struct Writer {
    half: WriteHalf<Stream>,
    codec: Codec,
    /// Encoded bytes not yet written; released once flushed, so a
    /// connection that is not sending holds no write buffer.
    buf: BytesMut,
    layout: FrameLayout,
    shared: Arc<Shared>,
    heartbeat: Option<Heartbeat>,
    control: Arc<Control>,
    /// Frames taken from the queue and not yet written.
    batch: Vec<Outgoing>,
}

impl Writer {
    async fn run(mut self) -> Exit {
        let result = self.work().await;
        // Dropping a frame's ack tells its sender `ConnectionLost`.
        self.batch.clear();
        Exit {
            half: self.half,
            result,
        }
    }

    async fn work(&mut self) -> Result<(), Reason> {
        let abort = self.control.abort.clone();
        let drain = self.control.drain.clone();
        let mut last_sent = Instant::now();
        loop {
            let beat = match self.heartbeat {
                Some(beat) if self.shared.phase() == Phase::Up => Some(beat),
                _ => None,
            };
            let due = beat.map(|b| last_sent + b.interval);
            tokio::select! {
                biased;
                () = abort.cancelled() => return Ok(()),
                () = drain.cancelled() => return self.drain(&abort).await,
                () = self.shared.next_batch(BATCH, &mut self.batch) => {}
                () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    if let Some(beat) = beat {
                        tokio::select! {
                            biased;
                            () = abort.cancelled() => return Ok(()),
                            result = self.heartbeat(beat) => result?,
                        }
                        last_sent = Instant::now();
                    }
                    continue;
                }
            }
            if self.batch.is_empty() {
                continue;
            }
            tokio::select! {
                biased;
                () = abort.cancelled() => return Ok(()),
                result = self.write_batch() => result?,
            }
            last_sent = Instant::now();
        }
    }

    /// Writes up to the drain limit of queued frames, then ends.
    async fn drain(&mut self, abort: &CancellationToken) -> Result<(), Reason> {
        let mut left = self.control.drain_limit.load(Ordering::Relaxed);
        while left > 0 {
            self.shared.take(left.min(BATCH), &mut self.batch);
            if self.batch.is_empty() {
                break;
            }
            left = left.saturating_sub(self.batch.len());
            tokio::select! {
                biased;
                () = abort.cancelled() => return Ok(()),
                result = self.write_batch() => result?,
            }
        }
        Ok(())
    }

    /// Encodes every frame of the batch, flushes, then acknowledges them. A
    /// frame the codec refuses is answered `Encode` and skipped; it wrote
    /// nothing. On an I/O error every frame of the batch fails with
    /// `ConnectionLost` (some may have been written in part).
    async fn write_batch(&mut self) -> Result<(), Reason> {
        let items = std::mem::take(&mut self.batch);
        let mut accepted = Vec::with_capacity(items.len());
        let mut bytes = 0u64;
        for item in items {
            match self.feed(&item.frame).await {
                Ok(()) => {
                    bytes += self.encoded_len(&item.frame);
                    accepted.push(item);
                }
                Err(CodecError::Io(error)) => return Err(Reason::from_io(&error)),
                Err(refused) => {
                    let _ = item.ack.send(Err(SendError::Encode(refused.to_string())));
                }
            }
        }
        if accepted.is_empty() {
            return Ok(());
        }
        if let Err(error) = self.flush().await {
            return Err(Reason::from_io(&error));
        }
        let counters = &self.shared.counters;
        counters
            .frames_out
            .fetch_add(accepted.len() as u64, Ordering::Relaxed);
        counters.bytes_out.fetch_add(bytes, Ordering::Relaxed);
        for item in accepted {
            let _ = item.ack.send(Ok(()));
        }
        Ok(())
    }

    /// Writes one heartbeat frame: type `beat.ty`, no id, no payload.
    async fn heartbeat(&mut self, beat: Heartbeat) -> Result<(), Reason> {
        let frame = Frame::new(beat.ty, Bytes::new());
        let sent = match self.feed(&frame).await {
            Ok(()) => self.flush().await.map_err(CodecError::Io),
            Err(error) => Err(error),
        };
        if let Err(error) = sent {
            return Err(Reason::HeartbeatFailed(error.to_string()));
        }
        let counters = &self.shared.counters;
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
        if self.buf.len() >= BACKPRESSURE {
            self.half.write_all(&self.buf).await?;
            self.buf.clear();
        }
        self.codec.encode(frame, &mut self.buf)
    }

    /// Writes out everything buffered, flushes, and releases the buffer.
    async fn flush(&mut self) -> std::io::Result<()> {
        self.half.write_all(&self.buf).await?;
        self.buf = BytesMut::new();
        self.half.flush().await
    }

    fn encoded_len(&self, frame: &Frame) -> u64 {
        (self.layout.header_len(frame.id.is_some()) + frame.payload.len()) as u64
    }
}
