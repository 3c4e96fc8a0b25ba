//! Where a peer listens ([`Listen`]) and how its listening socket is made:
//! `SO_REUSEADDR` and a 4096-connection backlog through socket2, so that a
//! peer can rebind a reserved port and take thousands of connects at once.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use linesman_stream::Endpoint;
use socket2::{Domain, SockAddr, Socket, Type};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use crate::error::ListenError;

/// The accept backlog of every listening socket (the kernel may cap it at
/// `net.core.somaxconn`).
pub(crate) const BACKLOG: i32 = 4096;

/// Where a peer listens.
///
/// The default is `tcp://127.0.0.1:0`: loopback, on a free port the OS picks.
/// It parses from the same text as an [`Endpoint`], except that a TCP host
/// must be an IP address and the port may be 0.
///
/// ```
/// use linesman_testkit::Listen;
///
/// assert_eq!(Listen::default().to_string(), "tcp://127.0.0.1:0");
/// let unix: Listen = "unix:///tmp/feed.sock".parse().unwrap();
/// assert_eq!(unix, Listen::unix("/tmp/feed.sock"));
/// assert!("tcp://localhost:0".parse::<Listen>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Listen {
    /// A TCP address; port 0 picks a free port.
    Tcp(SocketAddr),
    /// A Unix socket path. A stale socket file at the path is replaced.
    Unix(PathBuf),
}

impl Default for Listen {
    fn default() -> Self {
        Listen::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }
}

impl Listen {
    /// TCP on loopback, on a free port: the same as [`Listen::default`].
    pub fn tcp() -> Self {
        Listen::default()
    }

    /// A Unix socket at `path`.
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Listen::Unix(path.into())
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(addr) => write!(f, "tcp://{addr}"),
            Listen::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

impl FromStr for Listen {
    type Err = ListenError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = input.strip_prefix("tcp://")
            && let Ok(addr) = rest.parse::<SocketAddr>()
        {
            return Ok(Listen::Tcp(addr));
        }
        let endpoint: Endpoint = input.parse().map_err(|source| ListenError::Endpoint {
            input: input.to_owned(),
            source,
        })?;
        Listen::try_from(endpoint)
    }
}

impl TryFrom<Endpoint> for Listen {
    type Error = ListenError;

    fn try_from(endpoint: Endpoint) -> Result<Self, Self::Error> {
        match endpoint {
            Endpoint::Tcp { host, port } => match host.parse() {
                Ok(ip) => Ok(Listen::Tcp(SocketAddr::new(ip, port))),
                Err(_) => Err(ListenError::HostName { host }),
            },
            Endpoint::Unix(path) => Ok(Listen::Unix(path)),
        }
    }
}

/// The endpoint a client connects to for a bound TCP address.
pub(crate) fn tcp_endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint::Tcp {
        host: addr.ip().to_string(),
        port: addr.port(),
    }
}

/// Finds a free port for `addr` (when its port is 0) by binding it once.
/// The port stays free until the peer binds it again, unless another program
/// takes it meanwhile, which the OS makes unlikely by handing out ports in turn.
pub(crate) fn reserve_tcp(addr: SocketAddr) -> io::Result<SocketAddr> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    std::net::TcpListener::bind(addr)?.local_addr()
}

/// A bound, listening socket of either kind.
#[derive(Debug)]
pub(crate) enum Bound {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// An accepted connection of either kind.
#[derive(Debug)]
pub(crate) enum Accepted {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Bound {
    pub(crate) async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Bound::Tcp(listener) => listener.accept().await.map(|(s, _)| Accepted::Tcp(s)),
            Bound::Unix(listener) => listener.accept().await.map(|(s, _)| Accepted::Unix(s)),
        }
    }
}

/// Binds a TCP listener with `SO_REUSEADDR` and a [`BACKLOG`] backlog.
pub(crate) fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Binds a Unix listener with a [`BACKLOG`] backlog, replacing a stale socket
/// file at `path` (never a file of another kind).
pub(crate) fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    remove_stale_socket(path)?;
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SockAddr::unix(path)?)?;
    socket.listen(BACKLOG)?;
    UnixListener::from_std(socket.into())
}

/// Removes `path` if it is a socket; leaves any other file alone (binding
/// then fails with "address in use", which names the problem).
fn remove_stale_socket(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
