//! [`FrameReader`]: the session's framed reader — what tokio-util's
//! `FramedRead` does, with a read buffer that exists only while bytes do.
//!
//! Why not `FramedRead`: it reserves 8 KiB per connection up front and
//! keeps it for the whole session, and most supervised connections are
//! idle most of the time. Here the buffer exists only while bytes do:
//!
//! - When nothing is buffered and the last read drained the socket (it
//!   returned less than the room it was given), the next read goes into a
//!   buffer on the stack, and only bytes that came are copied into a heap
//!   buffer of their size: a wake-up that finds nothing allocates nothing,
//!   and a small reply costs a small allocation, not 8 KiB.
//! - When the last read filled its room (more is probably waiting), or a
//!   frame is buffered in part, reads go straight into the heap buffer,
//!   with room for [`READ_CAPACITY`] bytes in all: a stream of large frames
//!   is never copied through the stack (reads limited to what was left of
//!   an allocation had cost 4 KiB frames a quarter of their throughput).
//!   While reads keep filling their room, the room doubles, up to
//!   [`MAX_READ_CAPACITY`]; the first read that does not fill it sets it
//!   back (what Netty's adaptive receive buffer does). A feed that keeps
//!   the socket full is read in 64 KiB `recv`s instead of 8 KiB ones: an
//!   eighth of the system calls (measured: 64-byte frames +8 % frames/s);
//!   a quiet connection never grows past 8 KiB.
//! - The buffer is released when a read finds nothing and nothing is
//!   buffered. A connection that waits holds no read buffer.
//!
//! The decoding is the same as `FramedRead`'s: frames are decoded from the
//! buffer before reading again, a read of 0 bytes is the end of the stream,
//! and at the end `decode_eof` refuses a stream that stopped inside a frame.

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use linesman_ipc_codec::{Codec, CodecError, Frame};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio_util::codec::Decoder;

/// Bytes read at once into an empty reader, and the capacity of the buffer
/// then allocated; `FramedRead`'s initial capacity.
const READ_CAPACITY: usize = 8 * 1024;
/// How many times the room of a read doubles at most while reads keep
/// filling it.
const MAX_GROWN: u8 = 3;
/// The most bytes read at once: 64 KiB.
const MAX_READ_CAPACITY: usize = READ_CAPACITY << MAX_GROWN;

/// Reads frames from `R`, decoding them with the session's codec.
#[derive(Debug)]
pub(crate) struct FrameReader<R> {
    inner: R,
    codec: Codec,
    /// Bytes read and not yet decoded; unallocated while there are none.
    buf: BytesMut,
    /// Frames may be decoded from `buf` before reading again.
    readable: bool,
    /// The last read returned 0 bytes.
    eof: bool,
    /// The last read filled all the room it was given: more is probably
    /// waiting, so the next one, even into an empty buffer, skips the stack.
    busy: bool,
    /// The room the next read into the heap buffer gets is
    /// `READ_CAPACITY << grown`: one more while reads fill it, up to
    /// [`MAX_GROWN`], back to 0 when one does not. A byte, not a size, so
    /// the reader (inside every session's future) does not grow.
    grown: u8,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub(crate) fn new(inner: R, codec: Codec) -> FrameReader<R> {
        FrameReader {
            inner,
            codec,
            buf: BytesMut::new(),
            readable: false,
            eof: false,
            busy: false,
            grown: 0,
        }
    }

