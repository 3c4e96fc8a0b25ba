//! [`Connection`]: one connection's spec, handler and shared state, and
//! [`Connection::run_session`], which runs exactly one session — connect,
//! handshake, frames, end — and reports how it ended. Restarts, backoff and
//! dependency rules are the caller's business.

mod control;
mod drive;
mod io;
mod log;
mod read;
mod tracked;
mod transport;
mod writer;

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use linesman_ipc_codec::Codec;
use linesman_observer::{Bus, ConnectFailed, Connecting, Disconnected};
use linesman_stream::BlockingSource;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use self::control::SessionControl;

use self::drive::{Run, disconnect, drive};
use self::io::{SessionIo, WriterSlot};
use self::log::{SessionLog, UpLine};
use self::transport::Transport;
use crate::budget::{SocketBudget, SocketPermit};
use crate::handle::ConnectionHandle;
use crate::handler::DynHandler;
use crate::reason::{Reason, SessionOutcome};
use crate::shared::Shared;
use crate::spec::{ConnectionSpec, Target};

/// One supervised connection: its spec, its handler (which lives across
/// sessions) and the state its [`ConnectionHandle`]s share.
///
/// Each call of [`run_session`](Connection::run_session) is one session.
/// See the crate docs for an example.
pub struct Connection {
    spec: ConnectionSpec,
    handler: Box<dyn DynHandler>,
    shared: Arc<Shared>,
    /// Permits for connects in flight, shared with other connections.
    connect_limit: Option<Arc<Semaphore>>,
    /// What the ends of its sessions logged, to limit repeats.
    log: SessionLog,
    /// Places for open sockets, shared with other connections.
    socket_budget: Option<Arc<SocketBudget>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("spec", &self.spec)
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
        Connection {
            spec,
            handler,
            shared: handle.into_shared(),
            connect_limit: None,
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
    /// once with [`Reason::ConnectFailed`] ("no socket left: …"), before
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
        &self.spec.name
    }

    /// The connection's spec.
    pub fn spec(&self) -> &ConnectionSpec {
        &self.spec
    }

