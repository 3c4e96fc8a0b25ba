//! [`Peer`]: an in-process peer on spawned tokio tasks, with counters a test
//! can read and wait on, and handles to drop every connection or stop.
//!
//! Connections belong to a *generation* (a cancellation token and a task
//! tracker). [`Peer::drop_all`] swaps in a fresh generation and cancels the
//! old one, so it closes exactly the connections that existed when it was
//! called and waits until each is closed, while the listener keeps accepting.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linesman_stream::Endpoint;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::behavior::Behavior;
use crate::listen::{Accepted, Bound, Listen, bind_tcp, bind_unix, reserve_tcp, tcp_endpoint};
use crate::options::PeerOptions;
use crate::record::Recorder;
use crate::serve::{Ending, run};
use crate::stats::{Counters, PeerStats};

/// Pause after a failed `accept` (e.g. out of file descriptors) before the next.
const ACCEPT_RETRY: Duration = Duration::from_millis(10);

/// A local peer serving one [`Behavior`] on TCP or a Unix socket, inside the
/// current tokio runtime.
///
/// It stops listening and closes every connection on [`Peer::stop`] or when
/// dropped (a Unix socket file is removed either way).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use linesman_testkit::{Behavior, Listen, Peer};
///
/// let peer = Peer::start(Listen::default(), Behavior::Echo).await?;
/// println!("connect to {}", peer.endpoint()); // tcp://127.0.0.1:PORT
/// assert_eq!(peer.stats().accepted, 0);
/// peer.stop().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Peer {
    shared: Arc<Shared>,
    endpoint: Endpoint,
    local_addr: Option<SocketAddr>,
    root: CancellationToken,
    tasks: TaskTracker,
    unix_path: Option<PathBuf>,
}

/// What the listener task and every connection task share with the handle.
#[derive(Debug)]
struct Shared {
    behavior: Behavior,
    stats: Counters,
    generation: Mutex<Generation>,
    listening: watch::Sender<ListenState>,
}

/// The connections accepted since the last [`Peer::drop_all`].
#[derive(Debug)]
struct Generation {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Generation {
    fn new(root: &CancellationToken) -> Self {
        Generation {
            cancel: root.child_token(),
            tracker: TaskTracker::new(),
        }
    }
}

/// Whether the listening socket exists yet.
#[derive(Debug, Clone)]
enum ListenState {
    /// A [`Behavior::Refuse`] period is running.
    Waiting,
    Listening,
    /// Binding after the refuse period failed.
    Failed(io::ErrorKind, String),
    /// Stopped before it listened.
    Stopped,
}

impl Peer {
    /// Starts a peer: binds `listen` (after the [`Behavior::refuse_period`],
    /// if any; a TCP port 0 is reserved at once so [`Peer::endpoint`] is
    /// known) and serves `behavior` on every accepted connection.
    ///
    /// Must be called inside a tokio runtime; the peer's tasks run on it.
    pub async fn start(listen: Listen, behavior: Behavior) -> io::Result<Peer> {
        Peer::start_with(listen, behavior, PeerOptions::default()).await
    }

    /// [`Peer::start`], with `options` (e.g. a record of every frame
    /// received, see [`Recording`](crate::Recording)).
    ///
    /// # Errors
    ///
    /// As [`Peer::start`]; also when the record file cannot be opened.
    pub async fn start_with(
        listen: Listen,
        behavior: Behavior,
        options: PeerOptions,
    ) -> io::Result<Peer> {
        let stats = match &options.record {
            Some(path) => Counters::recording(Recorder::open(path)?),
            None => Counters::default(),
        };
        let delay = behavior.refuse_period();
        let (endpoint, local_addr, bound, later) = match listen {
            Listen::Tcp(addr) => {
                let (bound, addr) = match delay {
                    None => {
                        let listener = bind_tcp(addr)?;
                        let addr = listener.local_addr()?;
                        (Some(Bound::Tcp(listener)), addr)
                    }
                    Some(_) => (None, reserve_tcp(addr)?),
                };
                (tcp_endpoint(addr), Some(addr), bound, Listen::Tcp(addr))
            }
            Listen::Unix(path) => {
                let bound = match delay {
                    None => Some(Bound::Unix(bind_unix(&path)?)),
                    Some(_) => None,
                };
                (
                    Endpoint::Unix(path.clone()),
                    None,
                    bound,
                    Listen::Unix(path),
                )
            }
        };
        let root = CancellationToken::new();
        let state = if bound.is_some() {
            ListenState::Listening
        } else {
            ListenState::Waiting
        };
        let shared = Arc::new(Shared {
            behavior,
            stats,
            generation: Mutex::new(Generation::new(&root)),
            listening: watch::Sender::new(state),
        });
        let tasks = TaskTracker::new();
        let unix_path = match &later {
            Listen::Unix(path) => Some(path.clone()),
            Listen::Tcp(_) => None,
        };
        tasks.spawn(accept_loop(
            Arc::clone(&shared),
            root.clone(),
            tasks.clone(),
            bound,
            later,
            delay.unwrap_or_default(),
        ));
        Ok(Peer {
            shared,
            endpoint,
            local_addr,
            root,
            tasks,
            unix_path,
        })
    }

    /// An echo peer on `tcp://127.0.0.1:<free port>`.
    pub async fn echo() -> io::Result<Peer> {
        Peer::start(Listen::default(), Behavior::Echo).await
    }

    /// Where clients connect: `tcp://127.0.0.1:PORT` or `unix:///path`.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint.clone()
    }

