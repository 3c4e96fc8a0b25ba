//! The daemon's reload: `POST /v1/reload` and SIGHUP both read the file
//! `linesman run` was started with again. A file with errors changes
//! nothing: every problem is logged and answered, rendered as `check`
//! shows it. Otherwise the supervisor applies the diff (see
//! `linesman_supervisor::SupervisorHandle::reload`); settings of the whole
//! daemon that cannot change live (the control socket, the shutdown
//! timeout, the limits) are answered and logged as needing a restart.
//! Under systemd, `RELOADING=1` goes out before and `READY=1` after.

use std::path::PathBuf;
use std::sync::Arc;

use linesman_control::{ControlState, ReloadResponse, Reloader};

use crate::report::render_config_errors_plain;
use crate::socket;
use crate::systemd::Notifier;

/// What a reload reads again and compares with.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The configuration file.
    pub(crate) file: PathBuf,
    /// The control socket the daemon serves (a change needs a restart).
    pub(crate) socket: PathBuf,
    /// `--socket`, which wins over the file's `control.socket`.
    pub(crate) socket_flag: Option<PathBuf>,
    /// The socket budget the daemon runs with (from its open-file limit).
    pub(crate) max_open_sockets: Option<usize>,
    /// systemd's socket, for `RELOADING=1` and `READY=1`.
    pub(crate) notifier: Option<Arc<Notifier>>,
}

/// The reloader of a daemon started from `source`.
pub(crate) fn reloader(source: Source) -> Reloader {
    Arc::new(move |state: ControlState| {
        let source = source.clone();
        Box::pin(async move {
            if let Some(notifier) = &source.notifier {
                notifier.reloading();
            }
            let result = reload(&source, &state).await;
            if let Some(notifier) = &source.notifier {
                // The counts after the reload, not a word that would stay
                // in `systemctl status` until they next change.
                notifier.ready(&crate::systemd::status_line(state.supervisor()));
            }
            result
        })
    })
}

async fn reload(
    source: &Source,
    state: &ControlState,
) -> Result<ReloadResponse, linesman_supervisor::ReloadError> {
    let file = source.file.display().to_string();
    let config = match linesman_config::load(&source.file) {
        Ok(config) => config,
        Err(errors) => {
            // One line per problem, as `check --format short` prints it.
            let lines: Vec<String> = crate::commands::check::short(&errors)
                .lines()
                .map(str::to_owned)
                .collect();
            for line in &lines {
                tracing::error!(problem = %line, "reload refused: the configuration has errors; nothing changed");
            }
            return Ok(ReloadResponse {
                ok: false,
                file,
                errors: lines,
                rendered: render_config_errors_plain(&errors),
                ..ReloadResponse::default()
            });
        }
    };
    // As `run` refuses it, before anything is said of the file's
    // settings: a connection to this daemon's own socket.
    if let Some(problem) = socket::own_socket_connection(&config.spec, &source.socket) {
        tracing::error!(%problem, "reload refused; nothing changed");
        return Ok(ReloadResponse {
            ok: false,
            file,
            errors: vec![problem.clone()],
            rendered: problem,
            ..ReloadResponse::default()
        });
    }
    let mut needs_restart = Vec::new();
    let socket = socket::resolve(
        source.socket_flag.as_deref(),
        config.control.socket.as_deref(),
    );
    if socket != source.socket {
        let line = format!(
            "control.socket ({}, serving {})",
            socket.display(),
            source.socket.display()
        );
        tracing::warn!(setting = %line, "this setting changed, and takes effect only when the daemon is restarted");
        needs_restart.push(line);
    }
    let spec = config.spec.with_max_open_sockets(source.max_open_sockets);
    let report = state.reload(spec).await?;
    needs_restart.extend(report.needs_restart);
    Ok(ReloadResponse {
        ok: true,
        file,
        added: report.added,
        removed: report.removed,
        changed: report.changed,
        unchanged: report.unchanged,
        needs_restart,
        errors: Vec::new(),
        rendered: String::new(),
    })
}