    /// Runs one session and returns how it ended.
    ///
    /// 1. Publishes `Connecting { attempt }`, takes a place in the socket
    ///    budget if it has one (none left: fails at once, see
    ///    [`limit_open_sockets`](Connection::limit_open_sockets)) and opens
    ///    the target (for a socket: resolve, `on_open` hook, connect with
    ///    the spec's options). If that fails: publishes `ConnectFailed`,
    ///    returns [`Reason::ConnectFailed`]; the handler is not called.
    /// 2. Runs the handler's `on_connect`; only once it returns `Ok`
    ///    publishes `Connected { peer }` (up: ready to carry data), and the
    ///    outbox starts to flow. If it fails, the session ends with
    ///    [`Reason::HandshakeFailed`] (or [`Reason::HandlerPanic`]) and
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
    /// [`Reason::Stopped`] (or [`Reason::Finished`]) and publishes nothing
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
        self.session(attempt, drain)
    }

    /// What steers this connection's sessions from outside: stops the
    /// running one, says whether it is up, and publishes the steering
    /// party's own events under the connection's name (one `Arc`).
    pub fn session_control(&self) -> SessionControl {
        SessionControl {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Not an `async fn`: the `async move` block holds its arguments once,
    /// an `async fn` twice (see `size.rs` for what that costs).
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold its arguments twice: +24 bytes per session (size.rs)"
    )]
    fn session(
        &mut self,
        attempt: u32,
        drain: Duration,
    ) -> impl Future<Output = SessionOutcome> + Send + '_ {
        async move {
            self.shared.publish(Connecting { attempt });
            let shared = &self.shared;
            let permit = match &self.connect_limit {
                Some(limit) => tokio::select! {
                    biased;
                    reason = poll_fn(|cx| shared.poll_end(cx)) => {
                        return self.not_up(reason, attempt);
                    }
                    // Only closed if the owner closes it: then go without.
                    permit = Arc::clone(limit).acquire_owned() => permit.ok(),
                },
                None => None,
            };
            // A place in the socket budget, or fail before `socket(2)`.
            let socket = match &self.socket_budget {
                Some(budget) => match budget.take() {
                    Some(socket) => Some(socket),
                    None => {
                        let error = budget.exhausted();
                        return self.not_up(
                            Reason::ConnectFailed {
                                kind: std::io::ErrorKind::Other,
                                error,
                            },
                            attempt,
                        );
                    }
                },
                None => None,
            };
            // One statement: the result and the transport are moved on at
            // once, so the session's future keeps no slot for them while up.
            let transport = match tokio::select! {
                biased;
                reason = poll_fn(|cx| self.shared.poll_end(cx)) => Err(reason),
                // Boxed: the connect future is large and lives only until
                // the socket is open; unboxed it would size every session's
                // future.
                opened = Box::pin(transport::open(&self.spec)) => opened,
            } {
                Ok(transport) => transport,
                Err(reason) => return self.not_up(reason, attempt),
            };
            // If this future is dropped half-way, the queues are still
            // settled; the socket's place is given back once it is closed.
            let mut guard = EndGuard {
                shared: Some(Arc::clone(&self.shared)),
                _socket: socket,
            };
            // Each kind of transport in a future of its own, awaited at one
            // point: their locals then share the storage of one state of
            // this future instead of each taking a slot of its own.
            let run = match transport {
                Transport::Socket(stream) => {
                    let opening = Box::new(Opening {
                        peer: String::new(),
                        permit,
                        attempt,
                        up: self.log.up_line(),
                    });
                    self.socket_session(stream, drain, opening, &mut guard)
                        .await
                }
                Transport::Blocking(source) => {
                    let opening = Box::new(Opening {
                        peer: self.spec.target.to_string(),
                        permit,
                        attempt,
                        up: self.log.up_line(),
                    });
                    self.blocking_session(source, opening, &mut guard).await
                }
            };
            self.ended(run, attempt)
        }
    }

    /// The connected part of a session over a socket.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold its arguments twice: +32 bytes per session (size.rs)"
    )]
    fn socket_session<'a>(
        &'a mut self,
        stream: Box<linesman_stream::Stream>,
        drain: Duration,
        mut opening: Box<Opening>,
        guard: &'a mut EndGuard,
    ) -> impl Future<Output = Run> + Send + 'a {
        async move {
            let read_write = split(stream, &self.spec.target);
            let (read, write);
            (opening.peer, read, write) = read_write;
            // The writer task starts at once only for a heartbeat; otherwise
            // on the first frame to write.
            let writer = match self.spec.heartbeat {
                Some(beat) => WriterSlot::Running(writer::spawn(
                    write,
                    codec(&self.spec),
                    Arc::clone(&self.shared),
                    Some(beat),
                    self.spec.write_timeout,
                )),
                None => WriterSlot::Idle(write, self.spec.write_timeout),
            };
            let mut io = SessionIo::new(
                read,
                codec(&self.spec),
                writer,
                Arc::clone(&self.shared),
                self.spec.idle_timeout,
                self.spec.frame_timeout,
            );
            let run = drive(&mut *self.handler, &mut io, opening).await;
            // Boxed: the end of the session would otherwise take room in
            // the session's future beside `drive` for its whole life.
            Box::pin(end_socket_session(
                &mut *self.handler,
                &self.shared,
                io,
                run,
                drain,
                guard,
            ))
            .await
        }
    }

    /// The connected part of a session over a blocking source.
    async fn blocking_session<'a>(
        &'a mut self,
        source: Box<BlockingSource>,
        opening: Box<Opening>,
        guard: &'a mut EndGuard,
    ) -> Run {
        let mut io = SessionIo::new(
            source,
            codec(&self.spec),
            WriterSlot::None,
            Arc::clone(&self.shared),
            self.spec.idle_timeout,
            self.spec.frame_timeout,
        );
        let run = drive(&mut *self.handler, &mut io, opening).await;
        // Boxed, as for a socket.
        Box::pin(end_blocking_session(&mut *self.handler, io, run, guard)).await
    }

    /// Publishes the end of a session that connected.
    fn ended(&mut self, run: Run, attempt: u32) -> SessionOutcome {
        let Some(up_since) = run.up_since else {
            return self.not_up(run.reason, attempt);
        };
        if run.reason.is_failure() {
            self.shared.set_last_error(run.reason.to_string());
        }
        self.shared.publish(Disconnected {
            reason: run.reason.to_string(),
        });
        self.log.came_up();
        self.log.disconnected(attempt, &run.reason);
        SessionOutcome {
            reason: run.reason,
            was_up: true,
            uptime: up_since.elapsed(),
        }
    }

    /// Publishes the end of a session that never came up.
    fn not_up(&mut self, reason: Reason, attempt: u32) -> SessionOutcome {
        if reason.is_failure() {
            self.shared.set_last_error(reason.to_string());
            self.shared.publish(ConnectFailed {
                error: reason.to_string(),
                attempt,
            });
            self.log.connect_failed(attempt, &reason);
        }
        SessionOutcome {
            reason,
            was_up: false,
            uptime: Duration::ZERO,
        }
    }
}