    /// The bound TCP address, `None` for a Unix socket.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The behaviour the peer serves.
    pub fn behavior(&self) -> &Behavior {
        &self.shared.behavior
    }

    /// The counters as they are now.
    pub fn stats(&self) -> PeerStats {
        self.shared.stats.snapshot()
    }

    /// Waits until `done` holds for the counters and returns them. Wakes on
    /// every change; never sleeps or polls. Bound it with
    /// `tokio::time::timeout` if the condition may never hold.
    pub async fn wait_for(&self, done: impl FnMut(&PeerStats) -> bool) -> PeerStats {
        self.shared.stats.wait_for(done).await
    }

    /// Waits until at least `n` connections were accepted in total.
    pub async fn wait_connections(&self, n: u64) -> PeerStats {
        self.wait_for(|s| s.accepted >= n).await
    }

    /// Waits until exactly `n` connections are open.
    pub async fn wait_open(&self, n: u64) -> PeerStats {
        self.wait_for(|s| s.open == n).await
    }

    /// Waits until at least `n` frames were received in total.
    pub async fn wait_frames_received(&self, n: u64) -> PeerStats {
        self.wait_for(|s| s.frames_received >= n).await
    }

    /// Waits until the peer listens: at once unless a [`Behavior::Refuse`]
    /// period runs. Fails if binding after that period failed (the error
    /// the OS gave) or the peer stopped first.
    pub async fn wait_listening(&self) -> io::Result<()> {
        let mut state = self.shared.listening.subscribe();
        let state = state
            .wait_for(|s| !matches!(s, ListenState::Waiting))
            .await
            .map_err(|_| io::Error::other("peer is gone"))?
            .clone();
        match state {
            ListenState::Listening | ListenState::Waiting => Ok(()),
            ListenState::Failed(kind, message) => Err(io::Error::new(kind, message)),
            ListenState::Stopped => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "peer stopped before it listened",
            )),
        }
    }

    /// Closes every connection open now (an orderly close) and waits until
    /// each is closed. The peer keeps listening; later connections are served.
    pub async fn drop_all(&self) {
        let old = {
            let mut current = self
                .shared
                .generation
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            std::mem::replace(&mut *current, Generation::new(&self.root))
        };
        old.cancel.cancel();
        old.tracker.close();
        old.tracker.wait().await;
    }

    /// Stops listening, closes every connection, waits for every task of the
    /// peer to end and removes its Unix socket file.
    pub async fn stop(mut self) {
        self.root.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        self.shared.listening.send_if_modified(|state| {
            let waiting = matches!(state, ListenState::Waiting);
            if waiting {
                *state = ListenState::Stopped;
            }
            waiting
        });
        self.remove_socket_file();
    }

    fn remove_socket_file(&mut self) {
        if let Some(path) = self.unix_path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.root.cancel();
        self.remove_socket_file();
    }
}

/// Binds (after `delay` when not bound yet), then accepts until cancelled.
async fn accept_loop(
    shared: Arc<Shared>,
    root: CancellationToken,
    tasks: TaskTracker,
    bound: Option<Bound>,
    at: Listen,
    delay: Duration,
) {
    let listener = match bound {
        Some(listener) => listener,
        None => {
            tokio::select! {
                () = root.cancelled() => {
                    shared.listening.send_replace(ListenState::Stopped);
                    return;
                }
                () = tokio::time::sleep(delay) => {}
            }
            let bound = match &at {
                Listen::Tcp(addr) => bind_tcp(*addr).map(Bound::Tcp),
                Listen::Unix(path) => bind_unix(path).map(Bound::Unix),
            };
            match bound {
                Ok(listener) => {
                    shared.listening.send_replace(ListenState::Listening);
                    listener
                }
                Err(e) => {
                    tracing::warn!(listen = %at, error = %e, "peer cannot listen after its refuse period");
                    shared.listening.send_replace(ListenState::Failed(
                        e.kind(),
                        format!("cannot listen on {at}: {e}"),
                    ));
                    return;
                }
            }
        }
    };
    loop {
        let accepted = tokio::select! {
            () = root.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok(conn) => {
                let (cancel, tracker) = {
                    let generation = shared
                        .generation
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    (generation.cancel.clone(), generation.tracker.clone())
                };
                tasks.spawn(tracker.track_future(connection(conn, Arc::clone(&shared), cancel)));
            }
            Err(e) => {
                tracing::warn!(listen = %at, error = %e, "peer accept failed; retrying");
                tokio::select! {
                    () = root.cancelled() => return,
                    () = tokio::time::sleep(ACCEPT_RETRY) => {}
                }
            }
        }
    }
}

/// Serves one connection, counted as open until its socket is closed.
async fn connection(conn: Accepted, shared: Arc<Shared>, cancel: CancellationToken) {
    let _open = shared.stats.open_connection();
    match conn {
        Accepted::Tcp(mut stream) => {
            let _ = stream.set_nodelay(true);
            if serve(&mut stream, &shared, &cancel).await == Ending::Reset {
                let _ = stream.set_zero_linger();
            }
        }
        Accepted::Unix(mut stream) => {
            serve(&mut stream, &shared, &cancel).await;
        }
    }
}

async fn serve<S>(stream: &mut S, shared: &Shared, cancel: &CancellationToken) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    tokio::select! {
        ending = run(stream, &shared.behavior, &shared.stats) => ending,
        () = cancel.cancelled() => Ending::Close,
    }
}
