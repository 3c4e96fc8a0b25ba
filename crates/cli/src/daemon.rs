//! A [`Spec`] served as a daemon: the supervisor and its control socket,
//! shared by `linesman run` and `linesman demo`.
//!
//! The socket is bound before anything starts, so a second daemon on the
//! same socket is refused before it opens a single connection; a default
//! socket's private directory is created (0700) and checked first.
//!
//! Shutdown, and why it is bounded: on SIGINT or SIGTERM (or
//! [`SupervisorHandle::shutdown`]) the supervisor shuts down in dependency
//! order, then the control server ends its event streams, gives its
//! clients what is left of the spec's `shutdown_timeout` (counted from the
//! signal; at least [`MIN_GRACE`]) and closes whatever is still open, so no
//! control client can keep the daemon alive. A second signal, at any time,
//! exits at once: the socket file is removed, then the process exits with
//! [`Code::Forced`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use linesman_connection::ConnectionHandle;
use linesman_control::{
    ControlError, ControlServer, ControlState, ServerHandle, ServerOptions, SocketCleanup,
};
use linesman_supervisor::{Spec, Supervisor, SupervisorHandle};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::CliError;
use crate::exit::Code;
use crate::hangup::Hangups;
use crate::socket;

/// The least the control server's clients get at shutdown, even when the
/// supervisor used all of `shutdown_timeout`: enough for a follower to read
/// the last events.
const MIN_GRACE: Duration = Duration::from_millis(250);

/// A supervisor whose control socket is bound, not yet running.
#[derive(Debug)]
pub(crate) struct Daemon {
    supervisor: Supervisor,
    server: ServerHandle,
    state: ControlState,
    socket: PathBuf,
    shutdown_timeout: Duration,
}

