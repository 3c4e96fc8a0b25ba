//! [`CliError`]: every way a `linesman` command can fail, and the exit code
//! of each (the codes are listed in `exit.rs`).

use std::io;
use std::path::PathBuf;

use linesman_config::ConfigErrors;
use linesman_control::{ClientError, ControlError};
use linesman_supervisor::SupervisorError;

use crate::exit::Code;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// The configuration file is invalid or unreadable: every problem of
    /// one pass, rendered with miette.
    #[error(transparent)]
    Config(ConfigErrors),
    /// Talking to the daemon failed; [`ClientError::NoDaemon`] names the
    /// socket it tried.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The control socket could not be served (another daemon holds it…).
    #[error(transparent)]
    Control(#[from] ControlError),
    /// The daemon ended the events stream while a command followed it.
    #[error(
        "the daemon on {} shut down while this command was following its events",
        .socket.display()
    )]
    DaemonGone {
        /// The socket it served.
        socket: PathBuf,
    },
    /// A part the daemon cannot go on without (its signal watcher, its
    /// control server) ended; the connections were shut down.
    #[error(
        "{what}; the daemon shut its connections down and stopped (a bug: please report it with the log)"
    )]
    Lost {
        /// What ended, and how.
        what: String,
    },
    /// The control socket path names something that is not a socket.
    #[error(
        "{} exists but is not a socket (it is {what}): point --socket (LINESMAN_SOCKET) or control.socket at the daemon's control socket",
        .path.display()
    )]
    NotASocket {
        /// The path tried.
        path: PathBuf,
        /// What it is instead, e.g. `a regular file`.
        what: &'static str,
    },
    /// The supervisor could not be set up or run.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
    /// The open-file limit leaves too few descriptors to run the daemon.
    #[error(transparent)]
    TooFewFds(#[from] crate::fd_plan::TooFewFds),
    /// The arguments make no sense together or name something unknown.
    #[error("{message}")]
    Usage {
        /// What was wrong and what to do.
        message: String,
    },
    /// Names the daemon does not know, or a selector that picks nothing:
    /// every one at once, with the known names; nothing was done.
    #[error("{message}")]
    Unknown {
        /// Which, and what the daemon has instead.
        message: String,
    },
    /// The daemon refused a command for now (a reload while another is in
    /// progress): nothing was done; try again later.
    #[error("{message}")]
    Refused {
        /// What was refused, why, and what to do.
        message: String,
    },
    /// Writing to stdout failed: the reader is gone (EPIPE, which ends
    /// the command quietly with exit 0) or the write failed (`/dev/full`).
    #[error("cannot write to standard output")]
    Output {
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// An operating system call failed.
    #[error("cannot {what}")]
    Io {
        /// What was being done, e.g. `start the async runtime`.
        what: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl From<ConfigErrors> for CliError {
    fn from(errors: ConfigErrors) -> Self {
        CliError::Config(errors)
    }
}

impl CliError {
    /// An [`CliError::Io`] while doing `what`.
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> CliError {
        CliError::Io {
            what: what.into(),
            source,
        }
    }

    /// The exit code this failure ends the process with.
    pub(crate) fn code(&self) -> Code {
        match self {
            CliError::Config(_) | CliError::Usage { .. } => Code::Invalid,
            CliError::Unknown { .. } => Code::Unknown,
            // The daemon's own answer for a name it does not know (one
            // removed between the status and the command).
            CliError::Client(ClientError::Api { status: 404, .. }) => Code::Unknown,
            // A request the daemon refused as malformed (a bad filter).
            CliError::Client(ClientError::Api { status: 400, .. }) => Code::Invalid,
            CliError::Client(_)
            | CliError::Control(_)
            | CliError::DaemonGone { .. }
            | CliError::NotASocket { .. }
            | CliError::Lost { .. }
            | CliError::Refused { .. }
            | CliError::Supervisor(_)
            | CliError::TooFewFds(_)
            | CliError::Io { .. } => Code::Failure,
            CliError::Output { source } if is_closed_pipe(source) => Code::Ok,
            CliError::Output { .. } => Code::Failure,
        }
    }
}

/// Whether `error` means the reader of the pipe is gone: nothing to report.
pub(crate) fn is_closed_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}
