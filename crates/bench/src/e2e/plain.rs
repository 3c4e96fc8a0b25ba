//! The e2e baseline: plain tokio `Framed<TcpStream, LengthDelimitedCodec>`,
//! its codec configured to linesman's 8-byte header so it splits the same
//! bytes into the same frames.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::{BufMut, BytesMut};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::oneshot;
use tokio_util::codec::{Framed, FramedRead, LengthDelimitedCodec};

use super::peers::Target;

/// linesman's header as `LengthDelimitedCodec` sees it: a 4-byte length at
/// offset 4 (after type and flags) that counts the payload only; the whole
/// frame, header included, is yielded. With `num_skip(0)` the codec reads
/// `length + length_adjustment` bytes from the start of the frame, so the
/// adjustment is the header's 8 bytes (with 0 it would cut every frame
/// short by 8 bytes and lose step with the stream).
pub(super) fn header_codec() -> LengthDelimitedCodec {
    codec_for_header(8)
}

/// The codec of frames whose header is `header` bytes long: 8 without an
/// id, 16 with one (the id follows the length).
fn codec_for_header(header: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_offset(4)
        .length_field_length(4)
        .length_adjustment(header as isize)
        .num_skip(0)
        .max_frame_length(16 * 1024 * 1024)
        .new_codec()
}

pub(super) async fn connect_stream(target: &Target) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect(target.addr)
        .await
        .with_context(|| format!("baseline cannot connect to {}", target.addr))?;
    // linesman's default too.
    stream.set_nodelay(true)?;
    Ok(stream)
}

async fn connect(target: &Target) -> anyhow::Result<Framed<TcpStream, LengthDelimitedCodec>> {
    Ok(Framed::new(connect_stream(target).await?, header_codec()))
}

/// Connects and reads `count` frames; the time from the connect to the last.
pub(super) async fn frames(target: &Target, count: u64) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut framed = connect(target).await?;
    for seen in 0..count {
        match framed.next().await {
            Some(Ok(frame)) => {
                black_box(&frame);
            }
            Some(Err(error)) => return Err(error).context("baseline read failed"),
            None => anyhow::bail!("the peer closed after {seen} of {count} frames"),
        }
    }
    Ok(start.elapsed())
}

/// Connects, then times `count` sequential round trips of `len`-byte
/// payloads: header and payload written with one `write_all`, one frame
/// read, within `deadline` if one is given (as linesman's `request` always
/// has one).
pub(super) async fn round_trips(
    target: &Target,
    count: u64,
    len: usize,
    deadline: Option<Duration>,
) -> anyhow::Result<Duration> {
    let mut framed = connect(target).await?;
    let payload = vec![0x5a; len];
    let mut out = BytesMut::with_capacity(8 + len);
    let start = Instant::now();
    for _ in 0..count {
        encode_request(&mut out, &payload);
        framed.get_mut().write_all(&out).await?;
        let reply = match deadline {
            Some(deadline) => tokio::time::timeout(deadline, framed.next())
                .await
                .context("the baseline's request timed out")?,
            None => framed.next().await,
        };
        match reply {
            Some(Ok(reply)) => {
                black_box(&reply);
            }
            Some(Err(error)) => return Err(error).context("baseline read failed"),
            None => anyhow::bail!("the echo peer closed"),
        }
    }
    Ok(start.elapsed())
}

/// Encodes a request without an id into `out` (cleared first): linesman's
/// 8-byte header (type 2, no flags, the payload's length) and `payload`.
pub(super) fn encode_request(out: &mut BytesMut, payload: &[u8]) {
    out.clear();
    out.put_u16(2); // type
    out.put_u16(0); // flags: no id
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
}

/// The pending requests of [`round_trips_matched`]: where each reply goes,
/// by id.
type PendingReplies =
    Arc<Mutex<HashMap<u64, oneshot::Sender<BytesMut>, BuildHasherDefault<IdHasher>>>>;

/// Connects, then times `count` sequential round trips as a hand-written
/// tokio client that lets requests be concurrent does them, which is the
/// work linesman's `request` does: each request carries a fresh id (flags
/// bit 0, the id after the length: linesman's own frames), registers a
/// oneshot for its reply in a table, writes its frame and waits for the
/// oneshot within `deadline`; a reader task on the read half matches each
/// reply (flags 0x0003) to its request by id. Ids are hashed as linesman
/// hashes them (Fibonacci hashing), so the table costs both sides alike.
pub(super) async fn round_trips_matched(
    target: &Target,
    count: u64,
    len: usize,
    deadline: Duration,
) -> anyhow::Result<Duration> {
    let (read, mut write) = connect_stream(target).await?.into_split();
    let pending = PendingReplies::default();
    let reader = tokio::spawn(read_replies(
        FramedRead::new(read, codec_for_header(16)),
        Arc::clone(&pending),
    ));
    let payload = vec![0x5a; len];
    let mut out = BytesMut::with_capacity(16 + len);
    let start = Instant::now();
    for id in 1..=count {
        out.clear();
        out.put_u16(2); // type
        out.put_u16(0x0001); // flags: an id follows
        out.put_u32(len as u32);
        out.put_u64(id);
        out.put_slice(&payload);
        let (reply, answer) = oneshot::channel();
        lock(&pending).insert(id, reply);
        write.write_all(&out).await?;
        let reply = tokio::time::timeout(deadline, answer)
            .await
            .context("the baseline's request timed out")?
            .context("the baseline's reader ended")?;
        black_box(&reply);
    }
    let elapsed = start.elapsed();
    reader.abort();
    Ok(elapsed)
}

/// The reader task of [`round_trips_matched`]: hands each reply to its
/// request; ends with the stream.
async fn read_replies(
    mut framed: FramedRead<OwnedReadHalf, LengthDelimitedCodec>,
    pending: PendingReplies,
) {
    while let Some(Ok(frame)) = framed.next().await {
        let Some(id) = frame
            .get(8..16)
            .and_then(|id| id.try_into().ok())
            .map(u64::from_be_bytes)
        else {
            continue;
        };
        if let Some(reply) = lock(&pending).remove(&id) {
            let _ = reply.send(frame);
        }
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fibonacci hashing of a u64 id, as linesman's pending table does.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
