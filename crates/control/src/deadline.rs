//! [`WriteDeadline`]: a control connection's socket, with a deadline on
//! every write that has to wait for the client to read.
//!
//! Why at the socket: a response that the client does not read (a
//! `/v1/events` watcher that never reads) fills the socket, and from then
//! on hyper neither writes nor asks the body for more — nothing above the
//! socket gets to run and notice. Here, a write that stays pending for the
//! whole timeout fails with `TimedOut`, which ends the connection and frees
//! everything held for it (its response body, its event subscription).
//!
//! What "stopped reading" means: the client read nothing for the whole
//! timeout. A pending write alone does not tell: the kernel wakes a Unix
//! socket's sender only once three quarters of its send buffer has been
//! read, which a watcher reading 4 KB a second (a terminal scrolling, a
//! pipe into a slow program) takes a minute to do; it was cut as one that
//! stopped reading while it read all along. So when a stall reaches the
//! timeout, the socket is asked how much of what was sent is still unread
//! ([`Unread`]); if that went down, the client is reading and the stall
//! starts again. Each write hands the socket at most [`WRITE_CHUNK`] bytes,
//! because the kernel counts a write as read only once it is read whole:
//! with 8 KiB writes, a client is cut only when it reads less than 8 KiB in
//! the whole timeout.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The most bytes one write hands the socket (see the module docs).
pub(crate) const WRITE_CHUNK: usize = 8 * 1024;

/// How much of what was written to a socket its reader has not read yet,
/// if the socket can tell.
pub(crate) trait Unread {
    fn unread(&self) -> Option<usize>;
}

impl Unread for tokio::net::UnixStream {
    fn unread(&self) -> Option<usize> {
        use std::os::fd::AsRawFd;
        let mut unread: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (SIOCOUTQ) on an open socket writes one c_int,
        // the bytes queued and not yet read, to the pointer it is given.
        let asked = unsafe { libc::ioctl(self.as_raw_fd(), libc::TIOCOUTQ, &mut unread) };
        if asked == 0 {
            usize::try_from(unread).ok()
        } else {
            None
        }
    }
}

/// `S`, whose writes fail with `TimedOut` after waiting `timeout` for the
/// peer to read.
#[derive(Debug)]
pub(crate) struct WriteDeadline<S> {
    inner: S,
    timeout: Duration,
    /// Armed while a write is pending; made at the first stall.
    stall: Option<Pin<Box<Sleep>>>,
    stalled: bool,
    /// What was unread when the stall began (or last went down).
    unread_at_stall: Option<usize>,
}

impl<S: Unread> WriteDeadline<S> {
    pub(crate) fn new(inner: S, timeout: Duration) -> WriteDeadline<S> {
        WriteDeadline {
            inner,
            timeout,
            stall: None,
            stalled: false,
            unread_at_stall: None,
        }
    }

    /// A write made progress (or failed on its own): no stall.
    fn progressed<T>(&mut self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        self.stalled = false;
        result
    }

    /// A write is pending: `Pending` until the deadline of this stall,
    /// then `TimedOut`.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let deadline = Instant::now() + self.timeout;
        if !self.stalled {
            self.unread_at_stall = self.inner.unread();
        }
        let sleep = match &mut self.stall {
            Some(sleep) => {
                if !self.stalled {
                    sleep.as_mut().reset(deadline);
                }
                sleep
            }
            None => self
                .stall
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        self.stalled = true;
        loop {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The whole timeout: did the client read anything meanwhile?
            let unread = self.inner.unread();
            match (self.unread_at_stall, unread) {
                (Some(before), Some(now)) if now < before => {
                    self.unread_at_stall = Some(now);
                    sleep.as_mut().reset(Instant::now() + self.timeout);
                }
                _ => break,
            }
        }
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client read nothing for {}s while the server had more to send",
                self.timeout.as_secs_f32()
            ),
        )))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin + Unread> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let buf = &buf[..buf.len().min(WRITE_CHUNK)];
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Pending => this.pending(cx),
            done => this.progressed(done),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // The slices that fit in one chunk; the first alone if it does not.
        let mut total = 0;
        let fit = bufs
            .iter()
            .take_while(|b| {
                total += b.len();
                total <= WRITE_CHUNK
            })
            .count();
        let polled = match (fit, bufs.first()) {
            (0, Some(first)) => Pin::new(&mut this.inner).poll_write(cx, &first[..WRITE_CHUNK]),
            _ => Pin::new(&mut this.inner).poll_write_vectored(cx, &bufs[..fit]),
        };
        match polled {
            Poll::Pending => this.pending(cx),
            done => this.progressed(done),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.pending(cx),
            done => this.progressed(done),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.pending(cx),
            done => this.progressed(done),
        }
    }
}

