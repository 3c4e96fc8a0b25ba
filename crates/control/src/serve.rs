//! The accept loop and the connections of the control server: our own loop
//! over hyper's HTTP/1 connection, because `axum::serve` has no header
//! timeout, no connection limit and a graceful shutdown that waits forever
//! for a client that never finishes.
//!
//! - Each accepted connection gets its peer's credentials (for the uid
//!   check in `routes.rs`), a [`WriteDeadline`] on its socket and hyper's
//!   header-read timeout; the whole of it is one task.
//! - At most `max_connections` are served at once ([`Places`]). A client
//!   that comes when every place is taken waits, in a task of its own, up
//!   to [`EVICT_WAIT`](crate::places::EVICT_WAIT) for one: one freed, or the
//!   place of the connection idle longest, once one has had nothing to
//!   finish for a moment (`places.rs`). If none comes, it has its request
//!   head read, gets a short `503` ("daemon busy") and is closed. While
//!   [`MAX_REFUSALS`] clients wait or are being refused, accepting waits:
//!   the next clients wait in the kernel's backlog rather than being closed
//!   unanswered.
//! - Accept errors pause the loop and are logged rarely ([`AcceptErrors`]).
//! - Shutdown: the listener is closed (new clients are refused), every
//!   connection is told to finish its request and close, and at the
//!   deadline the ones still open are aborted.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::accept::{AcceptErrors, nofile_limit};
use crate::api::ErrorBody;
use crate::deadline::WriteDeadline;
use crate::options::ServerOptions;
use crate::places::{BodyArrival, InService, Places};
use crate::socket::Peer;

/// Clients beyond `max_connections` that may be waiting for a place or
/// getting their `503` at once: a quarter of the limit, at least one, at
/// most this.
const MAX_REFUSALS: usize = 16;
/// How long a refused client gets to read its `503`.
const REFUSAL_TIME: Duration = Duration::from_secs(1);
/// The most a refused client may send before it is closed.
const REFUSAL_DRAIN: usize = 64 * 1024;
/// hyper's read and write buffer bound: a request head must fit.
const MAX_BUF: usize = 64 * 1024;
/// How often a client waiting for a place is looked at to see whether it
/// left: often, since while as many wait as may, accepting waits too.
const GONE_CHECK: Duration = Duration::from_millis(5);

/// Serves `router` on `listener` until `stop` resolves with the shutdown's
/// deadline; cancels `shutdown` then (the routes end their event streams on
/// it) and returns once every connection has ended or been aborted.
pub(crate) async fn serve(
    listener: UnixListener,
    router: Router,
    options: &ServerOptions,
    shutdown: CancellationToken,
    stop: impl Future<Output = Instant>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(MAX_BUF);
    let serving = Serving {
        builder,
        router,
        shutdown: shutdown.clone(),
        write_timeout: options.write_timeout,
        places: Arc::new(Places::new(options.max_connections)),
    };
    let waiting = Arc::new(Semaphore::new(refusals(options.max_connections)));
    let mut tasks = JoinSet::new();
    let mut errors = AcceptErrors::default();
    tokio::pin!(stop);
    let deadline = loop {
        tokio::select! {
            deadline = &mut stop => break deadline,
            Some(ended) = tasks.join_next() => {
                if let Err(error) = ended.map_err(|e| e.try_into_panic()) {
                    tracing::error!(?error, "a control connection task panicked");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    errors.succeeded();
                    // A client that already left (it sent its request and
                    // closed) needs no place and no answer.
                    let caller = Caller::of(&stream);
                    if caller.left {
                        continue;
                    }
                    if let Some(place) = serving.places.try_take() {
                        tasks.spawn(connection(serving.clone(), stream, place));
                        continue;
                    }
                    // Full: this one waits for a place in a task of its own; the
                    // next clients wait in the backlog while as many wait
                    // already as may. When as many wait, a client that has
                    // sent nothing (it waited in the backlog behind them, and
                    // a client writes its request as it connects) is closed
                    // at once: silent clients flooding the backlog would
                    // otherwise be let in one by one ahead of a `status` that
                    // has its request in.
                    let waiting = Arc::clone(&waiting);
                    if waiting.available_permits() == 0 && !caller.sent {
                        continue;
                    }
                    tokio::select! {
                        deadline = &mut stop => break deadline,
                        permit = waiting.acquire_owned() => if let Ok(permit) = permit {
                            tasks.spawn(wait_for_place(serving.clone(), stream, permit));
                        }
                    }
                }
                Err(error) => {
                    let verdict = errors.failed(&error, Instant::now(), nofile_limit());
                    if let Some(line) = verdict.log {
                        tracing::warn!("{line}");
                    }
                    if !verdict.pause.is_zero() {
                        tokio::select! {
                            deadline = &mut stop => break deadline,
                            () = tokio::time::sleep(verdict.pause) => {}
                        }
                    }
                }
            },
        }
    };
    drop(listener);
    close(&shutdown, tasks, deadline).await;
}

