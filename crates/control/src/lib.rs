//! linesman's control plane: an HTTP/1.1 + JSON API on a Unix socket, served
//! by the daemon (`linesman run`) and used by the `linesman` CLI.
//!
//! - [`ControlState`] collects what the server reads from a
//!   [`Supervisor`](linesman_supervisor::Supervisor) before it runs;
//!   [`ControlServer::bind`] creates the socket (mode 0600, a stale one
//!   replaced, a live one never stolen) and [`ControlServer::run`] or
//!   [`ControlServer::spawn`] serves it until shutdown, then removes it.
//! - [`Client`] talks to it: [`status`](Client::status),
//!   [`events`](Client::events), [`start`](Client::start) /
//!   [`stop`](Client::stop) / [`restart`](Client::restart),
//!   [`metrics`](Client::metrics).
//! - [`api`] holds the JSON types; only this crate and the CLI know JSON.
//!
//! The API:
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /v1/status` | [`StatusResponse`] |
//! | `GET /v1/events` | one [`EventLine`] per line (its `type` and fields a [`What`]), the current state of every connection first (`replay: true`), then live events, until the daemon shuts down |
//! | `POST /v1/connections/{name}/start`, `/stop`, `/restart` | [`ActionResponse`]; 404 with an [`ErrorBody`] naming the known connections for an unknown name |
//! | `GET /metrics` | Prometheus (OpenMetrics) text |
//!
//! Only the socket owner's uid is served (checked with the peer's
//! credentials, see [`authorize`]); anyone else gets 403.
//!
//! ```no_run
//! use linesman_control::Client;
//!
//! # async fn run() -> Result<(), linesman_control::ClientError> {
//! let client = Client::new("/run/user/1000/linesman/linesman.sock");
//! for c in client.status().await?.connections {
//!     println!("{} {} {}", c.name, c.state, c.detail);
//! }
//! client.restart("quotes").await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod accept;
mod answers;
pub mod api;
mod client;
mod convert;
mod deadline;
mod error;
mod events;
mod filter;
mod metrics;
mod options;
mod places;
mod private_dir;
mod routes;
mod serve;
mod server;
mod shown;
mod socket;
mod state;
mod user;

pub use api::{
    ActionResponse, ConnectionStatus, ErrorBody, EventLine, GaveUpCause, ReloadResponse, State,
    StatusResponse, What,
};
pub use client::{Client, EventFilter, EventStream};
pub use error::{ClientError, ControlError, SocketDirError};
pub use options::ServerOptions;
pub use private_dir::{check_private_dir, ensure_private_dir, shared_dir_risk};
pub use server::{ControlServer, ServerHandle};
pub use socket::{MAX_SOCKET_PATH, SocketCleanup, authorize};
pub use state::{ControlState, Reloader};
