//! [`Stream`]: one connected socket, TCP or Unix, as `AsyncRead + AsyncWrite`
//! without trait objects, which owns its closing so that
//! [`SocketHooks::before_close`] always runs while the fd is still open.
//!
//! Why a struct with `Drop` and not a bare enum: tokio closes the fd when its
//! stream is dropped. To run `before_close` first on every path (explicit
//! [`Stream::close`], drop, drop after an error, cancellation), the hook runs
//! in our `Drop::drop`, which Rust calls before it drops the fields — that is,
//! before tokio closes the fd.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::end::{AbortedElsewhere, InputEnd, input_end};
use crate::endpoint::Endpoint;
use crate::hooks::{CloseHook, SocketHooks};

/// The address of one end of a [`Stream`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SocketAddress {
    /// An IPv4 or IPv6 address and port.
    Tcp(SocketAddr),
    /// A Unix socket path, `None` for an unnamed socket (a client's own end
    /// is usually unnamed).
    Unix(Option<PathBuf>),
}

impl fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketAddress::Tcp(addr) => write!(f, "{addr}"),
            SocketAddress::Unix(Some(path)) => write!(f, "{}", path.display()),
            SocketAddress::Unix(None) => f.write_str("(unnamed unix socket)"),
        }
    }
}

/// The socket itself: a closed enum, so reads and writes dispatch by `match`.
#[derive(Debug)]
pub(crate) enum Io {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A connected TCP or Unix stream socket, opened by
/// [`connect`](crate::connect).
///
/// It implements [`AsyncRead`] and [`AsyncWrite`], so it can be framed with
/// `tokio_util::codec::Framed` like any tokio socket. Closing it — with
/// [`close`](Stream::close) or by dropping it — runs the
/// [`SocketHooks::before_close`] hook exactly once, while the fd is still open
/// and before the peer can see the close.
#[derive(Debug)]
pub struct Stream {
    io: Io,
    endpoint: Endpoint,
    /// The `before_close` hook, taken when it runs, so it runs once (the
    /// rest of the hooks is of no use once the stream is open).
    before_close: CloseHook,
}

impl Stream {
    /// A stream over a socket that `connect` opened.
    pub(crate) fn new(io: Io, endpoint: Endpoint, hooks: SocketHooks) -> Self {
        Stream {
            io,
            endpoint,
            before_close: hooks.close_hook(),
        }
    }

    /// Wraps an already connected TCP stream, for streams linesman did not
    /// open itself (an accepted socket, a test). `before_close` of `hooks`
    /// will run when the stream is closed; `on_open` is not used.
    pub fn from_tcp(stream: TcpStream, endpoint: Endpoint, hooks: SocketHooks) -> Self {
        Stream::new(Io::Tcp(stream), endpoint, hooks)
    }

    /// Wraps an already connected Unix stream; see [`Stream::from_tcp`].
    pub fn from_unix(stream: UnixStream, endpoint: Endpoint, hooks: SocketHooks) -> Self {
        Stream::new(Io::Unix(stream), endpoint, hooks)
    }

    /// The endpoint this stream was opened for.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether this is a TCP stream (otherwise it is a Unix stream).
    pub fn is_tcp(&self) -> bool {
        matches!(self.io, Io::Tcp(_))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddress> {
        match &self.io {
            Io::Tcp(s) => s.peer_addr().map(SocketAddress::Tcp),
            Io::Unix(s) => s
                .peer_addr()
                .map(|a| SocketAddress::Unix(a.as_pathname().map(PathBuf::from))),
        }
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddress> {
        match &self.io {
            Io::Tcp(s) => s.local_addr().map(SocketAddress::Tcp),
            Io::Unix(s) => s
                .local_addr()
                .map(|a| SocketAddress::Unix(a.as_pathname().map(PathBuf::from))),
        }
    }

    /// The raw socket, to read or set options. Do not close it: the stream
    /// owns its closing.
    pub fn sock_ref(&self) -> SockRef<'_> {
        SockRef::from(self)
    }

    /// Flushes, runs `before_close`, shuts the write side down (the peer
    /// sees end of input) and closes the socket.
    ///
    /// The hook and the close happen even when flushing or shutting down
    /// fails; the first such error is returned.
    pub async fn close(mut self) -> io::Result<()> {
        let flushed = self.flush().await;
        self.run_before_close();
        let shut = self.sock_ref().shutdown(Shutdown::Write);
        drop(self);
        flushed.and(shut)
    }

    /// Runs `before_close` unless it already ran.
    fn run_before_close(&mut self) {
        let mut hook = std::mem::take(&mut self.before_close);
        hook.run_once(&SockRef::from(&*self));
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // The fields, and with them the fd, are dropped after this returns.
        self.run_before_close();
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.io {
            Io::Tcp(s) => s.as_fd(),
            Io::Unix(s) => s.as_fd(),
        }
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// Reading returns end of input only when the peer closed the connection:
/// a TCP connection aborted on this side (a timeout, a reset) whose error
/// another call already took reads as an error, the pending one or
/// [`AbortedElsewhere`](crate::AbortedElsewhere), not as a clean end (see
/// [`input_end`](crate::input_end); Linux only, elsewhere end of input is
/// taken as it comes). The kernel is asked only when a read returns 0.
impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => {
                let before = buf.filled().len();
                ready!(Pin::new(&mut *s).poll_read(cx, buf))?;
                if buf.filled().len() == before
                    && buf.remaining() > 0
                    && let InputEnd::Aborted(pending) = input_end(s.as_fd())
                {
                    return Poll::Ready(Err(AbortedElsewhere::error(pending)));
                }
                Poll::Ready(Ok(()))
            }
            Io::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Io::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Tcp(s) => s.is_write_vectored(),
            Io::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_flush(cx),
            Io::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    /// Shuts the write side down; the socket stays open (and `before_close`
    /// has not run) until the stream is closed or dropped.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Io::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
