//! `linesman run -c FILE`: the daemon in the foreground. Loads the file
//! (every problem and exit 2 if it is invalid), binds the control socket,
//! supervises the connections (no handlers: they count what arrives) and
//! logs to stderr until SIGINT or SIGTERM; exit 0 after a clean shutdown,
//! with the socket removed.

use crate::cli::RunArgs;
use crate::daemon::Daemon;
use crate::error::CliError;
use crate::exit::Code;
use crate::{logging, socket};

/// Runs the daemon until a signal.
pub(crate) async fn run(args: RunArgs) -> Result<Code, CliError> {
    logging::init(args.log_format, "info");
    let config = linesman_config::load(&args.config)?;
    let socket = socket::resolve(args.socket.as_deref(), config.control.socket.as_deref());
    let summary = config.summary();
    let daemon = Daemon::bind(config.spec, &socket)?;
    tracing::info!(
        config = %args.config.display(),
        socket = %daemon.socket().display(),
        %summary,
        "linesman is running; stop it with Ctrl-C or SIGTERM"
    );
    daemon.run().await?;
    Ok(Code::Ok)
}
