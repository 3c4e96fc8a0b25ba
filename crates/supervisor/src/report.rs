//! [`RunReport`]: what [`Supervisor::run`](crate::Supervisor::run) (and
//! [`run_until_signal`](crate::Supervisor::run_until_signal)) tell the
//! application when they return.

use linesman_observer::CutOff;

use crate::signal::Signal;

/// How a run ended: the signal that started its shutdown, if one did, and
/// the listeners cut off at the end with the events they were not given.
///
/// ```no_run
/// # use linesman_supervisor::{Spec, Supervisor};
/// # async fn run(supervisor: Supervisor) -> Result<(), Box<dyn std::error::Error>> {
/// let report = supervisor.run_until_signal().await?;
/// for cut in &report.cut_off {
///     eprintln!("{cut}"); // "listener audit cut off with 12 event(s) not delivered"
/// }
/// if let Some(signal) = report.signal {
///     // The signal asked the process to end: do what is left, then end
///     // as if it had not been caught (see `Signal::exit`).
///     signal.exit();
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReport {
    /// The signal whose arrival started the shutdown; `None` for
    /// [`run`](crate::Supervisor::run), and for a run that ended by itself
    /// or by [`SupervisorHandle::shutdown`](crate::SupervisorHandle::shutdown).
    pub signal: Option<Signal>,
    /// The listeners still busy when the bus closed after the
    /// [`listener_drain`](linesman_observer::BusOptions::listener_drain),
    /// each with the number of events it was not given (each also logged
    /// at warn). Empty when every listener was given every event.
    pub cut_off: Vec<CutOff>,
}

impl RunReport {
    /// Whether every listener was given every event.
    pub fn all_delivered(&self) -> bool {
        self.cut_off.is_empty()
    }
}
