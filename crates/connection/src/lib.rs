//! One connection's sessions: connect (through `linesman-stream`, socket
//! hooks included), frame (through `linesman-ipc-codec`), run the
//! application's [`Handler`], and end with a typed [`Reason`] — telling the
//! observer bus each step as it happens (`Connecting`, `Connected` once the
//! handshake is done, `ConnectFailed`, `Disconnected`).
//!
//! This crate knows nothing of restarts or dependency rules: one call of
//! [`Connection::run_session`] is one session; the supervisor decides what
//! comes next. Application code sends and requests through a
//! [`ConnectionHandle`], which stays valid while sessions come and go.
//!
//! ```
//! use std::time::Duration;
//! use futures_util::StreamExt;
//! use linesman_connection::{Connection, ConnectionSpec, Handler};
//! use linesman_connection::{HandlerError, Link, Reason, StopCause};
//! use linesman_ipc_codec::Frame;
//! use linesman_observer::{Bus, EventType};
//!
//! struct Feed;
//! impl Handler for Feed {
//!     async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
//!         Ok(link.send(Frame::new(1, "subscribe")).await?) // the handshake
//!     }
//!     async fn on_frame(&mut self, frame: Frame, _: &Link) -> Result<(), HandlerError> {
//!         Ok(println!("frame of type {}", frame.ty))
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let peer = linesman_testkit::Peer::echo().await?; // a local server that echoes
//! let bus = Bus::default();
//! let spec = ConnectionSpec::new("feed", peer.endpoint());
//! let mut conn = Connection::new(spec, Box::new(Feed), &bus);
//! let (handle, mut events) = (conn.handle(), conn.handle().events());
//! let control = conn.session_control();
//! let session = tokio::spawn(async move { conn.run_session(1, Duration::from_secs(1)).await });
//! while events.next().await.ok_or("bus closed")?.event_type() != EventType::Connected {}
//! let reply = handle.request(Frame::new(2, "ping"), Duration::from_secs(5)).await?;
//! assert_eq!(&reply.payload[..], b"ping");
//! control.stop();
//! assert_eq!(session.await?.reason, Reason::Stopped(StopCause::Requested));
//! # Ok(()) }
//! ```

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod budget;
mod ends;
mod error;
mod far;
mod handle;
mod handler;
mod log_limit;
mod reason;
mod session;
mod shared;
mod size;
mod spec;

pub use budget::SocketBudget;
pub use ends::{EndCounts, ReasonClass};
pub use error::{HandlerError, RequestError, SendError};
pub use far::FAR_FUTURE;
pub use handle::{ConnectionHandle, Counters, Link};
pub use handler::{Burst, Counting, DynHandler, Handler, HandlerFuture};
pub use log_limit::{Admission, LogFlood, LogLimit, Verdict};
pub use reason::{Reason, SessionOutcome, StopCause};
pub use session::{Connection, SessionControl};
pub use spec::{BlockingTarget, ConnectionSpec, DEFAULT_WRITE_TIMEOUT, Heartbeat, Outbox, Target};
