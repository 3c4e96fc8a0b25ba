//! [`ControlServer`]: binds the control socket and serves the API with axum;
//! [`ServerHandle`] for a server spawned on its own task.
//!
//! Shutdown: when the shutdown future resolves, the server stops accepting,
//! ends every `/v1/events` stream, lets requests in flight finish, and
//! removes the socket file.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};

use std::os::unix::net::UnixListener as StdUnixListener;
use tokio::net::UnixListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::ControlError;
use crate::routes::{self, App};
use crate::socket::{self, Peer, SocketFile};
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
/// let server = ControlServer::bind("/run/user/1000/linesman.sock", state)?.spawn();
/// supervisor.run_until_signal().await?;
/// server.shutdown().await?; // removes the socket file
/// # Ok(())
/// # }
/// ```
pub struct ControlServer {
    listener: StdUnixListener,
    file: SocketFile,
    state: ControlState,
}

impl fmt::Debug for ControlServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlServer")
            .field("socket", &self.file.path())
            .field("state", &self.state)
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
    /// made, [`ControlError::NotASocket`] when something else is there,
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
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Serves until `shutdown` resolves, then stops accepting, ends every
    /// events stream, waits for the requests in flight and removes the
    /// socket file.
    ///
    /// # Errors
    ///
    /// [`ControlError::Serve`] if serving fails.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ControlError> {
        let ControlServer {
            listener,
            file,
            state,
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
        });
        let signal = async move {
            shutdown.await;
            token.cancel();
        };
        let served = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
            .with_graceful_shutdown(signal)
            .await;
        file.remove();
        tracing::info!(socket = %file.path().display(), "control server stopped");
        served.map_err(|source| ControlError::Serve {
            socket: file.path().to_owned(),
            source,
        })
    }

    /// Serves on a task of its own until [`ServerHandle::shutdown`] (or the
    /// handle is dropped).
    pub fn spawn(self) -> ServerHandle {
        let path = self.path().to_owned();
        let token = CancellationToken::new();
        let stop = token.clone();
        let task = tokio::spawn(self.run(async move { stop.cancelled().await }));
        ServerHandle {
            path,
            token,
            task: Some(task),
        }
    }
}

/// A [`ControlServer`] serving on its own task. Dropping it starts the
/// shutdown without waiting for it.
#[derive(Debug)]
pub struct ServerHandle {
    path: PathBuf,
    token: CancellationToken,
    task: Option<JoinHandle<Result<(), ControlError>>>,
}

impl ServerHandle {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Shuts the server down and waits until it has stopped and removed
    /// its socket file.
    ///
    /// # Errors
    ///
    /// What [`ControlServer::run`] returned; [`ControlError::Serve`] if the
    /// server's task panicked.
    pub async fn shutdown(mut self) -> Result<(), ControlError> {
        self.token.cancel();
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
        self.token.cancel();
    }
}
