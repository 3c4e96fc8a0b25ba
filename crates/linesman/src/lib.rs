//! linesman for application code: one dependency and one import for what
//! an application needs to keep its outbound connections alive.
//!
//! Each layer is also its own crate, usable alone; this facade re-exports
//! them under short names ([`stream`], [`codec`], [`observer`],
//! [`connection`], [`supervisor`], [`config`], and `control` with the
//! feature of that name, on by default) and gathers the everyday names in
//! [`prelude`].
//!
//! ```
//! use linesman::prelude::*;
//!
//! /// Counts the quotes of one feed; one instance lives across restarts.
//! struct Quotes {
//!     seen: u64,
//! }
//!
//! impl Handler for Quotes {
//!     async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
//!         Ok(link.send(Frame::new(1, "subscribe ACME")).await?)
//!     }
//!     async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
//!         self.seen += 1;
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let peer = linesman_testkit::Peer::echo().await?;
//! # let endpoint = peer.endpoint();
//! let spec = Spec::builder()
//!     .connection(ConnectionSpec::new("quotes", endpoint.clone()))
//!     .connection(Supervised::new(ConnectionSpec::new("audit", endpoint)).depends_on(["quotes"]))
//!     .build()?;
//! let supervisor = Supervisor::new(spec).handler("quotes", Quotes { seen: 0 })?;
//! let _on_up = supervisor.bus().on::<Connected>(|event, up| {
//!     println!("{} is up (peer {})", event.conn, up.peer);
//! });
//! let mut audit = supervisor.bus().subscribe(Interest::all().conn("audit"));
//! let control = supervisor.control();
//! let running = tokio::spawn(supervisor.run());
//!
//! // `audit` starts only once `quotes` is up; wait for it, then shut down.
//! // A subscription has its own `next()` (and is a `Stream` for combinators).
//! while let Some(event) = audit.next().await {
//!     if event.event_type() == EventType::Connected {
//!         break;
//!     }
//! }
//! assert!(control.state("quotes").is_some_and(|s| s.state.is_up()));
//! control.shutdown();
//! running.await?;
//! # Ok(()) }
//! ```
//!
//! ## YAML plus code
//!
//! The file gives what an operator tunes; code adds what only code can
//! give — socket hooks, blocking targets, handlers, connections of its own.
//! One way: take the file's spec back as its builder
//! ([`Spec::into_builder`](supervisor::Spec::into_builder), which keeps
//! every setting of the file), amend its connections by name
//! ([`configure`](supervisor::SpecBuilder::configure)), add connections,
//! and `build` again, which validates the whole once (a name `configure`
//! cannot find is an error with the nearest one, as is a cycle the code
//! made); then attach handlers by name with
//! [`Supervisor::handler`](supervisor::Supervisor::handler).
//!
//! ```
//! use std::time::Duration;
//! use linesman::prelude::*;
//!
//! struct Orders;
//!
//! impl Handler for Orders {
//!     async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (quotes, orders, audit) = (
//! #     linesman_testkit::Peer::echo().await?,
//! #     linesman_testkit::Peer::echo().await?,
//! #     linesman_testkit::Peer::echo().await?,
//! # );
//! # let yaml = format!(
//! #     "shutdown_timeout: 2s\nconnections:\n  quotes: {{ endpoint: {} }}\n  orders: {{ endpoint: {} }}\n",
//! #     quotes.endpoint(),
//! #     orders.endpoint(),
//! # );
//! # let audit_endpoint = audit.endpoint();
//! // In an application: `linesman::config::load(Path::new("app.yaml"))?`.
//! let config = linesman::config::parse("app.yaml", &yaml)?;
//! let spec = config
//!     .spec
//!     .into_builder()
//!     .configure("quotes", |c| {
//!         let hooks = SocketHooks::default().on_open(|sock| sock.set_reuse_address(true));
//!         c.connection.hooks = hooks;
//!     })
//!     .connection(
//!         Supervised::new(ConnectionSpec::new("audit", audit_endpoint))
//!             .depends_on(["quotes", "orders"]),
//!     )
//!     .build()?;
//! assert_eq!(spec.shutdown_timeout(), Duration::from_secs(2)); // from the file
//! let supervisor = Supervisor::new(spec).handler("orders", Orders)?;
//! let mut audit_up = supervisor
//!     .bus()
//!     .subscribe(Interest::all().conn("audit").event::<Connected>());
//! let control = supervisor.control();
//! let running = tokio::spawn(supervisor.run());
//! tokio::time::timeout(Duration::from_secs(10), audit_up.next()).await?;
//! control.shutdown();
//! running.await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

pub use linesman_config as config;
pub use linesman_connection as connection;
/// The control plane (feature `control`, on by default): the server that
/// answers `linesman status` (and `--watch`), `start`, `stop`, `restart`
/// and `wait` on a Unix socket, and the [`Client`](linesman_control::Client)
/// that asks it. An application that supervises its connections itself
/// serves it like this, and the operator's `linesman status --socket
/// PATH` works as against the daemon:
///
/// ```
/// use linesman::control::{Client, ControlServer, ControlState};
/// use linesman::prelude::*;
/// use std::time::Duration;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let peer = linesman_testkit::Peer::echo().await?;
/// # let endpoint = peer.endpoint();
/// # let dir = linesman_testkit::TempDir::new("facade-control")?;
/// # let socket = dir.join("linesman.sock");
/// let spec = Spec::builder()
///     .connection(ConnectionSpec::new("quotes", endpoint))
///     .build()?;
/// let supervisor = Supervisor::new(spec);
/// // What the server reads is taken before `run` consumes the supervisor.
/// let server = ControlServer::bind(&socket, ControlState::new(&supervisor))?.spawn();
/// let mut ups = supervisor.bus().subscribe(Interest::all().event::<Connected>());
/// let control = supervisor.control();
/// let running = tokio::spawn(supervisor.run());
///
/// // What `linesman status` asks, once `quotes` is up.
/// tokio::time::timeout(Duration::from_secs(10), ups.next()).await?;
/// let status = Client::new(&socket).status().await?;
/// assert_eq!(status.connections[0].name, "quotes");
/// assert_eq!(status.connections[0].state, linesman::control::State::Up);
///
/// control.shutdown();
/// running.await?;
/// server.shutdown().await?; // and the socket file is removed
/// assert!(!socket.exists());
/// # Ok(()) }
/// ```
#[cfg(feature = "control")]
#[doc(inline)]
pub use linesman_control as control;
pub use linesman_ipc_codec as codec;
pub use linesman_observer as observer;
pub use linesman_stream as stream;
pub use linesman_supervisor as supervisor;

/// The names most applications use, for `use linesman::prelude::*`.
///
/// None of them collides with `use linesman::observer::*`: a name both
/// export is the same item, and the restart policy's backoff is
/// [`BackoffPolicy`](prelude::BackoffPolicy), apart from the observer's
/// `Backoff` event.
pub mod prelude {
    pub use linesman_connection::{
        Burst, ConnectionHandle, ConnectionSpec, Handler, HandlerError, Link, Reason, RequestError,
        SendError,
    };
    pub use linesman_ipc_codec::{Frame, FrameLayout, Message, MessageError};
    pub use linesman_observer::{
        Bus, ConnState, Connected, Disconnected, Event, EventType, Interest, Listener, What,
    };
    pub use linesman_stream::{ConnectOptions, Endpoint, SocketHooks};
    pub use linesman_supervisor::{
        BackoffPolicy, OnDependencyDown, RestartMode, RestartPolicy, Rule, RunReport, Signal, Spec,
        Supervised, Supervisor, SupervisorHandle,
    };
}
