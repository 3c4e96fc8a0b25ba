//! [`Supervisor::run_until_signal`]: a run that SIGINT and SIGTERM end,
//! and the [`Signal`] that ended it.
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
//! default action ([`restore_default_signals`](crate::restore_default_signals)) before it works on, so the
//! next one ends the process.

use std::pin::pin;

use tokio::signal::unix::signal;
use tokio::sync::watch;
use tokio::task::JoinError;
use tokio_util::task::AbortOnDropHandle;

use crate::error::SupervisorError;
use crate::report::RunReport;
use crate::signal::Signal;
use crate::supervisor::Supervisor;

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
    /// first should call [`restore_default_signals`](crate::restore_default_signals) so the next signal
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