/// How many clients beyond `max_connections` may be waiting for a place or
/// getting their `503` at once: each holds a descriptor, so they are
/// counted in what the control plane may hold (see `linesman run`'s share
/// of its open-file limit).
pub(crate) fn refusals(max_connections: usize) -> usize {
    (max_connections / 4).clamp(1, MAX_REFUSALS)
}

/// What serving a connection needs.
#[derive(Clone)]
struct Serving {
    builder: http1::Builder,
    router: Router,
    shutdown: CancellationToken,
    write_timeout: Duration,
    places: Arc<Places>,
}

/// The shutdown: every connection is asked to finish and close; those
/// still open at `deadline` are aborted.
async fn close(shutdown: &CancellationToken, mut tasks: JoinSet<()>, deadline: Instant) {
    shutdown.cancel();
    let drained = tokio::time::timeout_at(deadline, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = tasks.len(),
            "control connections still open at the shutdown deadline are closed"
        );
        tasks.shutdown().await;
    }
}

/// A client that came when every place was taken: served if a place comes
/// within the wait, else refused with a `503`; `waiting` is held meanwhile.
async fn wait_for_place(serving: Serving, stream: UnixStream, waiting: OwnedSemaphorePermit) {
    let place = tokio::select! {
        place = serving.places.wait_for_one() => place,
        () = serving.shutdown.cancelled() => None,
        // Nothing to answer: its place, or its refusal, goes to the next.
        () = gone(&stream) => return,
    };
    match place {
        Some(place) => {
            drop(waiting);
            connection(serving, stream, place).await;
        }
        None => {
            serving.places.warn_full();
            refuse(stream, serving.places.max(), waiting).await;
        }
    }
}

/// What the kernel says of a client's socket, asked at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Caller {
    /// It sent something that has not been read (its request, or part).
    sent: bool,
    /// It closed its socket (or the socket failed). A flood of clients that
    /// connect, send and leave would otherwise each take a waiting place,
    /// one after the other, while the backlog fills up behind them. A
    /// client that only shut its sending side (`POLLRDHUP` alone) waits for
    /// its answer and has not left: only a whole close (`POLLHUP`) counts.
    left: bool,
}

impl Caller {
    fn of(stream: &UnixStream) -> Caller {
        use std::os::fd::AsRawFd;
        let mut poll = libc::pollfd {
            fd: stream.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `poll` is given one valid `pollfd` (the socket's
        // descriptor, open while `stream` is borrowed) and its count, 1;
        // with a timeout of 0 it only reads the socket's state and returns
        // at once.
        let ready = unsafe { libc::poll(&mut poll, 1, 0) };
        let revents = if ready > 0 { poll.revents } else { 0 };
        Caller {
            sent: revents & libc::POLLIN != 0,
            left: revents & (libc::POLLHUP | libc::POLLERR) != 0,
        }
    }
}

/// Resolves when the client of `stream` has closed its socket: a client that
/// connects, sends its request and leaves at once must not hold a waiting
/// place (a flood of them filled the backlog behind the ones waiting).
async fn gone(stream: &UnixStream) {
    while !Caller::of(stream).left {
        tokio::time::sleep(GONE_CHECK).await;
    }
}

/// Serves one connection until it ends, or until the shutdown (or a client
/// waiting for its place) asks it to finish its request (then it closes).
async fn connection(serving: Serving, stream: UnixStream, _place: OwnedSemaphorePermit) {
    let Serving {
        builder,
        router,
        shutdown,
        write_timeout,
        places,
    } = serving;
    let slot = places.slot();
    let peer = Peer::of(&stream);
    let io = TokioIo::new(WriteDeadline::new(stream, write_timeout));
    let tower = TowerToHyperService::new(router);
    let counted = Arc::clone(&slot);
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let guard = InService::enter(&counted);
        // The route's body check says when the body is in; until then the
        // request does not hold the place against a waiting client.
        let arrival = BodyArrival::awaited(&counted);
        request.extensions_mut().insert(arrival.clone());
        let answered = tower.call(request);
        async move {
            let response = answered.await;
            arrival.received();
            let response = response?;
            // Counted until the whole body is written (or dropped).
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                axum::body::Body::new(body.map_frame(move |frame| {
                    let _held = &guard;
                    frame
                }))
            }))
        }
    });
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let leave = async {
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = slot.evicted() => {
                tracing::debug!(pid = peer.pid, "closed an idle control connection for a waiting client");
            }
        }
    };
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = leave => {
            // Nothing to finish (idle, half a request head, a body still
            // trickling in): close now rather than hold the shutdown, or
            // the waiting client, until a timeout.
            if slot.nothing_to_finish() {
                release_memory();
                return;
            }
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    release_memory();
    if let Err(error) = ended {
        if write_timed_out(&error) {
            tracing::warn!(
                pid = peer.pid,
                %error,
                "dropped a control client that stopped reading its response"
            );
        } else {
            tracing::debug!(pid = peer.pid, %error, "a control connection ended with an error");
        }
    }
}

