//! [`connect`]: resolve an [`Endpoint`], then try each address in turn —
//! create the socket, apply [`ConnectOptions`], run `on_open`, connect with a
//! timeout — and return the first [`Stream`] that connects.
//!
//! Why the connect is done by hand (socket2 nonblocking `connect(2)`, then
//! waiting for writability) instead of `tokio::net::TcpSocket::connect`: that
//! method owns the socket until it connects, so a timed-out or cancelled
//! attempt would close the fd inside tokio before `before_close` could run.
//! Here every socket sits in a [`Closing`] guard from creation on, so every
//! exit path — success, error, timeout, cancellation — passes through
//! `before_close` while the fd is open.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket};
use tokio::net::{TcpStream, UnixStream};

use crate::endpoint::Endpoint;
use crate::error::{ConnectAttempt, ConnectError};
use crate::hooks::SocketHooks;
use crate::options::ConnectOptions;
use crate::stream::{SocketAddress, Stream};
use crate::{limits, resolve};

mod socket;

use socket::{
    STREAM, apply_tcp_options, context, ensure_nonblocking, start_connect, wait_connected,
};

/// Opens a [`Stream`] to `endpoint`.
///
/// A `tcp://` host name is resolved at every call; each address is tried in
/// the order the resolver gives, each with up to
/// [`connect_timeout`](ConnectOptions::connect_timeout) to connect (name
/// resolution has the same budget; at most [`MAX_LOOKUPS`](crate::MAX_LOOKUPS)
/// lookups run at once in the process, so a hung resolver holds at most
/// that many blocking threads). An IP address is not looked up. The first
/// address that connects wins.
/// `hooks.on_open` runs on every socket before it connects; an error from it
/// abandons the connect. A `unix://` endpoint is one address.
///
/// # Errors
///
/// [`ConnectError`] says which endpoint, every address tried and what the OS
/// said; [`ConnectError::kind`] tells "refused" from "timed out". Out of file
/// descriptors is [`ConnectError::TooManyOpenFiles`], with the limit.
pub async fn connect(
    endpoint: &Endpoint,
    options: &ConnectOptions,
    hooks: &SocketHooks,
) -> Result<Stream, ConnectError> {
    let addresses = match endpoint {
        Endpoint::Tcp { host, port } => resolve(endpoint, host, *port, options.connect_timeout)
            .await?
            .into_iter()
            .map(SocketAddress::Tcp)
            .collect(),
        Endpoint::Unix(path) => vec![SocketAddress::Unix(Some(path.clone()))],
    };
    try_in_turn(endpoint, addresses, options, hooks).await
}

/// Tries each address in order; the first that connects wins.
async fn try_in_turn(
    endpoint: &Endpoint,
    addresses: Vec<SocketAddress>,
    options: &ConnectOptions,
    hooks: &SocketHooks,
) -> Result<Stream, ConnectError> {
    let mut attempts = Vec::with_capacity(addresses.len());
    for address in addresses {
        let result = match &address {
            SocketAddress::Tcp(addr) => attempt_tcp(*addr, options, hooks).await,
            SocketAddress::Unix(path) => {
                let path = path.as_deref().unwrap_or(Path::new(""));
                attempt_unix(path, options.connect_timeout, hooks).await
            }
        };
        match result {
            Ok(stream) => {
                tracing::debug!(%endpoint, %address, "connected");
                return Ok(Stream::new(stream, endpoint.clone(), hooks.clone()));
            }
            Err(Failure::Hook(source)) => {
                return Err(ConnectError::Hook {
                    endpoint: endpoint.clone(),
                    address,
                    source,
                });
            }
            Err(Failure::OutOfFds(source)) => {
                return Err(ConnectError::TooManyOpenFiles {
                    endpoint: endpoint.clone(),
                    limit: limits::nofile_limit().ok(),
                    source,
                });
            }
            Err(Failure::Io(error)) => {
                tracing::debug!(%endpoint, %address, %error, "connect attempt failed");
                attempts.push(ConnectAttempt { address, error });
            }
        }
    }
    let endpoint = endpoint.clone();
    if attempts
        .iter()
        .all(|a| a.error.kind() == io::ErrorKind::TimedOut)
    {
        Err(ConnectError::Timeout {
            endpoint,
            timeout: options.connect_timeout,
            attempts,
        })
    } else {
        Err(ConnectError::Connect { endpoint, attempts })
    }
}

