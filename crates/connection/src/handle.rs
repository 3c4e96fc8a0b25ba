//! [`ConnectionHandle`]: how application code sends, requests, watches and
//! closes a connection, stable across sessions; [`Link`]: the same for the
//! handler, which may also send during its handshake; [`Counters`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, ConnStatus, Interest, Subscription};

use crate::ends::EndCounts;
use crate::error::{RequestError, SendError};
use crate::shared::{Enqueued, Shared};
use crate::spec::ConnectionSpec;

/// What a connection has carried, over all its sessions.
///
/// Frames and bytes count every frame decoded from, or written to, the
/// socket, replies and heartbeats included; bytes are counted as encoded
/// (header and payload).
///
/// Received frames and bytes are added once per burst — when the session
/// has decoded every frame it holds and waits for more, and when it ends —
/// not once per frame: while frames keep arriving back to back, the counts
/// lag by at most the frames of the burst being handled, and they are
/// complete once the session waits or has ended (before `Disconnected` is
/// published).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Frames received.
    pub frames_in: u64,
    /// Frames written.
    pub frames_out: u64,
    /// Bytes received, headers included.
    pub bytes_in: u64,
    /// Bytes written, headers included.
    pub bytes_out: u64,
    /// Sessions that came up (`Connected` was published).
    pub sessions: u64,
    /// Frames marked as replies that matched no pending request (it timed
    /// out or was never made), dropped instead of handed to the handler.
    /// Each is also logged as a warning, at most one line a minute.
    pub unmatched_replies: u64,
    /// The reason the last failed session or connect attempt gave.
    pub last_error: Option<String>,
    /// Connect failures and disconnects by [`ReasonClass`](crate::ReasonClass).
    pub ends: EndCounts,
}

/// A connection's handle for application code: clonable, and stable across
/// sessions, so it can be kept while sessions come and go.
///
/// - [`send`](ConnectionHandle::send) resolves once the frame is written to
///   the socket; while no session is up it fails at once with
///   [`SendError::NotConnected`], or waits in the bounded outbox if the
///   connection has one. A send whose future is dropped before its frame
///   was written is not written.
/// - [`request`](ConnectionHandle::request) sends a frame with a fresh id and
///   resolves with the reply that comes back with the same id.
#[derive(Debug, Clone)]
pub struct ConnectionHandle {
    shared: Arc<Shared>,
}

