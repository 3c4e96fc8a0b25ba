//! [`Connection`]: one supervised connection, how it is made and
//! configured, and the two ways it is steered (a session at a time, and
//! [`SessionControl`] from outside). Its sessions are in `session/`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use linesman_observer::Bus;
use tokio::sync::Semaphore;

use super::control::SessionControl;
use super::log::SessionLog;
use crate::budget::SocketBudget;
use crate::handle::ConnectionHandle;
use crate::handler::DynHandler;
use crate::reason::SessionOutcome;
use crate::shared::Shared;
use crate::spec::{ConnectionSpec, Target};

/// One supervised connection: its settings, its handler (which lives across
/// sessions) and the state its [`ConnectionHandle`]s share.
///
/// Each call of [`run_session`](Connection::run_session) is one session.
/// See the crate docs for an example.
pub struct Connection {
    /// Its spec's settings, possibly shared with other connections whose
    /// settings are the same ([`Connection::with_settings`]): their name,
    /// kind, tags and target are not this connection's (the handle's
    /// shared state has its own).
    pub(super) spec: Arc<ConnectionSpec>,
    pub(super) handler: Box<dyn DynHandler>,
    pub(super) shared: Arc<Shared>,
    /// Permits for connects in flight, shared with other connections.
    pub(super) connect_limit: Option<Arc<Semaphore>>,
    /// What the ends of its sessions logged, to limit repeats.
    pub(super) log: SessionLog,
    /// Places for open sockets, shared with other connections.
    pub(super) socket_budget: Option<Arc<SocketBudget>>,
    /// How long the running session's writer may flush what is queued
    /// when the session is stopped (given to each `run_session`). Kept
    /// here, not in the session's future, where two of its layers would
    /// each hold a copy while up (`size.rs`).
    pub(super) drain: Duration,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("name", &self.name())
            .field("target", &self.shared.target)
            .field("counters", &self.handle().counters())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection that publishes its events on `bus`, under the spec's
    /// name, kind and tags.
    pub fn new(spec: ConnectionSpec, handler: Box<dyn DynHandler>, bus: &Bus) -> Connection {
        let handle = ConnectionHandle::for_spec(&spec, bus);
        Connection::with_handle(spec, handler, handle)
    }

