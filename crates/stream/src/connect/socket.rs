//! The socket-level steps of a connect: the socket type, its options, a
//! nonblocking `connect(2)` and the wait for it to finish.

use std::io;
use std::time::Duration;

use socket2::{SockAddr, Socket, TcpKeepalive, Type};
use tokio::net::{TcpStream, UnixStream};

use crate::options::ConnectOptions;

/// Adds what linesman was doing to an OS error, keeping its kind.
pub(super) fn context(what: &str, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{what}: {error}"))
}

/// The type of every socket made here: where the platform allows, it is
/// non-blocking from the `socket` call itself (`SOCK_NONBLOCK`), which
/// saves the two `fcntl` calls per connect of setting it afterwards.
#[cfg(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd",
))]
pub(super) const STREAM: Type = Type::STREAM.nonblocking();
#[cfg(not(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd",
)))]
pub(super) const STREAM: Type = Type::STREAM;

/// Makes `socket` non-blocking where [`STREAM`] did not already.
pub(super) fn ensure_nonblocking(socket: &Socket) -> io::Result<()> {
    if STREAM == Type::STREAM {
        socket
            .set_nonblocking(true)
            .map_err(|e| context("set O_NONBLOCK", e))?;
    }
    Ok(())
}

/// Applies the TCP options, naming the option in any error.
pub(super) fn apply_tcp_options(socket: &Socket, options: &ConnectOptions) -> io::Result<()> {
    socket
        .set_tcp_nodelay(options.nodelay)
        .map_err(|e| context("set TCP_NODELAY", e))?;
    if let Some(keepalive) = &options.keepalive {
        let params = TcpKeepalive::new()
            .with_time(keepalive.idle)
            .with_interval(keepalive.interval);
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "freebsd",
            target_os = "netbsd",
            target_vendor = "apple"
        ))]
        let params = params.with_retries(keepalive.count);
        socket
            .set_tcp_keepalive(&params)
            .map_err(|e| context("set TCP keepalive", e))?;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(timeout) = options.user_timeout {
        socket
            .set_tcp_user_timeout(Some(timeout))
            .map_err(|e| context("set TCP_USER_TIMEOUT", e))?;
    }
    if let Some(size) = options.send_buffer_size {
        socket
            .set_send_buffer_size(size)
            .map_err(|e| context("set SO_SNDBUF", e))?;
    }
    if let Some(size) = options.recv_buffer_size {
        socket
            .set_recv_buffer_size(size)
            .map_err(|e| context("set SO_RCVBUF", e))?;
    }
    Ok(())
}

/// Starts a nonblocking connect; `Ok(true)` when it is still in progress.
pub(super) fn start_connect(socket: &Socket, addr: &SockAddr) -> io::Result<bool> {
    match socket.connect(addr) {
        Ok(()) => Ok(false),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(true),
        // A Unix listener whose backlog is full refuses a nonblocking connect.
        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Err(context(
            "connect (the listener's backlog is full; it is not accepting)",
            e,
        )),
        Err(e) => Err(e),
    }
}

/// Waits until an in-progress connect is done, up to `timeout`.
///
/// A connect the kernel finished within `connect(2)` — on loopback the
/// whole handshake runs inside the call — is taken as it is, without
/// waiting for the I/O driver to report the socket writable: that wait
/// costs every such connect a wake-up of its task, a second poll and a
/// timer. Otherwise (still in progress, as any connect over a network
/// is) it costs two cheap system calls more.
pub(super) async fn wait_connected<S>(stream: &S, timeout: Duration) -> io::Result<()>
where
    S: Writable,
{
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    if stream.check_peer().is_ok() {
        return Ok(());
    }
    match tokio::time::timeout(timeout, stream.writable()).await {
        Err(_elapsed) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer within {timeout:?}"),
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) => match stream.take_error()? {
            Some(e) => Err(e),
            None => stream.check_peer(),
        },
    }
}

/// What [`wait_connected`] needs of tokio's TCP and Unix streams.
pub(super) trait Writable {
    async fn writable(&self) -> io::Result<()>;
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// Fails with `ENOTCONN` unless the socket is connected.
    fn check_peer(&self) -> io::Result<()>;
}

impl Writable for TcpStream {
    async fn writable(&self) -> io::Result<()> {
        TcpStream::writable(self).await
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        TcpStream::take_error(self)
    }
    fn check_peer(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}

impl Writable for UnixStream {
    async fn writable(&self) -> io::Result<()> {
        UnixStream::writable(self).await
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        UnixStream::take_error(self)
    }
    fn check_peer(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}
