//! The accept loop and the connections of the control server: our own loop
//! over hyper's HTTP/1 connection, because `axum::serve` has no header
//! timeout, no connection limit and a graceful shutdown that waits forever
//! for a client that never finishes.
//!
//! - Each accepted connection gets its peer's credentials (for the uid
//!   check in `routes.rs`), a [`WriteDeadline`] on its socket and hyper's
//!   header-read timeout; the whole of it is one task.
//! - At most `max_connections` are served at once. When one more comes,
//!   the connection idle longest (no request being answered: silent since
//!   it connected, or kept alive after its last answer) gives its place, as
//!   soon as one has been idle for [`MIN_IDLE_TO_EVICT`] (waiting up to
//!   [`EVICT_WAIT`] for that): clients that connect and send nothing,
//!   however many and however fast they come back, cannot keep `status`
//!   out. When every place answers a request all that time, the new client
//!   has its request head read, gets a short `503` ("daemon busy", by a
//!   task of its own, bounded in time) and is closed. While [`MAX_REFUSALS`] are being refused,
//!   accepting waits: the next clients wait in the kernel's backlog rather
//!   than being closed unanswered.
//! - Accept errors pause the loop and are logged rarely ([`AcceptErrors`]).
//! - Shutdown: the listener is closed (new clients are refused), every
//!   connection is told to finish its request and close, and at the
//!   deadline the ones still open are aborted.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
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
use crate::socket::Peer;

