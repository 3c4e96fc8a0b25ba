//! [`FrameReader`]: the session's framed reader — what tokio-util's
//! `FramedRead` does, with a read buffer that exists only while bytes do.
//!
//! Why not `FramedRead`: it reserves 8 KiB per connection up front and
//! keeps it for the whole session, and most supervised connections are
//! idle most of the time. Here the buffer is allocated when the first bytes
//! of a burst arrive (they are read into a buffer on the stack, then copied)
//! and released when the socket has nothing more to give and every buffered
//! byte was decoded. A connection that waits holds no read buffer.
//!
//! Within a burst the stack buffer is not used again: when decoding took
//! the whole buffer (the last frame ended at its last byte, so the frames
//! own its capacity) but the last read returned bytes, the next read goes
//! straight into a fresh buffer. Every read has room for at least
//! [`READ_CAPACITY`] bytes in all (buffered and new), so a read is not
//! limited to what is left of the previous allocation: with 4 KiB frames
//! that halved the bytes per `recv` (one frame each) and cost a quarter of
//! the throughput.
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
    /// The last read returned (bytes or the end): the next one, even into
    /// an empty buffer, is part of the same burst and skips the stack.
    busy: bool,
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
        }
    }

    pub(crate) fn codec(&self) -> &Codec {
        &self.codec
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
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

    /// Reads once into the buffer, allocating it if there is none (through
    /// the stack at the start of a burst); releases it when nothing can be
    /// read now and nothing is buffered.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.capacity() == 0 && !self.busy {
            let mut stack = [MaybeUninit::<u8>::uninit(); READ_CAPACITY];
            let mut read = ReadBuf::uninit(&mut stack);
            ready!(Pin::new(&mut self.inner).poll_read(cx, &mut read))?;
            let filled = read.filled();
            if !filled.is_empty() {
                self.buf.reserve(READ_CAPACITY);
                self.buf.extend_from_slice(filled);
                self.busy = true;
            }
            return Poll::Ready(Ok(filled.len()));
        }
        // Room for at least one byte, so a read of 0 always means the end,
        // and for READ_CAPACITY bytes in all.
        self.buf
            .reserve(READ_CAPACITY.saturating_sub(self.buf.len()).max(1));
        let polled = pin!(self.inner.read_buf(&mut self.buf)).poll(cx);
        self.busy = polled.is_ready();
        if polled.is_pending() && self.buf.is_empty() {
            self.buf = BytesMut::new();
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
