//! One accepted connection, served the way its [`Behavior`] says.
//!
//! The code is generic over the stream so TCP and Unix connections share it;
//! only the final close differs (a TCP reset needs `SO_LINGER` 0), which is
//! why [`run`] returns an [`Ending`] instead of closing the stream itself.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use linesman_ipc_codec::{Codec, Frame};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Decoder, Encoder};

use crate::behavior::{Behavior, send_payload};
use crate::stats::Counters;

mod colliding;

/// How a served connection should be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// An orderly close.
    Close,
    /// An abortive close: `SO_LINGER` 0, so TCP sends a reset.
    Reset,
}

/// Reads per call when the behaviour does not limit them.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes of frames a sender encodes before writing them out.
const WRITE_BATCH: usize = 64 * 1024;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Serves one connection until the behaviour, the client or an error ends it.
pub(crate) fn run<'a, S>(
    stream: &'a mut S,
    behavior: &'a Behavior,
    stats: &'a Counters,
) -> BoxFuture<'a, Ending>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    Box::pin(async move {
        match behavior {
            Behavior::Echo => echo(stream, stats).await,
            Behavior::CollidingRequests { count, ty } => {
                colliding::run(stream, *count, *ty, stats).await
            }
            Behavior::Send {
                count,
                ty,
                payload_len,
            } => {
                if send(stream, *count, *ty, *payload_len, stats).await.is_ok() {
                    drain(stream, READ_CHUNK, Duration::ZERO, stats).await;
                }
                Ending::Close
            }
            Behavior::SendForever {
                ty,
                payload_len,
                interval,
            } => send_forever(stream, *ty, *payload_len, *interval, stats).await,
            Behavior::Silent => std::future::pending().await,
            Behavior::SlowReader {
                bytes_per_read,
                delay,
            } => {
                drain(stream, (*bytes_per_read).max(1), *delay, stats).await;
                Ending::Close
            }
            Behavior::Reset => Ending::Reset,
            Behavior::Hostile(kind) => {
                let bytes = kind.bytes();
                if stream.write_all(&bytes).await.is_err() {
                    return Ending::Close;
                }
                stats.sent(bytes.len(), 1);
                if *kind == crate::HostileKind::TruncatedFrame {
                    let _ = stream.shutdown().await;
                } else {
                    drain(stream, READ_CHUNK, Duration::ZERO, stats).await;
                }
                Ending::Close
            }
            Behavior::Flap { every, inner } => {
                tokio::select! {
                    ending = run(stream, inner, stats) => ending,
                    () = tokio::time::sleep(*every) => Ending::Close,
                }
            }
            Behavior::Refuse { then, .. } => run(stream, then, stats).await,
        }
    })
}

/// Received bytes and the frames decoded from them.
struct Inbound {
    codec: Codec,
    buf: BytesMut,
}

/// What one read brought.
enum Read {
    /// Zero or more complete frames (partial ones stay buffered).
    Frames(Vec<Frame>),
    /// The client closed, or the connection failed.
    Ended,
    /// The bytes are not frames of the default layout.
    ProtocolError,
}

impl Inbound {
    fn new() -> Self {
        Inbound {
            codec: Codec::default(),
            buf: BytesMut::new(),
        }
    }

    /// Reads once, at most `limit` bytes, and decodes every complete frame.
    async fn read<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        limit: usize,
        stats: &Counters,
    ) -> Read {
        self.buf.reserve(limit);
        let n = match stream.read_buf(&mut (&mut self.buf).limit(limit)).await {
            Ok(0) | Err(_) => return Read::Ended,
            Ok(n) => n,
        };
        let mut frames = Vec::new();
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => {
                    stats.record(&frame);
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(_) => {
                    stats.received(n, frames.len() as u64);
                    stats.protocol_error();
                    return Read::ProtocolError;
                }
            }
        }
        stats.received(n, frames.len() as u64);
        Read::Frames(frames)
    }
}