impl Daemon {
    /// Binds the control socket at `socket` for a supervisor of `spec` and
    /// starts serving it (connections start with [`run`](Self::run)).
    /// Connections have no handler: they count what arrives.
    ///
    /// Must be called on a tokio runtime.
    pub(crate) fn bind(
        spec: Spec,
        socket: &Path,
        reload: Option<crate::reload::Source>,
    ) -> Result<Daemon, CliError> {
        if let Some(dir) = socket::private_dir(socket) {
            linesman_control::ensure_private_dir(&dir).map_err(ControlError::from)?;
        } else if let Some(risk) = socket.parent().and_then(linesman_control::shared_dir_risk) {
            // The operator's choice, so served; but said.
            tracing::warn!("{risk}");
        }
        let plan = crate::fd_plan::share_fds()?;
        let spec = spec.with_max_open_sockets(plan.max_open_sockets());
        let shutdown_timeout = spec.shutdown_timeout();
        // A daemon outlives its connections: one stopped or failed by the
        // operator (or by its policy) can be started again through the
        // control socket, so the run ends only on a signal or a shutdown.
        let supervisor = Supervisor::new(spec).keep_running(true);
        let mut state = ControlState::new(&supervisor)
            .with_log_lines_dropped(crate::logging::dropped_log_lines);
        if let Some(mut source) = reload {
            source.max_open_sockets = plan.max_open_sockets();
            state = state.with_reloader(crate::reload::reloader(source));
        }
        let options = ServerOptions::default()
            .shutdown_grace(shutdown_timeout)
            .max_connections(plan.control_connections);
        let server = ControlServer::bind(socket, state.clone())?
            .with_options(options)
            .spawn();
        Ok(Daemon {
            supervisor,
            server,
            state,
            socket: socket.to_owned(),
            shutdown_timeout,
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
    /// the handle, then closes the control socket, all within the shutdown
    /// timeout; a second signal exits at once. Stopped and failed
    /// connections do not end it.
    pub(crate) async fn run(self, signals: Signals) -> Result<(), CliError> {
        let Daemon {
            supervisor,
            server,
            state,
            socket,
            shutdown_timeout,
        } = self;
        let (began, shutdown_began) = watch::channel(None);
        let control = supervisor.control();
        let mut signals = watch_signals(
            signals,
            supervisor.control(),
            server.cleanup(),
            began,
            state,
        );
        let mut server = server;
        // The signal watcher and the control server must outlive the run: a
        // daemon that cannot hear signals or answer `linesman status` must
        // not go on supervising unseen. If either ends (a bug: a panic), the
        // connections are shut down gracefully and the process exits 1.
        let mut run = std::pin::pin!(supervisor.run());
        // The report's cut-off listeners are already logged at warn; the
        // signals are this daemon's own (`watch_signals`), not the report's.
        let lost = tokio::select! {
            _report = &mut run => None,
            joined = &mut signals => Some(format!(
                "the signal watcher ended: {}",
                joined.err().map_or_else(|| "without a panic".to_owned(), |e| e.to_string())
            )),
            ended = server.stopped() => Some(format!(
                "the control server stopped: {}",
                ended.err().map_or_else(|| "without an error".to_owned(), |e| e.to_string())
            )),
        };
        if let Some(what) = &lost {
            tracing::error!(problem = %what, "shutting down: the daemon cannot go on without it");
            control.shutdown();
            run.await;
        }
        // The bus is closed now and every event is published: the server's
        // shutdown lets open `/v1/events` streams deliver their last events
        // (`stopping`, `stopped: shutdown`) before it closes them.
        let now = Instant::now();
        let started = shutdown_began.borrow().unwrap_or(now);
        let grace = started
            .checked_add(shutdown_timeout)
            .map_or(shutdown_timeout, |end| end.saturating_duration_since(now))
            .max(MIN_GRACE);
        let closed = server.shutdown_within(grace).await;
        signals.abort();
        tracing::info!(socket = %socket.display(), "linesman stopped");
        if let Some(what) = lost {
            return Err(CliError::Lost { what });
        }
        closed?;
        Ok(())
    }
}

/// Says that a signal the daemon gives no meaning to was received.
fn ignored(name: &'static str) {
    tracing::warn!(
        signal = name,
        "ignored: it means nothing to linesman (SIGTERM or SIGINT stops it, SIGHUP reloads its config)"
    );
}

/// How long a forced exit waits for the queued log lines to be written.
const FORCED_LOG_PATIENCE: Duration = Duration::from_millis(200);

/// The signals the daemon listens for, listened for from the moment this
/// is made: one that comes before the daemon serves (reading a file of
/// 20,000 connections and binding take seconds) is kept and acted on once
/// it does, a SIGHUP reading the file again, a SIGTERM shutting down
/// gracefully. Before, a SIGHUP then was lost and a SIGTERM killed it.
pub(crate) struct Signals {
    interrupt: Signal,
    terminate: Signal,
    /// A reload, one at a time (a SIGHUP during one reads the file again
    /// after it: `hangup.rs`).
    hangup: Signal,
    /// Caught too: their default action would end the daemon at once,
    /// without removing its socket, for a signal it gives no meaning to.
    user1: Signal,
    user2: Signal,
}

impl Signals {
    /// Listens for them now. Must be called on a tokio runtime.
    pub(crate) fn listen() -> Result<Signals, CliError> {
        let install = |kind, name: &str| {
            signal(kind).map_err(|e| CliError::io(format!("listen for {name}"), e))
        };
        Ok(Signals {
            interrupt: install(SignalKind::interrupt(), "SIGINT")?,
            terminate: install(SignalKind::terminate(), "SIGTERM")?,
            hangup: install(SignalKind::hangup(), "SIGHUP")?,
            user1: install(SignalKind::user_defined1(), "SIGUSR1")?,
            user2: install(SignalKind::user_defined2(), "SIGUSR2")?,
        })
    }
}

/// Starts a graceful shutdown at the first SIGINT or SIGTERM (saying when in
/// `began`) and exits at once at the second, after removing the socket.
fn watch_signals(
    signals: Signals,
    control: SupervisorHandle,
    cleanup: SocketCleanup,
    began: watch::Sender<Option<Instant>>,
    state: ControlState,
) -> JoinHandle<()> {
    let Signals {
        mut interrupt,
        mut terminate,
        mut hangup,
        mut user1,
        mut user2,
    } = signals;
    let hangups = Hangups::default();
    tokio::spawn(async move {
        let mut received = 0u32;
        loop {
            let name = tokio::select! {
                Some(()) = interrupt.recv() => "SIGINT",
                Some(()) = terminate.recv() => "SIGTERM",
                Some(()) = hangup.recv() => {
                    hangups.received(&state);
                    continue;
                }
                Some(()) = user1.recv() => {
                    ignored("SIGUSR1");
                    continue;
                }
                Some(()) = user2.recv() => {
                    ignored("SIGUSR2");
                    continue;
                }
                else => return,
            };
            received += 1;
            if received == 1 {
                began.send_replace(Some(Instant::now()));
                tracing::info!(
                    signal = name,
                    "shutting down gracefully; send it again to exit at once"
                );
                control.shutdown();
            } else {
                tracing::warn!(
                    signal = name,
                    socket = %cleanup.path().display(),
                    "forcing the exit: the shutdown is cut short"
                );
                cleanup.remove();
                // The log lines queued so far (this one included), briefly.
                crate::logging::finish_within(FORCED_LOG_PATIENCE);
                std::process::exit(i32::from(Code::Forced.number()));
            }
        }
    })
}