#[cfg(test)]
impl Unread for tokio::io::DuplexStream {
    fn unread(&self) -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_nobody_reads_fails_after_the_timeout() {
        let (ours, theirs) = tokio::io::duplex(64);
        let mut ours = WriteDeadline::new(ours, Duration::from_secs(10));
        ours.write_all(&[0; 64]).await.expect("fits the buffer");
        let error = ours.write_all(&[0; 1]).await.expect_err("nobody reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(
            error.to_string().contains("read nothing for 10s"),
            "{error}"
        );
        drop(theirs);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_reading_is_not_cut() {
        use tokio::io::AsyncReadExt;
        let (ours, mut theirs) = tokio::io::duplex(16);
        let mut ours = WriteDeadline::new(ours, Duration::from_secs(10));
        let reader = tokio::spawn(async move {
            let mut total = 0;
            let mut buf = [0; 16];
            // 8 s between reads: each stall is shorter than the timeout,
            // although together they are much longer.
            while total < 160 {
                tokio::time::sleep(Duration::from_secs(8)).await;
                total += theirs.read(&mut buf).await.expect("read");
            }
            total
        });
        ours.write_all(&[0; 160])
            .await
            .expect("every stall is short");
        assert_eq!(reader.await.expect("the reader"), 160);
    }

    #[tokio::test]
    async fn a_unix_socket_nobody_reads_is_cut_after_the_timeout() {
        let (ours, theirs) = tokio::net::UnixStream::pair().expect("a socket pair");
        let mut ours = WriteDeadline::new(ours, Duration::from_millis(300));
        let error = ours
            .write_all(&vec![0u8; 4 * 1024 * 1024])
            .await
            .expect_err("more than the socket holds, and nobody reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        drop(theirs);
    }

    #[tokio::test]
    async fn a_watcher_reading_a_little_at_a_time_is_not_cut() {
        use std::os::fd::AsRawFd;
        use tokio::io::AsyncReadExt;
        // A real Unix socket: its sender gets room back only as whole
        // writes are read. 2 KB every 50 ms is 40 KB a second.
        let (ours, mut theirs) = tokio::net::UnixStream::pair().expect("a socket pair");
        let size: libc::c_int = 64 * 1024;
        // SAFETY: setsockopt on the open socket with a pointer to a c_int
        // and its size, as SO_SNDBUF takes.
        let set = unsafe {
            libc::setsockopt(
                ours.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(set, 0, "SO_SNDBUF set");
        const TOTAL: usize = 192 * 1024;
        let reader = tokio::spawn(async move {
            let mut total = 0;
            let mut buf = [0; 2048];
            while total < TOTAL {
                tokio::time::sleep(Duration::from_millis(50)).await;
                total += theirs.read(&mut buf).await.expect("read");
            }
            total
        });
        // The sender is woken only once 96 of its 128 KiB are read: 2.4 s
        // at this pace, over the 1 s timeout; the reading shows meanwhile.
        let mut ours = WriteDeadline::new(ours, Duration::from_secs(1));
        ours.write_all(&vec![7u8; TOTAL])
            .await
            .expect("a reader that keeps reading is not cut");
        assert_eq!(reader.await.expect("the reader"), TOTAL);
    }
}