impl ConnectionHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> ConnectionHandle {
        ConnectionHandle { shared }
    }

    /// The handle of a connection of `spec` that publishes on `bus`, made
    /// before the connection itself (see
    /// [`Connection::with_handle`](crate::Connection::with_handle)); sends
    /// fail with [`SendError::NotConnected`] (or wait in the outbox) until
    /// a session runs.
    pub fn for_spec(spec: &ConnectionSpec, bus: &Bus) -> ConnectionHandle {
        ConnectionHandle::for_spec_named(spec, Arc::from(spec.name.as_str()), bus)
    }

    /// As [`for_spec`](Self::for_spec), with the connection's name (the
    /// value of `spec.name`) given as an `Arc` to share rather than copy:
    /// a supervisor keeps one copy of each connection's name for its own
    /// lists, the bus's records and the handle (with 10,000 connections,
    /// every copy is ~32 bytes per connection).
    pub fn for_spec_named(spec: &ConnectionSpec, name: Arc<str>, bus: &Bus) -> ConnectionHandle {
        debug_assert_eq!(*name, *spec.name, "the name is the spec's");
        let mut publisher = bus
            .publisher(name)
            .tags(spec.tags.iter().map(String::as_str));
        if let Some(kind) = &spec.kind {
            publisher = publisher.kind(kind.as_str());
        }
        let shared = Shared::new(publisher, spec.outbox, spec.target.clone());
        ConnectionHandle::new(Arc::new(shared))
    }

    pub(crate) fn into_shared(self) -> Arc<Shared> {
        self.shared
    }

    /// The connection's name.
    pub fn name(&self) -> &str {
        self.shared.publisher.name()
    }

    /// Sends `frame`; resolves `Ok` once it is written whole (flushed) to
    /// the socket. That is not a receipt: a peer that dies before reading
    /// it loses it with its socket buffers. A send that fails never reached
    /// the peer whole, so it can be sent again without a duplicate.
    ///
    /// # Errors
    ///
    /// [`SendError::NotConnected`] at once while no session is up and there
    /// is no outbox; [`SendError::OutboxFull`] at once when the outbox is
    /// full; [`SendError::ConnectionLost`] when the session ended before the
    /// frame was written (without an outbox, or with a frame that was being
    /// written); [`SendError::Closed`] after [`close`](ConnectionHandle::close);
    /// [`SendError::Encode`] when the frame does not fit the layout or
    /// `max_frame`; [`SendError::ReceiveOnly`] on a blocking source.
    pub async fn send(&self, frame: Frame) -> Result<(), SendError> {
        send(&self.shared, frame, false, None).await
    }

    /// Sends `frame` as a request with a fresh id (replacing any id it has,
    /// and clearing a reply mark) and resolves with the reply that comes
    /// back carrying the same id.
    ///
    /// Ids come from a counter of the connection that starts at 1 and is
    /// never reset, so an id is never reused. The reply completes the
    /// request and is not given to the handler's `on_frame`. Replies may
    /// come in any order.
    ///
    /// With a layout that marks replies (the default, see
    /// `linesman_ipc_codec::Replies`), only a frame marked as a reply
    /// (`Frame::reply` on the peer's side) completes a request, so the peer
    /// may send requests of its own with the same ids: those go to the
    /// handler, which answers them with `frame.reply(..)`. With
    /// `Replies::ById`, any frame with the id completes the request, a
    /// request of the peer included.
    ///
    /// # Errors
    ///
    /// [`RequestError::TimedOut`] when no reply came within `timeout`
    /// (counted from this call); [`RequestError::ConnectionLost`] when the
    /// session ended before the reply came (the request may or may not
    /// have been written); [`RequestError::Send`] when it could not be
    /// queued or the codec refused it; [`RequestError::Closed`] after
    /// [`close`](ConnectionHandle::close).
    pub async fn request(&self, frame: Frame, timeout: Duration) -> Result<Frame, RequestError> {
        request(&self.shared, frame, timeout, false).await
    }

    /// The connection's state in the bus registry, `None` before its first
    /// event.
    pub fn state(&self) -> Option<ConnStatus> {
        let publisher = &self.shared.publisher;
        publisher.bus().state(publisher.name())
    }

    /// A stream of this connection's events, starting with its current
    /// state (a replay event) if it has one.
    pub fn events(&self) -> Subscription {
        let publisher = &self.shared.publisher;
        publisher
            .bus()
            .subscribe(Interest::all().conn(publisher.name()))
    }

    /// What the connection has carried so far.
    pub fn counters(&self) -> Counters {
        let cells = &self.shared.counters;
        let ends = cells
            .ends
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Counters {
            frames_in: cells.frames_in.load(Ordering::Relaxed),
            frames_out: cells.frames_out.load(Ordering::Relaxed),
            bytes_in: cells.bytes_in.load(Ordering::Relaxed),
            bytes_out: cells.bytes_out.load(Ordering::Relaxed),
            sessions: cells.sessions.load(Ordering::Relaxed),
            unmatched_replies: cells.unmatched_replies.load(Ordering::Relaxed),
            last_error: ends.last_error.clone(),
            ends: ends.counts.as_deref().cloned().unwrap_or_default(),
        }
    }

    /// Closes the connection for sending, for good: every send and request
    /// waiting now, and every later one, fails with `Closed`. Frames already
    /// being written are finished. A running session is not stopped (stop
    /// it with its stop token).
    pub fn close(&self) {
        self.shared.close();
    }

    /// Ends the running session on purpose, as
    /// [`Link::finish`] does from a handler: frames queued now are written,
    /// `on_disconnect` runs with [`Reason::Finished`](crate::Reason::Finished),
    /// and the restart policy sees a clean end (`on-failure` and `never`
    /// do not restart it, `always` does). Without a running session it does
    /// nothing: the next session forgets it.
    pub fn finish(&self) {
        self.shared.request_finish();
    }

    /// Whether [`close`](ConnectionHandle::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared.phase() == crate::shared::Phase::Closed
    }
}

