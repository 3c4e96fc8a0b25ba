//! [`ControlServer`]: binds the control socket and serves the API (axum
//! routes on our own accept loop, see `serve.rs`); [`ServerHandle`] for a
//! server spawned on its own task.
//!
//! Shutdown: when the shutdown starts, the server stops accepting, ends
//! every `/v1/events` stream (once the bus has delivered its last events,
//! if it is closed), lets requests in flight finish until the deadline
//! ([`ServerOptions::shutdown_grace`], or the one given to
//! [`ServerHandle::shutdown_within`]), closes whatever is still open then,
//! and removes the socket file. No client can hold it up longer.

use std::fmt;
use std::future::Future;
use std::os::unix::net::UnixListener as StdUnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::answers::Answers;
use crate::error::ControlError;
use crate::options::ServerOptions;
use crate::routes::{self, App};
use crate::serve;
use crate::socket::{self, SocketCleanup, SocketFile};
use crate::state::ControlState;

/// The control server: a bound socket and the [`ControlState`] it serves.
///
/// ```no_run
/// use linesman_control::{ControlServer, ControlState};
/// use linesman_supervisor::{Spec, Supervisor};
///
/// # async fn run(spec: Spec) -> Result<(), Box<dyn std::error::Error>> {
/// let supervisor = Supervisor::new(spec);
/// let state = ControlState::new(&supervisor);
/// let server = ControlServer::bind("/run/user/1000/linesman/linesman.sock", state)?.spawn();
/// supervisor.run_until_signal().await?;
/// server.shutdown().await?; // removes the socket file
/// # Ok(())
/// # }
/// ```
pub struct ControlServer {
    listener: StdUnixListener,
    file: SocketFile,
    state: ControlState,
    options: ServerOptions,
}

impl fmt::Debug for ControlServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlServer")
            .field("socket", &self.file.path())
            .field("state", &self.state)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ControlServer {
    /// Binds the control socket at `path` with mode 0600, replacing a stale
    /// socket file but never a live one (see the crate docs). Needs no
    /// runtime; serving does.
    ///
    /// # Errors
    ///
    /// [`ControlError::AlreadyServing`] when a daemon answers on `path`,
    /// [`ControlError::Locked`] when another daemon holds `<path>.lock` (it
    /// is starting), [`ControlError::Lock`] when the lock file cannot be
    /// made, [`ControlError::UnsafeLock`] when it is a symbolic link, a hard
    /// link or another user's, [`ControlError::NotASocket`] when something
    /// else is there,
    /// [`ControlError::PathTooLong`] when `path` is longer than
    /// [`MAX_SOCKET_PATH`](crate::MAX_SOCKET_PATH) bytes,
    /// [`ControlError::Bind`], [`ControlError::Permissions`] or
    /// [`ControlError::RemoveStale`] when the OS refuses.
    pub fn bind(
        path: impl AsRef<Path>,
        state: ControlState,
    ) -> Result<ControlServer, ControlError> {
        let (listener, file) = socket::bind(path.as_ref())?;
        tracing::info!(socket = %path.as_ref().display(), "control socket bound");
        Ok(ControlServer {
            listener,
            file,
            state,
            options: ServerOptions::default(),
        })
    }

    /// Serves with these limits instead of [`ServerOptions::default`].
    #[must_use]
    pub fn with_options(mut self, options: ServerOptions) -> ControlServer {
        self.options = options;
        self
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Serves until `shutdown` resolves, then shuts down as the module docs
    /// say, within [`ServerOptions::shutdown_grace`], and removes the
    /// socket file.
    ///
    /// # Errors
    ///
    /// [`ControlError::Serve`] if the listener cannot be registered with
    /// the runtime.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ControlError> {
        let grace = self.options.shutdown_grace;
        self.keep_history();
        self.run_until(async move {
            shutdown.await;
            Instant::now() + grace
        })
        .await
    }

    /// Serves until `stop` resolves with the shutdown's deadline.
    async fn run_until(self, stop: impl Future<Output = Instant>) -> Result<(), ControlError> {
        let ControlServer {
            listener,
            file,
            state,
            options,
        } = self;
        let listener = UnixListener::from_std(listener).map_err(|source| ControlError::Serve {
            socket: file.path().to_owned(),
            source,
        })?;
        let token = CancellationToken::new();
        let app = routes::router(App {
            state,
            shutdown: token.clone(),
            own_uid: file.uid,
            keepalive: options.keepalive_interval,
            max_lags: options.max_lags,
            body_timeout: options.header_read_timeout,
            streams: Arc::new(Semaphore::new(routes::stream_slots(
                options.max_connections,
            ))),
            answers: Answers::new(options.answer_budget),
        });
        let watching = tokio::spawn(watch_socket(file.cleanup(), token.clone()));
        serve::serve(listener, app, &options, token, stop).await;
        watching.abort();
        file.remove();
        tracing::info!(socket = %file.path().display(), "control server stopped");
        Ok(())
    }

    /// Has the bus keep recent events for `/v1/events?since=SEQ`.
    fn keep_history(&self) {
        self.state
            .bus()
            .keep_history(self.options.event_history, self.options.event_history_bytes);
    }

    /// Serves on a task of its own until [`ServerHandle::shutdown`] (or the
    /// handle is dropped).
    pub fn spawn(self) -> ServerHandle {
        let path = self.path().to_owned();
        let cleanup = self.file.cleanup();
        let grace = self.options.shutdown_grace;
        let (stop, mut deadline) = watch::channel(None::<Instant>);
        // From now: the supervisor may publish before the server's task
        // first runs.
        self.keep_history();
        let task = tokio::spawn(self.run_until(async move {
            match deadline.wait_for(Option::is_some).await {
                Ok(at) => at.unwrap_or_else(Instant::now),
                // The handle is gone without a word: shut down now.
                Err(_) => Instant::now() + grace,
            }
        }));
        ServerHandle {
            path,
            cleanup,
            grace,
            stop,
            task: Some(task),
        }
    }
}

