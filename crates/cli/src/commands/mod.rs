//! One file per subcommand, each a function from its arguments to an exit
//! [`Code`]; [`dispatch`] picks it and gives it a runtime.

mod action;
pub(crate) mod check;
mod completions;
mod demo;
mod deps;
mod events;
mod follow;
mod graph;
mod reload;
mod run;
mod select;
mod status;
mod wait;

use linesman_control::{Client, ClientError};

use crate::cli::{Cli, Command, DaemonArgs};
use crate::error::CliError;
use crate::exit::Code;
use crate::socket;

/// Ignores SIGHUP, SIGUSR1 and SIGUSR2 until the daemon listens for them
/// (`daemon.rs`): each one's default action ends the process, and a
/// service manager or a script may send one the moment `run` starts (a
/// SIGHUP in its first millisecond ended it with 129). One that comes
/// before it listens is not needed: the file is about to be read.
fn ignore_until_heard() {
    for signal in [libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2] {
        // SAFETY: sets the disposition to SIG_IGN, which installs no code
        // of ours; called before the runtime starts any other thread.
        unsafe {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
}

/// Runs the command `cli` asks for.
pub(crate) fn dispatch(cli: Cli) -> Result<Code, CliError> {
    match cli.command {
        // No runtime: these only read a file or print.
        Command::Check(args) => check::check(&args),
        Command::Graph(args) => graph::graph(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
        // The daemon and the demo serve many tasks at once.
        Command::Run(args) => {
            ignore_until_heard();
            // Before the runtime's threads exist: it edits the environment.
            let systemd = crate::systemd::Env::take();
            multi_thread()?.block_on(run::run(args, systemd))
        }
        Command::Demo(args) => multi_thread()?.block_on(demo::demo(args)),
        // Clients make one request (or follow one stream) at a time.
        Command::Status(args) => current_thread()?.block_on(status::status(args)),
        Command::Deps(args) => current_thread()?.block_on(deps::deps(args)),
        Command::Events(args) => current_thread()?.block_on(events::events(args)),
        Command::Wait(args) => current_thread()?.block_on(wait::wait(args)),
        Command::Reload(args) => current_thread()?.block_on(reload::reload(args)),
        Command::Start(args) => {
            current_thread()?.block_on(action::action(action::Action::Start, args))
        }
        Command::Stop(args) => {
            current_thread()?.block_on(action::action(action::Action::Stop, args))
        }
        Command::Restart(args) => {
            current_thread()?.block_on(action::action(action::Action::Restart, args))
        }
    }
}

fn multi_thread() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io("start the async runtime", e))
}

fn current_thread() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io("start the async runtime", e))
}

/// The client of the daemon `args` points at (see `socket.rs` for the
/// order); with `-c FILE`, the file is loaded for its `control.socket`. A
/// path that exists but is not a socket is refused in words (connecting
/// would say "connection refused", which sends one looking for a daemon).
/// A default socket's directory is checked first: a directory that is not
/// private to us may hold a socket someone else planted.
pub(crate) fn client(args: &DaemonArgs) -> Result<Client, CliError> {
    let configured = match &args.config {
        Some(path) => linesman_config::load(path)?.control.socket,
        None => None,
    };
    let path = socket::resolve(args.socket.as_deref(), configured.as_deref());
    if let Some(what) = socket::not_a_socket(&path) {
        return Err(CliError::NotASocket { path, what });
    }
    if let Some(dir) = socket::private_dir(&path) {
        linesman_control::check_private_dir(&dir).map_err(ClientError::from)?;
    }
    Ok(Client::new(path))
}

/// `timeout` from now, at most 30 years away: a `--timeout` given as
/// "never" (`18446744073709551615s`) must not overflow the clock, which
/// panics.
pub(crate) fn deadline_in(timeout: std::time::Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + timeout.min(linesman_connection::FAR_FUTURE)
}

#[cfg(test)]
mod signal_tests {
    #[test]
    fn signals_that_would_end_the_daemon_before_it_listens_are_ignored() {
        super::ignore_until_heard();
        for signal in [libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2] {
            // SAFETY: raises a signal at this process, whose disposition
            // was just set to SIG_IGN; a failure is only a return code.
            let raised = unsafe { libc::raise(signal) };
            assert_eq!(raised, 0, "signal {signal} raised");
        }
        // Still here: each was ignored, not the default action (the end of
        // the process, exit 129 for SIGHUP).
    }
}
