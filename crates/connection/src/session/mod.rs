//! [`Connection`]: one connection's spec, handler and shared state, and
//! [`Connection::run_session`], which runs exactly one session — connect,
//! handshake, frames, end — and reports how it ended. Restarts, backoff and
//! dependency rules are the caller's business.

mod connection;
mod control;
mod drive;
mod end;
mod io;
mod log;
mod read;
mod tracked;
mod transport;
mod writer;

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::Either;
use linesman_ipc_codec::Codec;
use linesman_observer::{ConnectFailed, Connecting, Disconnected};
use linesman_stream::BlockingSource;
use tokio::io::AsyncRead;
use tokio::sync::OwnedSemaphorePermit;

pub use self::connection::Connection;
pub use self::control::SessionControl;

use self::drive::{Run, drive};
use self::end::{EndGuard, end_blocking_session, end_socket_session};
use self::io::{SessionIo, WriterSlot};
use self::log::UpLine;
use self::transport::Transport;
use crate::reason::{Reason, SessionOutcome};
use crate::spec::{ConnectionSpec, Target};

impl Connection {
    /// Not an `async fn`: the `async move` block holds its arguments once,
    /// an `async fn` twice (see `size.rs` for what that costs).
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold its arguments twice: +24 bytes per session (size.rs)"
    )]
    fn session(&mut self, attempt: u32) -> impl Future<Output = SessionOutcome> + Send + '_ {
        async move {
            self.shared.publish(Connecting { attempt });
            // Everything up to the session in a block of its own: a local
            // whose scope spans the session's await keeps a slot in this
            // future while up, even once it is moved from (the permit, the
            // socket's place, the transport: 40 bytes).
            let run = {
                let shared = &self.shared;
                // Made first, so that the connect permit waits in the box
                // (a pointer) while the connect runs, not in a 16-byte slot
                // of this future that would stay reserved while up.
                let mut opening = Box::new(Opening {
                    peer: String::new(),
                    permit: None,
                    attempt,
                    up: self.log.up_line(),
                });
                opening.permit = match &self.connect_limit {
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
                let transport = match tokio::select! {
                    biased;
                    reason = poll_fn(|cx| self.shared.poll_end(cx)) => Err(reason),
                    // Boxed: the connect future is large and lives only until
                    // the socket is open; unboxed it would size every session's
                    // future.
                    opened = Box::pin(transport::open(&self.shared.target, &self.spec)) => opened,
                } {
                    Ok(transport) => transport,
                    Err(reason) => return self.not_up(reason, attempt),
                };
                // The guard goes into the session's own future (dropping this
                // future drops it there: the queues are still settled, and the
                // socket's place is given back once the socket is closed).
                let guard = EndGuard {
                    shared: Some(Arc::clone(&self.shared)),
                    _socket: socket,
                };
                // Each kind of transport in a future of its own, made before
                // the one await: the transport is consumed by then, so this
                // future keeps no slot for it, nor for the permit, while up.
                match transport {
                    Transport::Socket(stream) => {
                        Either::Left(self.socket_session(stream, opening, guard))
                    }
                    Transport::Blocking(source) => {
                        opening.peer = self.shared.target.to_string();
                        Either::Right(self.blocking_session(source, opening, guard))
                    }
                }
            }
            .await;
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
        mut opening: Box<Opening>,
        mut guard: EndGuard,
    ) -> impl Future<Output = Run> + Send + 'a {
        async move {
            let read_write = split(stream, &self.shared.target);
            let (read, write);
            (opening.peer, read, write) = read_write;
            // The writer task starts at once only for a heartbeat; otherwise
            // on the first frame to write.
            let writer = match self.spec.heartbeat {
                Some(beat) => WriterSlot::Running({
                    self.shared.writer_started();
                    writer::spawn(
                        write,
                        codec(&self.spec),
                        Arc::clone(&self.shared),
                        Some(beat),
                        self.spec.write_timeout,
                    )
                }),
                None => WriterSlot::Idle(write, self.spec.write_timeout),
            };
            let mut io = self.session_io(read, writer);
            let run = drive(&mut *self.handler, &mut io, opening).await;
            // Boxed: the end of the session would otherwise take room in
            // the session's future beside `drive` for its whole life.
            Box::pin(end_socket_session(
                &mut *self.handler,
                &self.shared,
                io,
                run,
                self.drain,
                &mut guard,
            ))
            .await
        }
    }

    /// The connected part of a session over a blocking source.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold its arguments twice, and its future sizes every session's (size.rs)"
    )]
    fn blocking_session<'a>(
        &'a mut self,
        source: Box<BlockingSource>,
        opening: Box<Opening>,
        mut guard: EndGuard,
    ) -> impl Future<Output = Run> + Send + 'a {
        async move {
            let mut io = self.session_io(source, WriterSlot::None);
            let run = drive(&mut *self.handler, &mut io, opening).await;
            // Boxed, as for a socket.
            Box::pin(end_blocking_session(
                &mut *self.handler,
                io,
                run,
                &mut guard,
            ))
            .await
        }
    }

    /// The receiving side of a session reading from `reader`, with the
    /// spec's codec and timeouts.
    fn session_io<R: AsyncRead + Unpin>(&self, reader: R, writer: WriterSlot) -> SessionIo<R> {
        SessionIo::new(
            reader,
            codec(&self.spec),
            writer,
            Arc::clone(&self.shared),
            self.spec.idle_timeout,
            self.spec.frame_timeout,
        )
    }

    /// Publishes the end of a session that connected.
    fn ended(&mut self, run: Run, attempt: u32) -> SessionOutcome {
        let Some(up_since) = run.up_since else {
            return self.not_up(run.reason, attempt);
        };
        if run.reason.is_failure() {
            self.shared.set_last_error(run.reason.to_string());
        }
        self.shared.count_disconnect(&run.reason);
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
            self.shared.count_connect_failure(&reason);
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

pub(crate) type ReadHalf = tokio::io::ReadHalf<linesman_stream::Stream>;
type WriteHalf = tokio::io::WriteHalf<linesman_stream::Stream>;
