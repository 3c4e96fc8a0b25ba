//! `linesman start|stop|restart NAME`: one command to the daemon. The
//! daemon queues it and answers at once; what it causes shows up in
//! `linesman status` and `status --watch`.

use crate::cli::ActionArgs;
use crate::commands::client;
use crate::error::CliError;
use crate::exit::Code;
use crate::output;

/// Which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Start a stopped or failed connection.
    Start,
    /// Stop a connection until started.
    Stop,
    /// Reconnect now.
    Restart,
}

/// Sends `action` for `args.name` and says it was accepted.
pub(crate) async fn action(action: Action, args: ActionArgs) -> Result<Code, CliError> {
    let client = client(&args.daemon)?;
    let name = args.name.as_str();
    let word = match action {
        Action::Start => {
            client.start(name).await?;
            "start"
        }
        Action::Stop => {
            client.stop(name).await?;
            "stop"
        }
        Action::Restart => {
            client.restart(name).await?;
            "restart"
        }
    };
    output::out(&format!("{name}: {word} accepted\n"))?;
    Ok(Code::Ok)
}