/// Connections beyond the limit that may be getting their `503` at once:
/// a quarter of the limit, at least one, at most this.
const MAX_REFUSALS: usize = 16;
/// How long a refused client gets to read its `503`.
const REFUSAL_TIME: Duration = Duration::from_secs(1);
/// The most a refused client may send before it is closed.
const REFUSAL_DRAIN: usize = 64 * 1024;
/// hyper's read and write buffer bound: a request head must fit.
const MAX_BUF: usize = 64 * 1024;
/// How long a connection must have been idle to give its place to a new
/// one when every place is taken: far longer than a client's request takes
/// to arrive once it has connected (it writes at once), short enough that
/// silent clients flooding the accept queue are cleared through a few
/// places quickly (3 places: 30 a second; status answered behind 100 of
/// them in about 3 s).
const MIN_IDLE_TO_EVICT: Duration = Duration::from_millis(100);
/// How long a client that came when every place was taken waits for one
/// (freed, or given by a connection idle long enough) before it is refused.
const EVICT_WAIT: Duration = Duration::from_secs(1);
/// How often that wait looks again for a connection idle long enough.
const EVICT_CHECK: Duration = Duration::from_millis(20);

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
    let served = Connections {
        builder,
        router,
        shutdown: shutdown.clone(),
        write_timeout: options.write_timeout,
        max: options.max_connections,
        permits: Arc::new(Semaphore::new(options.max_connections)),
        refusals: Arc::new(Semaphore::new(refusals(options.max_connections))),
        tasks: JoinSet::new(),
        live: Vec::new(),
        epoch: Instant::now(),
        full_warned: None,
        evict_warned: None,
    };
    let mut served = served;
    let mut errors = AcceptErrors::default();
    tokio::pin!(stop);
    let deadline = loop {
        tokio::select! {
            deadline = &mut stop => break deadline,
            Some(ended) = served.tasks.join_next() => {
                if let Err(error) = ended.map_err(|e| e.try_into_panic()) {
                    tracing::error!(?error, "a control connection task panicked");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    errors.succeeded();
                    if let Some(stream) = served.admit(stream) {
                        // Full: a place freed, or given by the connection
                        // idle longest, soon.
                        tokio::select! {
                            deadline = &mut stop => break deadline,
                            place = served.place_when_full() => if let Some(permit) = place {
                                served.serve(stream, permit);
                                continue;
                            }
                        }
                        served.warn_full();
                        // Refused: the next clients wait in the backlog
                        // until this one has its 503.
                        let refusals = Arc::clone(&served.refusals);
                        tokio::select! {
                            deadline = &mut stop => break deadline,
                            permit = refusals.acquire_owned() => {
                                if let Ok(permit) = permit {
                                    served.tasks.spawn(refuse(stream, served.max, permit));
                                }
                            }
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
    served.close(deadline).await;
}

/// How many clients beyond `max_connections` may be getting their `503` at
/// once: each holds a descriptor, so they are counted in what the control
/// plane may hold (see `linesman run`'s share of its open-file limit).
pub(crate) fn refusals(max_connections: usize) -> usize {
    (max_connections / 4).clamp(1, MAX_REFUSALS)
}

/// The connections being served, and what a new one needs.
struct Connections {
    builder: http1::Builder,
    router: Router,
    shutdown: CancellationToken,
    write_timeout: Duration,
    max: usize,
    permits: Arc<Semaphore>,
    refusals: Arc<Semaphore>,
    tasks: JoinSet<()>,
    /// The connections being served (and some that ended, pruned as it
    /// grows): where the one idle longest is found.
    live: Vec<Weak<Slot>>,
    /// What the slots' idle times count from.
    epoch: Instant,
    /// When the limit, and an eviction, were last logged.
    full_warned: Option<Instant>,
    evict_warned: Option<Instant>,
}

/// What the accept loop knows of a connection it serves: whether it is
/// answering a request, since when it has been idle, and how to close it.
struct Slot {
    /// Requests whose answer is not fully written yet.
    in_service: AtomicUsize,
    /// When it last became idle (accepted, or its last answer written), in
    /// milliseconds since the server's epoch.
    idle_since_ms: AtomicU64,
    epoch: Instant,
    /// Cancelled to close it for a new client (after the request it may
    /// have begun meanwhile).
    evict: CancellationToken,
}

impl Slot {
    fn new(epoch: Instant) -> Slot {
        let slot = Slot {
            in_service: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            epoch,
            evict: CancellationToken::new(),
        };
        slot.idle_from_now();
        slot
    }

    fn idle_from_now(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.idle_since_ms.store(ms, Ordering::Release);
    }

    /// How long it has been idle at `now_ms`; `None` while it answers a
    /// request or once it was told to close.
    fn idle_for(&self, now_ms: u64) -> Option<Duration> {
        if self.in_service.load(Ordering::Acquire) > 0 || self.evict.is_cancelled() {
            return None;
        }
        let since = self.idle_since_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(now_ms.saturating_sub(since)))
    }
}

/// Says at most once every ten seconds (`last`) that `what` happened.
fn rarely(last: &mut Option<Instant>, what: impl FnOnce()) {
    let now = Instant::now();
    if last.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(10)) {
        *last = Some(now);
        what();
    }
}

impl Connections {
    /// Serves `stream` if the limit allows; else gives it back.
    fn admit(&mut self, stream: UnixStream) -> Option<UnixStream> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            return Some(stream);
        };
        self.serve(stream, permit);
        None
    }

    /// A place for a client that came when every place was taken: one
    /// freed, or the place of the connection idle longest once one has been
    /// idle for [`MIN_IDLE_TO_EVICT`] (told to close); `None` when neither
    /// comes within [`EVICT_WAIT`].
    async fn place_when_full(&mut self) -> Option<OwnedSemaphorePermit> {
        let give_up = Instant::now() + EVICT_WAIT;
        let permits = Arc::clone(&self.permits);
        loop {
            if self.evict_idlest() {
                // Its task sees the eviction at once and ends, freeing it.
                let freed = tokio::time::timeout(EVICT_WAIT, permits.acquire_owned()).await;
                return freed.ok()?.ok();
            }
            let now = Instant::now();
            if now >= give_up {
                return None;
            }
            tokio::select! {
                permit = Arc::clone(&permits).acquire_owned() => return permit.ok(),
                () = tokio::time::sleep_until((now + EVICT_CHECK).min(give_up)) => {}
            }
        }
    }

    /// Tells the connection idle longest (at least [`MIN_IDLE_TO_EVICT`])
    /// to close, so that a new client gets its place; `false` when none is.
    fn evict_idlest(&mut self) -> bool {
        let now_ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let idlest = self
            .live
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|slot| Some((slot.idle_for(now_ms)?, slot)))
            .filter(|(idle, _)| *idle >= MIN_IDLE_TO_EVICT)
            .max_by_key(|(idle, _)| *idle);
        let Some((idle, slot)) = idlest else {
            return false;
        };
        slot.evict.cancel();
        let max = self.max;
        rarely(&mut self.evict_warned, || {
            tracing::warn!(
                limit = max,
                "the control server serves its limit of {max} connections at once; closed the one idle longest ({} ms without a request) for a new client",
                idle.as_millis()
            );
        });
        true
    }

    /// Logs (rarely) that clients are refused.
    fn warn_full(&mut self) {
        let max = self.max;
        rarely(&mut self.full_warned, || {
            tracing::warn!(
                limit = max,
                "the control server serves its limit of {max} connections at once, and none was idle for {} ms within {} s (each answering a request, or new); refusing more with 503",
                MIN_IDLE_TO_EVICT.as_millis(),
                EVICT_WAIT.as_secs()
            );
        });
    }

    /// Serves `stream` in a task of its own, holding `permit`.
    fn serve(&mut self, stream: UnixStream, permit: OwnedSemaphorePermit) {
        // Ended connections are dropped from the list as it grows, so it
        // stays within twice the limit.
        if self.live.len() >= 2 * self.max.max(1) {
            self.live.retain(|slot| slot.strong_count() > 0);
        }
        let slot = Arc::new(Slot::new(self.epoch));
        self.live.push(Arc::downgrade(&slot));
        let peer = Peer::of(&stream);
        let connection = connection(
            stream,
            peer,
            self.builder.clone(),
            self.router.clone(),
            self.shutdown.clone(),
            self.write_timeout,
            slot,
            permit,
        );
        self.tasks.spawn(connection);
    }

    /// The shutdown: every connection is asked to finish and close; those
    /// still open at `deadline` are aborted.
    async fn close(mut self, deadline: Instant) {
        self.shutdown.cancel();
        let drained = tokio::time::timeout_at(deadline, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                connections = self.tasks.len(),
                "control connections still open at the shutdown deadline are closed"
            );
            self.tasks.shutdown().await;
        }
    }
}