/// The end of a session over a socket: the writer finished (drained on a
/// stop or finish), the queues settled, `on_disconnect`, then the stream
/// closed whole, so `before_close` runs while the fd is open. When the
/// session ended at the end of its input and the writer had failed, the
/// writer's reason is the session's: a connection the kernel aborted
/// whose error the writer met first is that error, not a clean end.
async fn end_socket_session(
    handler: &mut dyn DynHandler,
    shared: &Arc<Shared>,
    mut io: SessionIo<ReadHalf>,
    mut run: Run,
    drain: Duration,
    guard: &mut EndGuard,
) -> Run {
    io.publish_counts();
    let slot = std::mem::replace(&mut io.writer, WriterSlot::None);
    // A stop or a finish writes what was queued; any other end aborts.
    let graceful = !run.reason.is_failure();
    let (write, writer_failed) = slot
        .finish(shared, io.reader.codec(), graceful, drain)
        .await;
    // The input ended (the peer's close, or an abort whose error the
    // writer took) while the writer failed: the writer knows why.
    if let Some(reason) = writer_failed
        && run.reason.is_end_of_input()
    {
        run.reason = reason;
    }
    guard.end();
    disconnect(handler, &run.reason).await;
    let read = io.reader.into_inner().into_inner();
    match write {
        Some(write) => {
            if let Err(error) = read.unsplit(write).close().await {
                tracing::debug!(%error, "closing the stream reported an error");
            }
        }
        // The writer task failed; dropping the last half closes the
        // stream, and `before_close` still runs first.
        None => drop(read),
    }
    run
}

/// The end of a session over a blocking source: the queues settled,
/// `on_disconnect`, then the source cancelled. The driver call in progress
/// cannot be interrupted: its thread ends when it returns, without holding
/// this up.
async fn end_blocking_session(
    handler: &mut dyn DynHandler,
    mut io: SessionIo<Box<BlockingSource>>,
    run: Run,
    guard: &mut EndGuard,
) -> Run {
    io.publish_counts();
    guard.end();
    disconnect(handler, &run.reason).await;
    let mut source = io.reader.into_inner().into_inner();
    source.cancel();
    drop(source);
    run
}

/// What a session holds from its connect until it is up: the peer's
/// address for `Connected`, the connect permit, and the attempt and level
/// of the `up` line. Boxed, so the session's future keeps a pointer for
/// them, not the values, for its whole life.
pub(crate) struct Opening {
    pub(crate) peer: String,
    pub(crate) permit: Option<OwnedSemaphorePermit>,
    pub(crate) attempt: u32,
    pub(crate) up: UpLine,
}

/// The spec's codec. Made where it is used rather than cloned from a
/// local, which the session's future would keep while up.
fn codec(spec: &ConnectionSpec) -> Codec {
    Codec::new(spec.layout)
        .max_decode_frame(spec.max_frame)
        .max_encode_frame(spec.max_frame)
}

/// The peer's address (or the target, if the socket cannot tell) and the
/// stream's two halves. A function of its own so that the session's future
/// never borrows the stream, which would keep a slot for it while up.
#[expect(
    clippy::boxed_local,
    reason = "unboxed at the call, the session's future would keep a slot for the box"
)]
fn split(stream: Box<linesman_stream::Stream>, target: &Target) -> (String, ReadHalf, WriteHalf) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| target.to_string(), |addr| addr.to_string());
    let (read, write) = tokio::io::split(*stream);
    (peer, read, write)
}

type ReadHalf = tokio::io::ReadHalf<linesman_stream::Stream>;
type WriteHalf = tokio::io::WriteHalf<linesman_stream::Stream>;

/// Settles the queues of a session (`Shared::end_session`) exactly once:
/// explicitly at the end, or on drop when the session future is dropped.
/// Holds the session's place in the socket budget until it is dropped,
/// after the stream is closed.
struct EndGuard {
    shared: Option<Arc<Shared>>,
    _socket: Option<SocketPermit>,
}

impl EndGuard {
    fn end(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.end_session();
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.end();
    }
}