/// Sends every frame back as it came, a request marked as its reply.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, stats: &Counters) -> Ending {
    let mut inbound = Inbound::new();
    let mut codec = Codec::default();
    let mut out = BytesMut::new();
    loop {
        let frames = match inbound.read(stream, READ_CHUNK, stats).await {
            Read::Frames(frames) => frames,
            Read::Ended | Read::ProtocolError => return Ending::Close,
        };
        if frames.is_empty() {
            continue;
        }
        let count = frames.len() as u64;
        let mut answered = 0;
        for frame in frames {
            let frame = answer(frame, &mut answered);
            if codec.encode(frame, &mut out).is_err() {
                return Ending::Close;
            }
        }
        if stream.write_all(&out).await.is_err() {
            return Ending::Close;
        }
        stats.sent(out.len(), count);
        stats.answered(answered);
        out.clear();
    }
}

/// The echo of `frame`: a request (an id, no mark) comes back marked as its
/// reply, counted in `answered`; anything else comes back unchanged.
fn answer(frame: Frame, answered: &mut u64) -> Frame {
    if frame.id.is_some() && !frame.reply {
        *answered += 1;
        frame.with_reply(true)
    } else {
        frame
    }
}

/// Reads (at most `limit` bytes at a time, after `delay` each) and counts
/// until the client closes or sends bytes that are not frames.
async fn drain<S: AsyncRead + Unpin>(
    stream: &mut S,
    limit: usize,
    delay: Duration,
    stats: &Counters,
) {
    let mut inbound = Inbound::new();
    loop {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match inbound.read(stream, limit, stats).await {
            Read::Frames(_) => {}
            Read::Ended | Read::ProtocolError => return,
        }
    }
}

/// Encodes the frames with sequence numbers `range` and writes them in batches.
async fn send<S: AsyncWrite + Unpin>(
    stream: &mut S,
    count: u64,
    ty: u32,
    payload_len: usize,
    stats: &Counters,
) -> std::io::Result<()> {
    let mut sender = Sender::new(ty, payload_len);
    let mut seq = 0;
    while seq < count {
        let batch = sender.batch_len().min(count - seq);
        sender.write(stream, seq, batch, stats).await?;
        seq += batch;
    }
    Ok(())
}

/// Sends until the connection ends, reading and counting at the same time.
async fn send_forever<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ty: u32,
    payload_len: usize,
    interval: Option<Duration>,
    stats: &Counters,
) -> Ending {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let reading = drain(&mut reader, READ_CHUNK, Duration::ZERO, stats);
    let writing = async {
        let mut sender = Sender::new(ty, payload_len);
        let mut seq = 0u64;
        match interval {
            Some(period) => {
                let mut ticks = tokio::time::interval(period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    if sender.write(&mut writer, seq, 1, stats).await.is_err() {
                        return;
                    }
                    seq = seq.wrapping_add(1);
                }
            }
            None => loop {
                let batch = sender.batch_len();
                if sender.write(&mut writer, seq, batch, stats).await.is_err() {
                    return;
                }
                seq = seq.wrapping_add(batch);
            },
        }
    };
    tokio::select! {
        () = reading => {}
        () = writing => {}
    }
    Ending::Close
}

/// Encodes runs of [`send_payload`] frames.
struct Sender {
    codec: Codec,
    ty: u32,
    payload_len: usize,
    out: BytesMut,
}

impl Sender {
    fn new(ty: u32, payload_len: usize) -> Self {
        Sender {
            codec: Codec::default(),
            ty,
            payload_len,
            out: BytesMut::new(),
        }
    }

    /// Frames per write: about [`WRITE_BATCH`] bytes, at least one frame.
    fn batch_len(&self) -> u64 {
        (WRITE_BATCH / (self.payload_len + 16)).max(1) as u64
    }

    /// Writes frames `first .. first + count`.
    async fn write<W: AsyncWrite + Unpin>(
        &mut self,
        stream: &mut W,
        first: u64,
        count: u64,
        stats: &Counters,
    ) -> std::io::Result<()> {
        self.out.clear();
        for seq in first..first.saturating_add(count) {
            let frame = Frame::new(self.ty, send_payload(seq, self.payload_len));
            self.codec
                .encode(frame, &mut self.out)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        }
        stream.write_all(&self.out).await?;
        stats.sent(self.out.len(), count);
        Ok(())
    }
}
