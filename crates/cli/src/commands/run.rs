//! `linesman run -c FILE`: the daemon in the foreground. Loads the file
//! (every problem and exit 2 if it is invalid), raises its open-file limit
//! and keeps part of it for the control plane (see [`socket_budget`]),
//! binds the control socket, supervises the connections (no handlers: they
//! count what arrives) and logs to stderr until SIGINT or SIGTERM; exit 0
//! after a clean shutdown, with the socket removed. Under systemd
//! (`NOTIFY_SOCKET`) it reports readiness, status, the shutdown and
//! watchdog pings (`systemd/`).

use linesman_supervisor::Spec;

use crate::cli::RunArgs;
use crate::daemon::Daemon;
use crate::error::CliError;
use crate::exit::Code;
use crate::{logging, socket, systemd};

/// Runs the daemon until a signal, telling systemd how it goes if `systemd`
/// has a `NOTIFY_SOCKET`.
pub(crate) async fn run(args: RunArgs, systemd: systemd::Env) -> Result<Code, CliError> {
    logging::init(args.log_format, "info");
    let config = linesman_config::load(&args.config)?;
    let socket = socket::resolve(args.socket.as_deref(), config.control.socket.as_deref());
    let summary = config.summary();
    let spec = socket_budget(config.spec);
    let source = crate::reload::Source {
        file: args.config.clone(),
        socket: socket.clone(),
        socket_flag: args.socket.clone(),
        max_open_sockets: spec.max_open_sockets(),
        notifier: systemd.notifier.clone(),
    };
    let daemon = Daemon::bind(spec, &socket, Some(source))?;
    // The socket serves now: READY=1 waits only for the start rules.
    let service = systemd::Service::start(systemd, daemon.control());
    tracing::info!(
        config = %args.config.display(),
        socket = %daemon.socket().display(),
        %summary,
        "linesman is running; stop it with Ctrl-C or SIGTERM"
    );
    let ran = daemon.run().await;
    // Sent at the first signal already; this covers the other ends.
    if let Some(service) = service {
        service.stopping();
    }
    ran?;
    Ok(Code::Ok)
}

/// Raises the soft open-file limit to the hard one and bounds the sockets
/// open at once to that limit less
/// [`SocketBudget::reserved_fds`](linesman_connection::SocketBudget::reserved_fds), so that connections
/// (however many, however often they reconnect) never take the
/// descriptors the control plane needs to answer. Logs the numbers; an
/// unlimited or unreadable limit leaves the spec unbounded.
pub(crate) fn socket_budget(spec: Spec) -> Spec {
    let limit = match linesman_stream::raise_nofile_limit() {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit; keeping the current one");
            match linesman_stream::nofile_limit() {
                Ok(limit) => limit,
                Err(_) => return spec,
            }
        }
    };
    if limit == u64::MAX {
        tracing::info!("fd limit unlimited: connections open at once are not bounded");
        return spec;
    }
    let reserved = linesman_connection::SocketBudget::reserved_fds(limit);
    let budget = limit.saturating_sub(reserved);
    tracing::info!(
        fd_limit = limit,
        max_open_sockets = budget,
        reserved,
        "fd limit {limit}: up to {budget} connections open at once"
    );
    spec.with_max_open_sockets(Some(usize::try_from(budget).unwrap_or(usize::MAX)))
}
