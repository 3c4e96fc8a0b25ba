//! [`Tracked`]: a reader that counts what it reads and notes when bytes
//! last arrived.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Instant;

/// A reader that counts the bytes it read (for the counters: per read, not
/// per frame) and notes when bytes last arrived, for the idle timeout (only
/// when there is one: the clock is not read for nothing).
#[derive(Debug)]
pub(crate) struct Tracked<R> {
    inner: R,
    pub(super) last_rx: Instant,
    track: bool,
    /// Bytes read since the last [`take_bytes`](Self::take_bytes).
    bytes: u64,
}

impl<R> Tracked<R> {
    pub(crate) fn new(inner: R, track: bool) -> Tracked<R> {
        Tracked {
            inner,
            last_rx: Instant::now(),
            track,
            bytes: 0,
        }
    }

    /// The bytes read since the last call.
    pub(crate) fn take_bytes(&mut self) -> u64 {
        std::mem::take(&mut self.bytes)
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Tracked<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            this.bytes += read as u64;
            if this.track {
                this.last_rx = Instant::now();
            }
        }
        polled
    }
}
