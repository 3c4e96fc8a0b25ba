//! [`Behavior::CollidingRequests`](crate::Behavior::CollidingRequests):
//! requests in both directions whose ids collide.
//!
//! The peer numbers its requests from 1, as a client does, so while both
//! sides have requests waiting, each side receives requests whose ids equal
//! those of its own. The peer answers the client's requests with marked
//! replies (as the echo does) and checks every marked frame the client
//! sends against its own waiting requests.
//!
//! Reading and writing run in one loop: the peer's requests and its answers
//! wait in one output buffer that is written while reading goes on, so
//! neither side can stall the other with full socket buffers; reading
//! pauses while the buffer holds more than [`MAX_PENDING`] bytes, so a
//! client that sends and never reads costs a bounded amount of memory.

use std::collections::HashSet;

use bytes::{Buf, BytesMut};
use linesman_ipc_codec::{Codec, Frame};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Encoder;

use super::{Ending, Inbound, READ_CHUNK, Read, answer};
use crate::behavior::send_payload;
use crate::stats::Counters;

/// Payload bytes of each request: its id, big endian.
const PAYLOAD_LEN: usize = 8;

/// Bytes of output above which the peer stops reading until it has written.
const MAX_PENDING: usize = 1024 * 1024;

/// Output encoded and not yet written, with the frames it holds.
struct Output {
    codec: Codec,
    bytes: BytesMut,
    /// Frames encoded into `bytes` since it was last empty.
    frames: u64,
    /// Of those, requests of the peer.
    requests: u64,
}

impl Output {
    fn push(&mut self, frame: Frame) -> bool {
        self.frames += 1;
        self.codec.encode(frame, &mut self.bytes).is_ok()
    }
}

/// Sends `count` requests of type `ty` with ids 1 ..= `count`, answers the
/// client's requests and checks its replies, until the connection ends.
pub(super) async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    count: u64,
    ty: u32,
    stats: &Counters,
) -> Ending {
    let mut out = Output {
        codec: Codec::default(),
        bytes: BytesMut::new(),
        frames: 0,
        requests: count,
    };
    let mut waiting: HashSet<u64> = HashSet::new();
    for id in 1..=count {
        waiting.insert(id);
        if !out.push(Frame::request(ty, id, send_payload(id, PAYLOAD_LEN))) {
            return Ending::Close;
        }
    }
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut inbound = Inbound::new();
    loop {
        let writing = !out.bytes.is_empty();
        let reading = out.bytes.len() <= MAX_PENDING;
        tokio::select! {
            read = inbound.read(&mut reader, READ_CHUNK, stats), if reading => {
                let frames = match read {
                    Read::Frames(frames) => frames,
                    Read::Ended | Read::ProtocolError => return Ending::Close,
                };
                let mut answered = 0;
                for frame in frames {
                    if frame.reply {
                        stats.reply(check(&mut waiting, &frame));
                    } else if !out.push(answer(frame, &mut answered)) {
                        return Ending::Close;
                    }
                }
                stats.answered(answered);
            }
            written = writer.write(out.bytes.chunk()), if writing => {
                let Ok(n) = written else { return Ending::Close };
                if n == 0 {
                    return Ending::Close;
                }
                out.bytes.advance(n);
                stats.sent(n, 0);
                if out.bytes.is_empty() {
                    stats.sent(0, std::mem::take(&mut out.frames));
                    stats.requests_sent(std::mem::take(&mut out.requests));
                }
            }
        }
    }
}

/// Whether `reply` answers a waiting request of the peer with its payload;
/// the request stops waiting either way if its id was waiting.
fn check(waiting: &mut HashSet<u64>, reply: &Frame) -> bool {
    let Some(id) = reply.id else {
        return false;
    };
    waiting.remove(&id) && reply.payload == send_payload(id, PAYLOAD_LEN)
}