/// Gives freed memory back to the system a second after a connection
/// ended (once for all the connections that end within that second).
///
/// Why: glibc keeps what a connection freed (a watcher's replay and queue,
/// a large status or metrics answer, hyper's buffers) in its arenas, so
/// without this the daemon's resident size stays at its peak after a crowd
/// of watchers, or one scrape of 5,000 connections, has gone.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::atomic::AtomicBool;
        static PENDING: AtomicBool = AtomicBool::new(false);
        if PENDING.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            PENDING.store(false, Ordering::Release);
            let _ = tokio::task::spawn_blocking(|| {
                // SAFETY: malloc_trim only hands free pages of glibc's own
                // heap back to the kernel; it touches no memory in use and
                // has no preconditions.
                unsafe { libc::malloc_trim(0) };
            })
            .await;
        });
    }
}

/// Whether hyper's `error` comes from a [`WriteDeadline`].
fn write_timed_out(error: &hyper::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<io::Error>() {
            return io.kind() == io::ErrorKind::TimedOut;
        }
        source = inner.source();
    }
    false
}

/// Reads the client's request head, then answers `503` with an
/// [`ErrorBody`] saying the daemon is busy, and closes; all within
/// [`REFUSAL_TIME`].
///
/// Why read first: an HTTP client that receives an answer before it has
/// sent its request takes it for an unexpected message (hyper's client
/// reports "unexpected message"), and one whose request is still unread
/// when the socket closes may see a reset instead of the answer.
async fn refuse(mut stream: UnixStream, max: usize, _permit: OwnedSemaphorePermit) {
    let body = ErrorBody {
        error: format!(
            "daemon busy: too many control connections ({max}), all answering requests; try again in a moment (many `linesman events` or `status --watch` at once, or a client flooding the daemon)"
        ),
        known: Vec::new(),
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let answered = tokio::time::timeout(REFUSAL_TIME, async {
        read_head(&mut stream).await?;
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        Ok::<(), io::Error>(())
    })
    .await;
    match answered {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "a refused control client went away first"),
        Err(_) => {
            tracing::debug!("a refused control client sent no request head within {REFUSAL_TIME:?}")
        }
    }
}

/// Reads until the end of a request head (a blank line), the end of input,
/// or [`REFUSAL_DRAIN`] bytes, whichever comes first.
async fn read_head(stream: &mut UnixStream) -> io::Result<()> {
    let mut chunk = [0; 4096];
    let mut recent = Vec::with_capacity(chunk.len() + 3);
    let mut drained = 0;
    while drained < REFUSAL_DRAIN {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        drained += n;
        recent.extend_from_slice(&chunk[..n]);
        if recent.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        recent.drain(..recent.len().saturating_sub(3));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_that_sent_and_closed_has_left_one_that_waits_has_not() {
        let (ours, mut theirs) = UnixStream::pair().expect("a socket pair");
        let state = |sent, left| Caller { sent, left };
        assert_eq!(Caller::of(&ours), state(false, false), "connected, silent");
        theirs
            .write_all(b"GET /v1/status HTTP/1.1\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(Caller::of(&ours), state(true, false), "its request sent");
        theirs.shutdown().await.expect("shut its sending side");
        assert_eq!(
            Caller::of(&ours),
            state(true, false),
            "done sending, waiting for its answer"
        );
        drop(theirs);
        assert!(Caller::of(&ours).left, "its request unread, but gone");
    }
}
