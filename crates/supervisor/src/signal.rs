//! [`Signal`]: the signal that ended a run, and the way out after a run
//! that a signal ended ([`Signal::exit`], [`restore_default_signals`]); why
//! a way out is needed is said in `until_signal.rs`.

use std::fmt;
use std::io::Write;

use tokio::signal::unix::SignalKind;

/// A signal that [`Supervisor::run_until_signal`](crate::Supervisor::run_until_signal) acts on.
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

    pub(crate) fn kind(self) -> SignalKind {
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
/// after [`Supervisor::run_until_signal`](crate::Supervisor::run_until_signal) has returned, for an application
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
