//! The accept loop and the connections of the control server: our own loop
//! over hyper's HTTP/1 connection, because `axum::serve` has no header
//! timeout, no connection limit and a graceful shutdown that waits forever
//! for a client that never finishes.
//!
//! - Each accepted connection gets its peer's credentials (for the uid
//!   check in `routes.rs`), a [`WriteDeadline`] on its socket and hyper's
//!   header-read timeout; the whole of it is one task.
//! - At most `max_connections` are served at once; one more has its
//!   request head read, gets a short `503` ("daemon busy", by a task of its
//!   own, bounded in time) and is closed. While
//!   [`MAX_REFUSALS`] are being refused, accepting waits: the next clients
//!   wait in the kernel's backlog rather than being closed unanswered.
//! - Accept errors pause the loop and are logged rarely ([`AcceptErrors`]).
//! - Shutdown: the listener is closed (new clients are refused), every
//!   connection is told to finish its request and close, and at the
//!   deadline the ones still open are aborted.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
        full_warned: None,
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
                        // Full: the next clients wait in the backlog until
                        // this one has its 503.
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
    /// When the limit was last logged.
    full_warned: Option<Instant>,
}

impl Connections {
    /// Serves `stream` if the limit allows; else gives it back, to be
    /// refused.
    fn admit(&mut self, stream: UnixStream) -> Option<UnixStream> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            let now = Instant::now();
            if self
                .full_warned
                .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(10))
            {
                self.full_warned = Some(now);
                tracing::warn!(
                    limit = self.max,
                    "the control server serves its limit of {} connections at once; refusing more with 503 (a client that sends nothing holds one for up to the header timeout)",
                    self.max
                );
            }
            return Some(stream);
        };
        let peer = Peer::of(&stream);
        let connection = connection(
            stream,
            peer,
            self.builder.clone(),
            self.router.clone(),
            self.shutdown.clone(),
            self.write_timeout,
            permit,
        );
        self.tasks.spawn(connection);
        None
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

/// Serves one connection until it ends, or until the shutdown asks it to
/// finish its request (then it closes).
async fn connection(
    stream: UnixStream,
    peer: Peer,
    builder: http1::Builder,
    router: Router,
    shutdown: CancellationToken,
    write_timeout: Duration,
    _permit: OwnedSemaphorePermit,
) {
    let io = TokioIo::new(WriteDeadline::new(stream, write_timeout));
    let tower = TowerToHyperService::new(router);
    let in_service = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&in_service);
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
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = shutdown.cancelled() => {
            // Nothing to finish (idle, or half a request head): close now
            // rather than hold the shutdown until the header timeout.
            if in_service.load(Ordering::Acquire) == 0 {
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
/// counted while it lives.
struct InService(Arc<AtomicUsize>);

impl InService {
    fn enter(count: &Arc<AtomicUsize>) -> InService {
        count.fetch_add(1, Ordering::AcqRel);
        InService(Arc::clone(count))
    }
}

impl Drop for InService {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