    pub(crate) fn codec(&self) -> &Codec {
        &self.codec
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// Whether part of a frame is buffered: bytes came that are not a
    /// whole frame yet (checked when the reader waits, so the buffer holds
    /// no whole frame then).
    pub(crate) fn in_frame(&self) -> bool {
        !self.buf.is_empty()
    }

    /// A frame already in the buffer, without reading: `None` when the
    /// buffer holds no whole frame (or the stream has ended, which
    /// [`poll_next`](Self::poll_next) reports).
    pub(crate) fn buffered(&mut self) -> Option<Result<Frame, CodecError>> {
        if !self.readable || self.eof || self.buf.is_empty() {
            return None;
        }
        self.codec.decode(&mut self.buf).transpose()
    }

    /// The next frame; `None` once the stream has ended cleanly; an error
    /// for a malformed frame, a stream that ended inside a frame, or a
    /// failed read (after an error the session ends: it is not polled again).
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, CodecError>>> {
        loop {
            if self.readable {
                if self.eof {
                    self.readable = false;
                    if self.buf.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(self.codec.decode_eof(&mut self.buf).transpose());
                }
                if !self.buf.is_empty()
                    && let Some(frame) = self.codec.decode(&mut self.buf).transpose()
                {
                    return Poll::Ready(Some(frame));
                }
                self.readable = false;
            }
            let read = match ready!(self.poll_fill(cx)) {
                Ok(read) => read,
                Err(error) => return Poll::Ready(Some(Err(CodecError::Io(error)))),
            };
            if read == 0 {
                if self.eof {
                    return Poll::Ready(None);
                }
                self.eof = true;
            } else {
                self.eof = false;
            }
            self.readable = true;
        }
    }

    /// The room the next read into the heap buffer gets.
    fn read_size(&self) -> usize {
        (READ_CAPACITY << self.grown).min(MAX_READ_CAPACITY)
    }

    /// Reads once into the buffer; see the module docs for when the read
    /// goes through the stack and when the buffer is released.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.is_empty() && !self.busy {
            // Nothing buffered and the socket was drained: a wake-up may
            // find nothing to read, so read through the stack and allocate
            // only for bytes that came, as many as came (a small reply
            // gets a small buffer). Any room left from before is released
            // first: a connection that waits holds none.
            self.buf = BytesMut::new();
            let mut stack = [MaybeUninit::<u8>::uninit(); READ_CAPACITY];
            let mut read = ReadBuf::uninit(&mut stack);
            ready!(Pin::new(&mut self.inner).poll_read(cx, &mut read))?;
            let filled = read.filled();
            // A full read: more is probably waiting, so room for it now.
            self.busy = filled.len() == READ_CAPACITY;
            if !filled.is_empty() {
                let room = if self.busy {
                    2 * READ_CAPACITY
                } else {
                    filled.len()
                };
                self.buf.reserve(room);
                self.buf.extend_from_slice(filled);
            }
            return Poll::Ready(Ok(filled.len()));
        }
        // A frame in part, or a busy socket: read straight into the
        // buffer, with room for READ_CAPACITY bytes in all, but at least
        // one, so a read of 0 always means the end.
        self.buf
            .reserve(self.read_size().saturating_sub(self.buf.len()).max(1));
        let room = self.buf.capacity() - self.buf.len();
        let polled = pin!(self.inner.read_buf(&mut self.buf)).poll(cx);
        match &polled {
            Poll::Ready(Ok(read)) => {
                self.busy = *read == room;
                self.grown = if self.busy {
                    (self.grown + 1).min(MAX_GROWN)
                } else {
                    0
                };
            }
            Poll::Ready(Err(_)) => self.busy = false,
            Poll::Pending => {
                self.busy = false;
                self.grown = 0;
                if self.buf.is_empty() {
                    self.buf = BytesMut::new();
                }
            }
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use bytes::Bytes;
    use linesman_ipc_codec::FrameLayout;
    use tokio::io::{AsyncWriteExt, duplex};
    use tokio_util::codec::Encoder;

    use super::*;

    fn encoded(frames: &[Frame]) -> Vec<u8> {
        let mut codec = Codec::new(FrameLayout::default());
        let mut out = BytesMut::new();
        for frame in frames {
            codec.encode(frame, &mut out).expect("encodable frame");
        }
        out.to_vec()
    }

    #[tokio::test]
    async fn frames_split_anywhere_come_out_whole_and_idle_holds_no_buffer() {
        let frames: Vec<Frame> = (0..20u16)
            .map(|i| Frame::new(u32::from(i), Bytes::from(vec![i as u8; usize::from(i) * 7])))
            .collect();
        let bytes = encoded(&frames);
        let (mut peer, ours) = duplex(64);
        let mut reader = FrameReader::new(ours, Codec::new(FrameLayout::default()));
        assert_eq!(reader.buf.capacity(), 0, "nothing allocated before bytes");
        let writer = tokio::spawn(async move {
            for chunk in bytes.chunks(13) {
                peer.write_all(chunk).await.expect("write to the reader");
                tokio::task::yield_now().await;
            }
            peer
        });
        let mut got = Vec::new();
        while got.len() < frames.len() {
            let frame = poll_fn(|cx| reader.poll_next(cx)).await;
            got.push(frame.expect("a frame").expect("a valid frame"));
        }
        assert_eq!(got, frames);
        let peer = writer.await.expect("writer task");
        // Every byte decoded and the socket empty: the buffer is released.
        let polled = poll_fn(|cx| Poll::Ready(reader.poll_next(cx))).await;
        assert!(polled.is_pending());
        assert_eq!(reader.buf.capacity(), 0, "an idle reader keeps no buffer");
        drop(peer);
        let end = poll_fn(|cx| reader.poll_next(cx)).await;
        assert!(end.is_none(), "a clean end after whole frames");
    }

    #[tokio::test]
    async fn reads_grow_while_they_fill_and_shrink_when_the_socket_drains() {
        // A real Unix socket with more queued than the largest read.
        let frames: Vec<Frame> = (0..2_000u32)
            .map(|i| Frame::new(i, Bytes::from(vec![i as u8; 100])))
            .collect();
        let bytes = encoded(&frames);
        assert!(bytes.len() > 2 * MAX_READ_CAPACITY);
        let (mut peer, ours) = tokio::net::UnixStream::pair().expect("a socket pair");
        let writer = tokio::spawn(async move {
            peer.write_all(&bytes).await.expect("write to the reader");
            peer
        });
        let mut reader = FrameReader::new(ours, Codec::new(FrameLayout::default()));
        let mut grew_to = 0;
        let mut got = Vec::new();
        while got.len() < frames.len() {
            let frame = poll_fn(|cx| reader.poll_next(cx)).await;
            got.push(frame.expect("a frame").expect("a valid frame"));
            grew_to = grew_to.max(reader.read_size());
        }
        assert_eq!(got, frames, "every frame, whole and in order");
        assert!(
            grew_to > READ_CAPACITY && grew_to <= MAX_READ_CAPACITY,
            "reads that fill their room grow, within the bound: {grew_to}"
        );
        let peer = writer.await.expect("writer task");
        // Drained: the next read finds nothing; the room is back to the
        // start and the buffer released.
        let polled = poll_fn(|cx| Poll::Ready(reader.poll_next(cx))).await;
        assert!(polled.is_pending());
        assert_eq!(reader.read_size(), READ_CAPACITY);
        assert_eq!(reader.buf.capacity(), 0, "an idle reader keeps no buffer");
        drop(peer);
    }

    #[tokio::test]
    async fn a_stream_that_ends_inside_a_frame_is_an_error() {
        let bytes = encoded(&[Frame::new(1, Bytes::from_static(b"hello"))]);
        let (mut peer, ours) = duplex(64);
        peer.write_all(&bytes[..bytes.len() - 2])
            .await
            .expect("write to the reader");
        drop(peer);
        let mut reader = FrameReader::new(ours, Codec::new(FrameLayout::default()));
        let item = poll_fn(|cx| reader.poll_next(cx)).await;
        assert!(
            matches!(item, Some(Err(CodecError::Truncated { .. }))),
            "{item:?}"
        );
    }

    #[tokio::test]
    async fn buffered_frames_are_taken_without_reading() {
        let frames = [
            Frame::new(1, Bytes::from_static(b"a")),
            Frame::new(2, Bytes::new()),
        ];
        let (mut peer, ours) = duplex(64);
        peer.write_all(&encoded(&frames))
            .await
            .expect("write to the reader");
        let mut reader = FrameReader::new(ours, Codec::new(FrameLayout::default()));
        assert!(reader.buffered().is_none(), "nothing read yet");
        let first = poll_fn(|cx| reader.poll_next(cx)).await;
        assert_eq!(first.expect("a frame").expect("valid"), frames[0]);
        let second = reader.buffered().expect("the second frame is buffered");
        assert_eq!(second.expect("valid"), frames[1]);
        assert!(reader.buffered().is_none());
    }
}
