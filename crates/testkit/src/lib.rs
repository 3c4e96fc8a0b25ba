//! Local peers that speak linesman's default wire format and misbehave on
//! request, so examples, tests, benchmarks and the demo never hand-roll
//! servers.
//!
//! A [`Peer`] runs in-process on tokio tasks and serves one [`Behavior`] on
//! TCP or a Unix socket: echo, send frames, send requests whose ids collide
//! with the client's, drop connections, refuse for a while, send hostile
//! bytes, go silent, read slowly. Its [`PeerStats`] can be
//! read at any time and waited on without sleeping. A [`PeerProcess`] runs
//! the same peer as a child process (the `linesman-peer` binary) for tests
//! that kill it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::{SinkExt, StreamExt};
//! use linesman_ipc_codec::{Codec, Frame};
//! use linesman_stream::{ConnectOptions, SocketHooks, connect};
//! use linesman_testkit::{Behavior, Listen, Peer};
//!
//! let peer = Peer::start(Listen::default(), Behavior::Echo).await?;
//! let stream = connect(&peer.endpoint(), &ConnectOptions::default(), &SocketHooks::default()).await?;
//! let mut framed = tokio_util::codec::Framed::new(stream, Codec::default());
//! framed.send(Frame::request(7, 1, "ping")).await?;
//! let reply = framed.next().await.ok_or("the peer closed")??;
//! assert_eq!(reply, Frame::request(7, 1, "ping").with_reply(true), "the echo marks its replies");
//! assert_eq!(peer.stats().accepted, 1);
//! # Ok(())
//! # }
//! ```
//!
//! Durations in behaviours are real time: peers serve real sockets, so tests
//! should assert what happened (counts, orders, errors), never how long it took.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod behavior;
mod cli;
mod error;
mod example;
mod listen;
mod options;
mod peer;
mod process;
mod record;
mod rlimit;
mod serve;
mod stats;
mod temp;

pub use behavior::{Behavior, HostileKind, send_payload};
pub use cli::{BehaviorArgs, BehaviorName, behavior_args};
pub use error::{ListenError, ProcessError};
pub use example::{EXAMPLE_LIMIT, ExampleRun, run_example};
pub use listen::Listen;
pub use options::PeerOptions;
pub use peer::Peer;
pub use process::{BINARY_ENV, PeerProcess};
pub use record::Recording;
pub use rlimit::raise_nofile_limit;
pub use stats::PeerStats;
pub use temp::TempDir;
