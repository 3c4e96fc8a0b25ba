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
        let supervisor = Supervisor::new(spec.clone());
        let state = ControlState::new(&supervisor).with_spec(&spec);
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
    /// socket. Also ends when no connection can run any more (all stopped
    /// or failed): the supervisor's run is over then.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let Daemon {
            supervisor,
            server,
            socket,
        } = self;
        let control = supervisor.control();
        let ran = supervisor.run_until_signal().await;
        if ran.is_ok() && !control.is_shutting_down() {
            tracing::warn!(
                "no connection can run any more (every one is stopped or failed): the daemon exits"
            );
        }
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