    /// A connection whose handle was made before it, with
    /// [`ConnectionHandle::for_spec`] on the same spec: for whoever hands
    /// out handles before the handler is known (a supervisor gives
    /// [`Supervisor::handle`](https://docs.rs/linesman-supervisor) before
    /// `run`, and builds each connection, with its handler, when `run`
    /// starts).
    ///
    /// # Panics
    ///
    /// If `handle` is of another connection (its name is not the spec's):
    /// a programmer's mistake.
    ///
    /// ```
    /// use linesman_connection::{Connection, ConnectionHandle, ConnectionSpec, Counting};
    /// use linesman_observer::Bus;
    ///
    /// let bus = Bus::default();
    /// let spec = ConnectionSpec::new("feed", "tcp://127.0.0.1:7001".parse()?);
    /// let handle = ConnectionHandle::for_spec(&spec, &bus); // handed out first
    /// let conn = Connection::with_handle(spec, Box::new(Counting), handle.clone());
    /// assert_eq!(conn.handle().name(), handle.name());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_handle(
        spec: ConnectionSpec,
        handler: Box<dyn DynHandler>,
        handle: ConnectionHandle,
    ) -> Connection {
        assert_eq!(
            handle.name(),
            spec.name,
            "Connection::with_handle: the handle is of another connection"
        );
        Connection::with_settings(Arc::new(spec), handler, handle)
    }

    /// A connection named by its `handle` (made with
    /// [`ConnectionHandle::for_spec`] on the connection's own spec), whose
    /// sessions use `settings`: every field of that spec but its name, kind,
    /// tags and target, which are the handle's. For whoever runs many
    /// connections whose settings are the same
    /// ([`ConnectionSpec::same_settings`], endpoints apart): one `Arc`
    /// serves them all, where each would otherwise hold a copy (a spec is
    /// ~370 bytes, in every connection's task).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use linesman_connection::{Connection, ConnectionHandle, ConnectionSpec, Counting};
    /// use linesman_observer::Bus;
    ///
    /// let bus = Bus::default();
    /// let a = ConnectionSpec::new("a", "tcp://127.0.0.1:7001".parse()?);
    /// let b = ConnectionSpec::new("b", "tcp://127.0.0.1:7002".parse()?);
    /// assert!(a.same_settings(&b), "the endpoint is not a setting");
    /// let handle_b = ConnectionHandle::for_spec(&b, &bus);
    /// let settings = Arc::new(a);
    /// let conn = Connection::with_settings(settings, Box::new(Counting), handle_b);
    /// assert_eq!(conn.name(), "b");
    /// assert_eq!(conn.target().to_string(), "tcp://127.0.0.1:7002");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_settings(
        settings: Arc<ConnectionSpec>,
        handler: Box<dyn DynHandler>,
        handle: ConnectionHandle,
    ) -> Connection {
        Connection {
            spec: settings,
            handler,
            shared: handle.into_shared(),
            connect_limit: None,
            drain: Duration::ZERO,
            log: SessionLog::default(),
            socket_budget: None,
        }
    }

    /// Bounds the connects in flight: each session takes a permit of
    /// `limit` after publishing `Connecting` and before opening its target,
    /// and gives it back once the handshake is done or the connect failed.
    /// Share one semaphore between many connections so that a storm of
    /// connects (all connections starting, or all reconnecting at once)
    /// reaches the peers' accept queues a bounded number at a time.
    /// Default: no limit.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use linesman_connection::{Connection, ConnectionSpec, Counting};
    /// use linesman_observer::Bus;
    /// use tokio::sync::{OwnedSemaphorePermit, Semaphore};
    ///
    /// let limit = Arc::new(Semaphore::new(256));
    /// let spec = ConnectionSpec::new("feed", "tcp://127.0.0.1:7001".parse()?);
    /// let mut conn = Connection::new(spec, Box::new(Counting), &Bus::default());
    /// conn.limit_connects(Arc::clone(&limit));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn limit_connects(&mut self, limit: Arc<Semaphore>) {
        self.connect_limit = Some(limit);
    }

    /// Bounds the sockets open at once: each session takes a place in
    /// `budget` before it opens its socket (or blocking source) and gives it
    /// back once that is closed; a session that finds none left fails at
    /// once with [`Reason::ConnectFailed`](crate::Reason::ConnectFailed) ("no socket left: …"), before
    /// `socket(2)` is called. Share one budget between all connections of a
    /// process, set below its open-file limit, so that descriptors are
    /// left for everything else (the control plane answers `linesman
    /// status` however many connections fail). Default: no bound.
    ///
    /// ```
    /// use linesman_connection::{Connection, ConnectionSpec, Counting, SocketBudget};
    /// use linesman_observer::Bus;
    ///
    /// let budget = SocketBudget::new(950);
    /// let spec = ConnectionSpec::new("feed", "tcp://127.0.0.1:7001".parse()?);
    /// let mut conn = Connection::new(spec, Box::new(Counting), &Bus::default());
    /// conn.limit_open_sockets(budget.clone());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn limit_open_sockets(&mut self, budget: Arc<SocketBudget>) {
        self.socket_budget = Some(budget);
    }

    /// A handle for application code; every handle is the same connection,
    /// across all its sessions.
    pub fn handle(&self) -> ConnectionHandle {
        ConnectionHandle::new(Arc::clone(&self.shared))
    }

    /// The connection's name.
    pub fn name(&self) -> &str {
        self.shared.publisher.name()
    }

    /// The settings its sessions use: its spec, or the one it shares with
    /// other connections ([`with_settings`](Connection::with_settings)),
    /// whose name, kind, tags and target may be another connection's (its
    /// own target is [`target`](Connection::target)).
    pub fn settings(&self) -> &Arc<ConnectionSpec> {
        &self.spec
    }

    /// What its sessions connect to (or open).
    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    /// Runs one session and returns how it ended.
    ///
    /// 1. Publishes `Connecting { attempt }`, takes a place in the socket
    ///    budget if it has one (none left: fails at once, see
    ///    [`limit_open_sockets`](Connection::limit_open_sockets)) and opens
    ///    the target (for a socket: resolve, `on_open` hook, connect with
    ///    the spec's options). If that fails: publishes `ConnectFailed`,
    ///    returns [`Reason::ConnectFailed`](crate::Reason::ConnectFailed); the handler is not called.
    /// 2. Runs the handler's `on_connect`; only once it returns `Ok`
    ///    publishes `Connected { peer }` (up: ready to carry data), and the
    ///    outbox starts to flow. If it fails, the session ends with
    ///    [`Reason::HandshakeFailed`](crate::Reason::HandshakeFailed) (or [`Reason::HandlerPanic`](crate::Reason::HandlerPanic)) and
    ///    `ConnectFailed` is published, not `Disconnected`: the connection
    ///    was never up.
    /// 3. Gives every frame to `on_frame`, except replies to pending
    ///    requests, until the peer closes, an error, the idle, write or
    ///    frame timeout, a failed heartbeat, a handler error or panic,
    ///    [`Link::finish`](crate::Link::finish), or `stop`. An end of input
    ///    while the writer failed takes the writer's reason.
    /// 4. Ends, in this order: when `stop` or a finish ended it, frames
    ///    queued at that moment are written (for at most `drain`); then pending requests
    ///    fail with `ConnectionLost`, and queued sends too (or stay in the
    ///    outbox for the next session, if there is one); `on_disconnect`
    ///    runs; the stream is closed explicitly, so `before_close` runs while
    ///    the fd is open; `Disconnected { reason }` is published if the
    ///    session was up.
    ///
    /// A stop (or finish) before the target is open ends the session with
    /// [`Reason::Stopped`](crate::Reason::Stopped) (or [`Reason::Finished`](crate::Reason::Finished)) and publishes nothing
    /// more. A session is stopped from outside through
    /// [`session_control`](Connection::session_control); a stop asked for
    /// before this is called is forgotten.
    ///
    /// It makes no span of its own (a span is 40 bytes in every session's
    /// future): run it inside one that names the connection (the
    /// supervisor's `connection` span does; `.instrument(span)` otherwise).
    /// The lines that concern one attempt (`up`, `down`, `connect failed`)
    /// name it themselves.
    pub fn run_session(
        &mut self,
        attempt: u32,
        drain: Duration,
    ) -> impl Future<Output = SessionOutcome> + Send + '_ {
        self.shared.clear_stop();
        self.drain = drain;
        self.session(attempt)
    }

    /// What steers this connection's sessions from outside: stops the
    /// running one, says whether it is up, and publishes the steering
    /// party's own events under the connection's name (one `Arc`).
    pub fn session_control(&self) -> SessionControl {
        SessionControl {
            shared: Arc::clone(&self.shared),
        }
    }
}
