//! Every testkit peer behaviour against a real client: tokio TCP and Unix
//! streams framed with linesman's codec, on loopback and in temp dirs.
//!
//! Waits are bounded by [`within`] so a broken peer fails a test instead of
//! hanging it; no test asserts how long anything took.

mod colliding;
mod control;
mod echo;
mod hostile;
mod lifecycle;
mod process;
mod quiet;
mod send;

use std::future::Future;
use std::io;
use std::time::Duration;

use linesman_ipc_codec::Codec;
use linesman_stream::Endpoint;
use linesman_testkit::{Listen, TempDir};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio_util::codec::Framed;

/// Any client stream; tests use one type for TCP and Unix.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A framed client connection.
pub(crate) type Client = Framed<Box<dyn Io>, Codec>;

/// The upper bound on any single wait: long enough for a loaded machine,
/// short enough that a hang fails the test.
pub(crate) const BOUND: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes more than [`BOUND`].
pub(crate) async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, fut)
        .await
        .expect("the peer did not get there within the bound")
}

/// Opens a raw stream to `endpoint`.
pub(crate) async fn connect_raw(endpoint: &Endpoint) -> io::Result<Box<dyn Io>> {
    Ok(match endpoint {
        Endpoint::Tcp { host, port } => Box::new(TcpStream::connect((host.as_str(), *port)).await?),
        Endpoint::Unix(path) => Box::new(UnixStream::connect(path).await?),
    })
}

/// Opens a framed client connection to `endpoint`.
pub(crate) async fn connect(endpoint: &Endpoint) -> io::Result<Client> {
    Ok(Framed::new(connect_raw(endpoint).await?, Codec::default()))
}

/// Where a test peer listens, keeping its temp dir alive for Unix sockets.
pub(crate) struct Place {
    pub(crate) listen: Listen,
    _dir: Option<TempDir>,
}

/// TCP on loopback, free port.
pub(crate) fn tcp() -> Place {
    Place {
        listen: Listen::default(),
        _dir: None,
    }
}

/// A Unix socket in a fresh temp dir.
pub(crate) fn unix() -> Place {
    let dir = TempDir::new("testkit").expect("a temp dir can be made");
    Place {
        listen: Listen::unix(dir.join("peer.sock")),
        _dir: Some(dir),
    }
}
