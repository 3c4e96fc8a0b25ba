//! A [`Spec`] served as a daemon: the supervisor and its control socket,
//! shared by `linesman run` and `linesman demo`.
//!
//! The socket is bound before anything starts, so a second daemon on the
//! same socket is refused before it opens a single connection. On SIGINT or
//! SIGTERM (or [`SupervisorHandle::shutdown`]) the supervisor shuts down in
//! dependency order, then the control server ends its event streams and
//! removes the socket file.

use std::path::{Path, PathBuf};

use linesman_connection::ConnectionHandle;
use linesman_control::{ControlServer, ControlState, ServerHandle};
use linesman_supervisor::{Spec, Supervisor, SupervisorHandle};

use crate::error::CliError;

/// A supervisor whose control socket is bound, not yet running.
#[derive(Debug)]
pub(crate) struct Daemon {
    supervisor: Supervisor,
    server: ServerHandle,
    socket: PathBuf,
}

impl Daemon {
    /// Binds the control socket at `socket` for a supervisor of `spec` and
    /// starts serving it (connections start with [`run`](Self::run)).
    /// Connections have no handler: they count what arrives.
    ///
    /// Must be called on a tokio runtime.
    pub(crate) fn bind(spec: Spec, socket: &Path) -> Result<Daemon, CliError> {
        // A daemon outlives its connections: one stopped or failed by the
        // operator (or by its policy) can be started again through the
        // control socket, so the run ends only on a signal or a shutdown.
        let supervisor = Supervisor::new(spec).keep_running(true);
        let state = ControlState::new(&supervisor);
        let server = ControlServer::bind(socket, state)?.spawn();
        Ok(Daemon {
            supervisor,
            server,
            socket: socket.to_owned(),
        })
    }

    /// The control socket.
    pub(crate) fn socket(&self) -> &Path {
        &self.socket
    }

    /// The handle of connection `name` (its counters), valid after the run.
    pub(crate) fn handle(&self, name: &str) -> Option<ConnectionHandle> {
        self.supervisor.handle(name)
    }

    /// The supervisor's handle (shutdown, start, stop…).
    pub(crate) fn control(&self) -> SupervisorHandle {
        self.supervisor.control()
    }

    /// Runs every connection until SIGINT, SIGTERM or a shutdown through
    /// the handle (a second signal forces it), then closes the control
    /// socket. Stopped and failed connections do not end it.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let Daemon {
            supervisor,
            server,
            socket,
        } = self;
        let ran = supervisor.run_until_signal().await;
        // The bus is closed now and every event is published: the server's
        // shutdown lets open `/v1/events` streams deliver their last events
        // (`stopping`, `stopped: shutdown`) before it closes them.
        let closed = server.shutdown().await;
        tracing::info!(socket = %socket.display(), "linesman stopped");
        ran?;
        closed?;
        Ok(())
    }
}
