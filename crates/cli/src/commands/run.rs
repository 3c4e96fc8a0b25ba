//! `linesman run -c FILE`: the daemon in the foreground. Loads the file
//! (every problem and exit 2 if it is invalid), raises its open-file limit
//! and keeps part of it for the control plane (see `fd_plan.rs`),
//! binds the control socket, supervises the connections (no handlers: they
//! count what arrives) and logs to stderr until SIGINT or SIGTERM; exit 0
//! after a clean shutdown, with the socket removed. Under systemd
//! (`NOTIFY_SOCKET`) it reports readiness, status, the shutdown and
//! watchdog pings (`systemd/`).

use crate::cli::RunArgs;
use crate::daemon::{Daemon, Signals};
use crate::error::CliError;
use crate::exit::Code;
use crate::{logging, socket, systemd};

/// Runs the daemon until a signal, telling systemd how it goes if `systemd`
/// has a `NOTIFY_SOCKET`.
pub(crate) async fn run(args: RunArgs, systemd: systemd::Env) -> Result<Code, CliError> {
    logging::init(args.log_format, "info");
    // Before the file is read: a signal during the start-up is kept.
    let signals = Signals::listen()?;
    let config = linesman_config::load(&args.config)?;
    let socket = socket::resolve(args.socket.as_deref(), config.control.socket.as_deref());
    refuse_own_socket(&config.spec, &socket)?;
    let summary = config.summary();
    let source = crate::reload::Source {
        file: args.config.clone(),
        socket: socket.clone(),
        socket_flag: args.socket.clone(),
        // Set by `Daemon::bind` from its fd plan, so a reloaded spec keeps
        // the budget the daemon started with.
        max_open_sockets: None,
        notifier: systemd.notifier.clone(),
    };
    let daemon = Daemon::bind(config.spec, &socket, Some(source))?;
    // The socket serves now: READY=1 waits only for the start rules.
    let service = systemd::Service::start(systemd, daemon.control());
    tracing::info!(
        config = %args.config.display(),
        socket = %daemon.socket().display(),
        %summary,
        "linesman is running; stop it with Ctrl-C or SIGTERM"
    );
    let ran = daemon.run(signals).await;
    // Sent at the first signal already; this covers the other ends.
    if let Some(service) = service {
        service.stopping();
    }
    ran?;
    Ok(Code::Ok)
}

/// Refuses a connection whose endpoint is the control socket this daemon
/// is to serve (see [`socket::own_socket_connection`]).
fn refuse_own_socket(
    spec: &linesman_supervisor::Spec,
    socket: &std::path::Path,
) -> Result<(), CliError> {
    match socket::own_socket_connection(spec, socket) {
        Some(message) => Err(CliError::Usage { message }),
        None => Ok(()),
    }
}
