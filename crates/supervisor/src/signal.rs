//! [`Supervisor::run_until_signal`], the [`Signal`] that ended a run, and
//! the way out after it returns.
//!
//! Why a way out is needed: tokio catches a signal from the first time
//! anyone listens for it until the process ends — its handler is never
//! uninstalled. Once `run_until_signal` has returned nobody listens any
//! more, so a later SIGTERM is caught and dropped: a process that goes on
//! working (flushing, uploading) after its run could then be stopped only
//! by SIGKILL. The run therefore says which signal ended it
//! ([`RunReport::signal`]), and the application either ends at once
//! ([`Signal::exit`]: dies by that signal, as a shell or systemd expects of
//! a process that obeyed it) or gives SIGINT and SIGTERM back their
//! default action ([`restore_default_signals`]) before it works on, so the
//! next one ends the process.

use std::fmt;
use std::io::Write;
use std::pin::pin;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinError;
use tokio_util::task::AbortOnDropHandle;

use crate::error::SupervisorError;
use crate::report::RunReport;
use crate::supervisor::Supervisor;

/// A signal that [`Supervisor::run_until_signal`] acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGINT` (Ctrl-C).
    Interrupt,
    /// `SIGTERM` (`kill`, systemd, Docker, Kubernetes).
    Terminate,
}

impl Signal {
    /// Its name, `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// Its number (2 or 15 on Linux).
    pub fn number(self) -> i32 {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
        }
    }

    /// The exit code a shell gives a process killed by it: 128 + its
    /// number (130 for SIGINT, 143 for SIGTERM), for
    /// `std::process::exit` where dying by the signal ([`exit`](Self::exit))
    /// is not wanted.
    ///
    /// ```
    /// use linesman_supervisor::Signal;
    /// assert_eq!(Signal::Terminate.exit_code(), 143);
    /// assert_eq!(Signal::Interrupt.exit_code(), 130);
    /// ```
    pub fn exit_code(self) -> i32 {
        128 + self.number()
    }

    /// Ends the process by this signal, as if it had never been caught: its
    /// default action is restored and it is raised again, so the parent
    /// (a shell, systemd) sees a process killed by SIGTERM or SIGINT.
    /// Standard output is flushed first; as with any death by a signal, no
    /// destructor runs. Should the signal not end the process, it exits
    /// with [`exit_code`](Self::exit_code).
    pub fn exit(self) -> ! {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        let _ = restore_default(self);
        // SAFETY: `raise` sends a signal to the calling thread; it touches
        // no memory of ours. Its default action ends the process.
        unsafe {
            libc::raise(self.number());
        }
        std::process::exit(self.exit_code())
    }

    fn kind(self) -> SignalKind {
        match self {
            Signal::Interrupt => SignalKind::interrupt(),
            Signal::Terminate => SignalKind::terminate(),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Gives SIGINT and SIGTERM back their default action (end the process)
/// after [`Supervisor::run_until_signal`] has returned, for an application
/// that works on before it exits: without it tokio, which never uninstalls
/// its handler, catches them and nobody acts on them.
///
/// From then on no tokio signal stream of this process hears SIGINT or
/// SIGTERM again (tokio installs its handler once per process), so call
/// it only when no further `run_until_signal` follows.
///
/// ```no_run
/// # use linesman_supervisor::{Spec, Supervisor, restore_default_signals};
/// # async fn run(supervisor: Supervisor) -> Result<(), Box<dyn std::error::Error>> {
/// let report = supervisor.run_until_signal().await?;
/// restore_default_signals()?; // a second SIGTERM now ends the process
/// // … flush, upload, say goodbye …
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// The OS error if a signal's action cannot be set (not expected for
/// these two signals).
pub fn restore_default_signals() -> std::io::Result<()> {
    restore_default(Signal::Interrupt)?;
    restore_default(Signal::Terminate)
}

fn restore_default(signal: Signal) -> std::io::Result<()> {
    // SAFETY: `SIG_DFL` installs no handler of ours, so nothing can run
    // with broken invariants; tokio's handler (signal-hook-registry's) is
    // only replaced, and its state stays valid, merely never called again.
    let previous = unsafe { libc::signal(signal.number(), libc::SIG_DFL) };
    if previous == libc::SIG_ERR {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

impl Supervisor {
    /// [`run`](Self::run), with `SIGINT` and `SIGTERM` starting a graceful
    /// shutdown and a second one forcing it. The signal watcher ends with
    /// `run`, so it never keeps the runtime alive.
    ///
    /// The watcher is critical: once it is gone, tokio still catches the
    /// signals and nothing acts on them. If it panics, the supervisor shuts
    /// down gracefully and this returns an error, so the process can end
    /// instead of running on deaf.
    ///
    /// # After it returns
    ///
    /// The report's [`signal`](RunReport::signal) says which signal ended
    /// the run (`None` if it ended by itself or through
    /// [`SupervisorHandle::shutdown`](crate::SupervisorHandle::shutdown)).
    /// tokio keeps catching SIGINT and SIGTERM for the rest of the process,
    /// and nobody acts on them any more: a process that was asked to end
    /// should end, with [`Signal::exit`] (dies by the signal) or
    /// `std::process::exit(signal.exit_code())`, and one that works on
    /// first should call [`restore_default_signals`] so the next signal
    /// still ends it.
    ///
    /// # Errors
    ///
    /// [`SupervisorError::Signal`] if a signal handler cannot be installed
    /// (nothing has been started then);
    /// [`SupervisorError::SignalWatcherPanicked`] after the shutdown that
    /// the watcher's panic caused.
    pub async fn run_until_signal(self) -> Result<RunReport, SupervisorError> {
        let install = |signal_: Signal| {
            signal(signal_.kind()).map_err(|source| SupervisorError::Signal {
                signal: signal_.name(),
                source,
            })
        };
        let mut interrupt = install(Signal::Interrupt)?;
        let mut terminate = install(Signal::Terminate)?;
        let control = self.control();
        let shutdown = self.control();
        let (first_tx, first) = watch::channel(None);
        let mut watcher = AbortOnDropHandle::new(tokio::spawn(async move {
            let mut received = 0u32;
            loop {
                let signal = tokio::select! {
                    Some(()) = interrupt.recv() => Signal::Interrupt,
                    Some(()) = terminate.recv() => Signal::Terminate,
                    else => return,
                };
                received += 1;
                if received == 1 {
                    first_tx.send_replace(Some(signal));
                    tracing::info!(
                        signal = signal.name(),
                        "shutting down gracefully; send it again to force"
                    );
                    control.shutdown();
                } else {
                    tracing::warn!(signal = signal.name(), "forcing the shutdown");
                    control.shutdown_now();
                    return;
                }
            }
        }));
        let with_signal = |mut report: RunReport| {
            report.signal = *first.borrow();
            report
        };
        let mut run = pin!(self.run());
        let died = tokio::select! {
            report = &mut run => return Ok(with_signal(report)),
            ended = &mut watcher => ended.err().filter(JoinError::is_panic),
        };
        // The watcher is done: after forcing a shutdown, or dead.
        let Some(died) = died else {
            return Ok(with_signal(run.await));
        };
        let payload = died.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        tracing::error!(panic = %message, "the signal watcher panicked: shutting down");
        shutdown.shutdown();
        run.await;
        Err(SupervisorError::SignalWatcherPanicked { message })
    }
}