/// Serves one connection until it ends, or until the shutdown (or a new
/// client that needs its place) asks it to finish its request (then it
/// closes).
#[expect(
    clippy::too_many_arguments,
    reason = "one connection's whole context, given once by the accept loop"
)]
async fn connection(
    stream: UnixStream,
    peer: Peer,
    builder: http1::Builder,
    router: Router,
    shutdown: CancellationToken,
    write_timeout: Duration,
    slot: Arc<Slot>,
    _permit: OwnedSemaphorePermit,
) {
    let io = TokioIo::new(WriteDeadline::new(stream, write_timeout));
    let tower = TowerToHyperService::new(router);
    let counted = Arc::clone(&slot);
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let guard = InService::enter(&counted);
        let answered = tower.call(request);
        async move {
            let response = answered.await?;
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
            () = slot.evict.cancelled() => {
                tracing::debug!(pid = peer.pid, "closed an idle control connection for a new client");
            }
        }
    };
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = leave => {
            // Nothing to finish (idle, or half a request head): close now
            // rather than hold the shutdown until the header timeout.
            if slot.in_service.load(Ordering::Acquire) == 0 {
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

/// One request of a connection whose answer is not fully written yet:
/// counted while it lives; the connection is idle from when the last ends.
struct InService(Arc<Slot>);

impl InService {
    fn enter(slot: &Arc<Slot>) -> InService {
        slot.in_service.fetch_add(1, Ordering::AcqRel);
        InService(Arc::clone(slot))
    }
}

impl Drop for InService {
    fn drop(&mut self) {
        if self.0.in_service.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle_from_now();
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
            "daemon busy: too many control connections ({max}); close one (an idle `linesman status --watch`?) or try again"
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