/// Resolves `host`, in the resolver's order, without duplicates (see
/// `resolve.rs` for the bound on lookups in flight).
async fn resolve(
    endpoint: &Endpoint,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, ConnectError> {
    let found = resolve::lookup(host, port, timeout)
        .await
        .map_err(|source| ConnectError::Resolve {
            endpoint: endpoint.clone(),
            source,
        })?;
    let mut addresses: Vec<SocketAddr> = Vec::with_capacity(found.len());
    for addr in found {
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    if addresses.is_empty() {
        return Err(ConnectError::NoAddresses {
            endpoint: endpoint.clone(),
        });
    }
    Ok(addresses)
}

/// Why one attempt failed: the hook (abandons the connect), no file
/// descriptor left (abandons it too: no other address can do better), or
/// the OS (try the next address).
enum Failure {
    Hook(io::Error),
    OutOfFds(io::Error),
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        if limits::is_out_of_fds(&error) {
            Failure::OutOfFds(error)
        } else {
            Failure::Io(error)
        }
    }
}

/// A socket whose closing runs `before_close` first, on every path.
struct Closing<'h, T: AsFd> {
    io: Option<T>,
    hooks: &'h SocketHooks,
}

impl<'h, T: AsFd> Closing<'h, T> {
    fn new(io: T, hooks: &'h SocketHooks) -> Self {
        Closing {
            io: Some(io),
            hooks,
        }
    }

    /// The socket. `io` is `Some` from `new` until `into_inner`, which
    /// consumes the guard, so the `None` arm is never taken.
    fn get(&self) -> io::Result<&T> {
        self.io
            .as_ref()
            .ok_or_else(|| io::Error::other("socket already handed on"))
    }

    /// Hands the socket on; its closing is now the receiver's job.
    fn into_inner(mut self) -> io::Result<T> {
        self.io
            .take()
            .ok_or_else(|| io::Error::other("socket already handed on"))
    }
}

impl<T: AsFd> Drop for Closing<'_, T> {
    fn drop(&mut self) {
        if let Some(io) = &self.io {
            self.hooks.run_before_close(&SockRef::from(io));
        }
    }
}

/// `socket(2)` failed: out of file descriptors (kept as the OS said it, so
/// it is recognised), or another error with its context.
fn create_failed(error: io::Error) -> Failure {
    if limits::is_out_of_fds(&error) {
        Failure::OutOfFds(error)
    } else {
        Failure::Io(context("create socket", error))
    }
}

/// One TCP attempt: socket, options, `on_open`, connect, wait.
async fn attempt_tcp(
    addr: SocketAddr,
    options: &ConnectOptions,
    hooks: &SocketHooks,
) -> Result<crate::stream::Io, Failure> {
    let socket = Socket::new(Domain::for_address(addr), STREAM, Some(Protocol::TCP))
        .map_err(create_failed)?;
    let socket = Closing::new(socket, hooks);
    let raw = socket.get()?;
    ensure_nonblocking(raw)?;
    apply_tcp_options(raw, options)?;
    hooks
        .run_on_open(&SockRef::from(raw))
        .map_err(Failure::Hook)?;
    let in_progress = start_connect(raw, &SockAddr::from(addr))?;
    let stream: std::net::TcpStream = socket.into_inner()?.into();
    let stream = Closing::new(TcpStream::from_std(stream)?, hooks);
    if in_progress {
        wait_connected(stream.get()?, options.connect_timeout).await?;
    }
    Ok(crate::stream::Io::Tcp(stream.into_inner()?))
}

/// One Unix attempt: socket, `on_open`, connect (immediate on Linux).
async fn attempt_unix(
    path: &Path,
    timeout: Duration,
    hooks: &SocketHooks,
) -> Result<crate::stream::Io, Failure> {
    let socket = Socket::new(Domain::UNIX, STREAM, None).map_err(create_failed)?;
    let socket = Closing::new(socket, hooks);
    let raw = socket.get()?;
    ensure_nonblocking(raw)?;
    hooks
        .run_on_open(&SockRef::from(raw))
        .map_err(Failure::Hook)?;
    let addr = SockAddr::unix(path).map_err(|e| context("unix socket path", e))?;
    let in_progress = start_connect(raw, &addr).map_err(|e| not_a_socket(path, e))?;
    let stream: std::os::unix::net::UnixStream = socket.into_inner()?.into();
    let stream = Closing::new(UnixStream::from_std(stream)?, hooks);
    if in_progress {
        wait_connected(stream.get()?, timeout).await?;
    }
    Ok(crate::stream::Io::Unix(stream.into_inner()?))
}

/// A refused connect to a path that is not a socket (a regular file, a
/// directory, a FIFO), said as such: "connection refused" sent the
/// operator to look for a listener that cannot exist there.
fn not_a_socket(path: &Path, error: io::Error) -> io::Error {
    use std::os::unix::fs::FileTypeExt;
    if error.kind() != io::ErrorKind::ConnectionRefused {
        return error;
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return error;
    };
    if meta.file_type().is_socket() {
        return error;
    }
    let what = crate::file_kind(meta.file_type());
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a socket but {what}, so nothing can listen there; check the endpoint's path"),
    )
}

#[cfg(test)]
mod tests;