/// What a [`Handler`](crate::Handler) sends through: the same `send` and
/// `request` as the [`ConnectionHandle`], except that a `Link` may also send
/// while `on_connect` runs, before the connection is announced up. Frames
/// sent through the link during `on_connect` are written before any frame
/// waiting in the outbox.
#[derive(Debug, Clone)]
pub struct Link {
    handle: ConnectionHandle,
}

impl Link {
    pub(crate) fn new(handle: ConnectionHandle) -> Link {
        Link { handle }
    }

    /// The connection's name.
    pub fn name(&self) -> &str {
        self.handle.name()
    }

    /// The connection's handle, to keep beyond this call.
    pub fn handle(&self) -> &ConnectionHandle {
        &self.handle
    }

    /// Sends `frame`; resolves once it is written. See [`ConnectionHandle::send`].
    ///
    /// # Errors
    ///
    /// As [`ConnectionHandle::send`].
    pub async fn send(&self, frame: Frame) -> Result<(), SendError> {
        send(&self.handle.shared, frame, true, None).await
    }

    /// Ends this session on purpose, once the handler's current call
    /// returns: frames queued now are written (within the drain budget),
    /// `on_disconnect` runs with [`Reason::Finished`](crate::Reason::Finished),
    /// and `Disconnected` says "finished by the application". For the
    /// restart policy it is the one clean end a session can give itself:
    /// `on-failure` and `never` stop the connection, `always` restarts it.
    /// (A peer's close, unasked for, is a failure.)
    ///
    /// ```
    /// use linesman_connection::{Handler, HandlerError, Link};
    /// use linesman_ipc_codec::Frame;
    ///
    /// /// Downloads one snapshot, then ends the session on purpose.
    /// struct Snapshot;
    ///
    /// impl Handler for Snapshot {
    ///     async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
    ///         if frame.ty == 9 {
    ///             link.finish(); // the last part of the snapshot
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn finish(&self) {
        self.handle.finish();
    }

    /// Sends a request and waits for its reply. See [`ConnectionHandle::request`].
    ///
    /// # Errors
    ///
    /// As [`ConnectionHandle::request`].
    pub async fn request(&self, frame: Frame, timeout: Duration) -> Result<Frame, RequestError> {
        request(&self.handle.shared, frame, timeout, true).await
    }
}

async fn send(
    shared: &Shared,
    frame: Frame,
    via_link: bool,
    request: Option<u64>,
) -> Result<(), SendError> {
    let answer = match shared.enqueue(frame, via_link, request)? {
        Enqueued::Written => return Ok(()),
        Enqueued::Queued(answer) => answer,
    };
    match answer.await {
        Ok(result) => result,
        // The writer dropped the frame: its session ended while writing it.
        Err(_) => Err(SendError::ConnectionLost),
    }
}

async fn request(
    shared: &Arc<Shared>,
    frame: Frame,
    timeout: Duration,
    via_link: bool,
) -> Result<Frame, RequestError> {
    // The request clock fails the request at its deadline (`clock.rs`):
    // the wait below arms no timer of its own.
    let (id, reply) = shared.register(timeout);
    let mut pending = Unanswered {
        shared,
        id,
        answered: false,
    };
    // The frame's acknowledgement is held, not awaited: the request is
    // woken once, by its reply. A frame the writer refuses fails the
    // request through its reply (`Shared::fail_request`); a session that
    // ends with the frame unwritten fails it with `ConnectionLost`. Holding
    // the acknowledgement keeps the frame queued: dropping it (the request
    // gave up) lets the writer skip the frame.
    let queued = shared
        .enqueue(frame.with_id(id).with_reply(false), via_link, Some(id))
        .map_err(|error| match error {
            SendError::Closed => RequestError::Closed,
            other => RequestError::Send(other),
        });
    let result = match queued {
        Ok(_acknowledgement) => match reply.await {
            Ok(Err(RequestError::TimedOut { .. })) => {
                Err(RequestError::TimedOut { after: timeout })
            }
            Ok(result) => result,
            Err(_) => Err(RequestError::ConnectionLost),
        },
        Err(error) => Err(error),
    };
    pending.answered = result.is_ok();
    result
}

/// Takes a request out of the pending table when it ends without its
/// reply: on an error, and when its future is dropped while it waits (the
/// caller gave up), so that the table holds only requests someone waits for.
struct Unanswered<'a> {
    shared: &'a Shared,
    id: u64,
    answered: bool,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.shared.forget(self.id);
        }
    }
}
