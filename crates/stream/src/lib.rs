//! linesman's transport: where a connection goes ([`Endpoint`]), how it is
//! opened ([`connect`] with [`ConnectOptions`] and [`SocketHooks`]), and the
//! byte streams the rest of linesman frames — a [`Stream`] over TCP or Unix
//! sockets, or a [`BlockingSource`] over a blocking driver call.
//!
//! This crate knows nothing of framing or supervision: it opens one socket
//! when asked, and owns its closing so that
//! [`before_close`](SocketHooks::before_close) always sees an open fd.
//!
//! ```no_run
//! use linesman_stream::{ConnectOptions, Endpoint, SocketHooks, connect};
//! use tokio::io::AsyncWriteExt;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let endpoint: Endpoint = "tcp://localhost:7001".parse()?;
//! let hooks = SocketHooks::default()
//!     .on_open(|sock| sock.set_mark(42)) // before connect: options, bind, mark
//!     .before_close(|sock| eprintln!("closing {:?}", sock.local_addr().ok()));
//! let mut stream = connect(&endpoint, &ConnectOptions::default(), &hooks).await?;
//! stream.write_all(b"hello").await?;
//! stream.close().await?; // before_close runs here (or on drop)
//! # Ok(()) }
//! ```

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod blocking;
mod connect;
mod end;
mod endpoint;
mod error;
mod file_kind;
mod hidden;
mod hooks;
mod limits;
mod options;
mod resolve;
mod size;
mod stream;

pub use blocking::{BlockingSource, BlockingSourceOptions};
pub use connect::connect;
pub use end::{AbortedElsewhere, InputEnd, input_end};
pub use endpoint::Endpoint;
pub use endpoint::{EndpointError, MAX_UNIX_PATH};
pub use error::{BlockingSourceError, ConnectAttempt, ConnectError};
pub use file_kind::file_kind;
pub use hidden::{escape_hidden, is_hidden, is_invisible_format};
pub use hooks::SocketHooks;
pub use limits::{nofile_limit, open_fds, raise_nofile_limit};
pub use options::{ConnectOptions, Keepalive};
pub use resolve::MAX_LOOKUPS;
pub use stream::{SocketAddress, Stream};

/// The `socket2` crate itself, for the types hook code needs
/// (`SockAddr`, `TcpKeepalive`, …).
pub use socket2;
/// The raw-socket view handed to [`SocketHooks`], re-exported so that hook
/// code uses the same `socket2` version as linesman.
pub use socket2::SockRef;