/// A [`ControlServer`] serving on its own task. Dropping it starts the
/// shutdown without waiting for it.
#[derive(Debug)]
pub struct ServerHandle {
    path: PathBuf,
    cleanup: SocketCleanup,
    grace: Duration,
    stop: watch::Sender<Option<Instant>>,
    task: Option<JoinHandle<Result<(), ControlError>>>,
}

impl ServerHandle {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What removes the socket file on a forced exit, which skips the
    /// server's own cleanup (only if the file is still this server's).
    pub fn cleanup(&self) -> SocketCleanup {
        self.cleanup.clone()
    }

    /// Resolves when the server's task ends by itself — it failed, or it
    /// panicked — with what it ended with; pending while it serves. For a
    /// daemon that must not go on without its control plane. Afterwards a
    /// shutdown returns at once.
    ///
    /// # Errors
    ///
    /// As [`shutdown`](Self::shutdown).
    pub async fn stopped(&mut self) -> Result<(), ControlError> {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let joined = task.await;
        self.task = None;
        joined.unwrap_or_else(|join| {
            Err(ControlError::Serve {
                socket: self.path.clone(),
                source: std::io::Error::other(join.to_string()),
            })
        })
    }

    /// Shuts the server down within [`ServerOptions::shutdown_grace`] and
    /// waits until it has stopped and removed its socket file.
    ///
    /// # Errors
    ///
    /// What [`ControlServer::run`] returned; [`ControlError::Serve`] if the
    /// server's task panicked.
    pub async fn shutdown(self) -> Result<(), ControlError> {
        let grace = self.grace;
        self.shutdown_within(grace).await
    }

    /// Shuts the server down, giving open connections `grace` to finish
    /// (none: they are closed at once), and waits until it has stopped and
    /// removed its socket file.
    ///
    /// # Errors
    ///
    /// As [`shutdown`](Self::shutdown).
    pub async fn shutdown_within(mut self, grace: Duration) -> Result<(), ControlError> {
        self.stop.send_replace(Some(Instant::now() + grace));
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match task.await {
            Ok(result) => result,
            Err(join) => Err(ControlError::Serve {
                socket: self.path.clone(),
                source: std::io::Error::other(join.to_string()),
            }),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if self.stop.borrow().is_none() {
            self.stop.send_replace(Some(Instant::now() + self.grace));
        }
    }
}

/// How often the socket's path is looked at.
const SOCKET_CHECK: Duration = Duration::from_secs(5);

/// Says, at error level, when the control socket's path no longer names
/// the socket this server listens on (someone removed it, or put another
/// file or socket there), and again when it does: the daemon goes on
/// supervising, but no `linesman` command can reach it. Before, it went
/// unnoticed, and `status` advised starting a daemon that the lock then
/// refused (hostile run h22).
async fn watch_socket(socket: SocketCleanup, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(SOCKET_CHECK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut in_place = true;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = socket.in_place();
        match (in_place, now) {
            (true, false) => tracing::error!(
                socket = %socket.path().display(),
                "the control socket was removed or replaced: no linesman command can reach this daemon, which goes on supervising; stop it (SIGTERM) and start it again to serve the socket again"
            ),
            (false, true) => {
                tracing::info!(socket = %socket.path().display(), "the control socket is back in place")
            }
            _ => {}
        }
        in_place = now;
    }
}
