//! Reloading a running supervisor with a new [`Spec`]: unchanged
//! connections keep their sessions, added ones start, removed ones stop
//! (dependents first), changed ones restart with their new settings, and
//! every start rule is evaluated again.
//!
//! A reload is a request to the run's own loop (`Supervisor::run`), which
//! owns the set of running connections (`live.rs`): one at a time, at most
//! one more waiting ([`ReloadError::InProgress`] past that). The diff is in
//! `diff.rs`, carrying it out in `apply.rs`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::error::ReloadError;
use crate::spec::Spec;

mod apply;
mod diff;

pub(crate) use diff::fingerprint;

/// What a reload did: each connection's name in one list, in declaration
/// order, and the settings it could not apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadReport {
    /// Connections the new spec adds: started (when their rules hold).
    pub added: Vec<String>,
    /// Connections the new spec does not have: stopped, dependents first,
    /// with the reason "removed by reload", and dropped from the registry.
    pub removed: Vec<String>,
    /// Connections whose settings changed (the connection's own, its
    /// restart policy, its start rule): restarted with the new settings.
    pub changed: Vec<String>,
    /// Connections left alone: same session, same state.
    pub unchanged: Vec<String>,
    /// Spec-wide settings that changed but cannot change while running
    /// (the shutdown timeout, the connect and socket limits), in words:
    /// they take effect when the supervisor is started again.
    pub needs_restart: Vec<String>,
}

/// A reload asked of the run loop, and where its answer goes.
pub(crate) struct Request {
    pub(crate) spec: Spec,
    pub(crate) reply: oneshot::Sender<ReloadReport>,
}

/// The run loop's end of the reload requests: taken by `run`; dropped with
/// the supervisor, so a reload of a supervisor that never runs is refused.
pub(crate) type Requests = mpsc::Receiver<Request>;

/// The handles' end: a queue of one and whether a reload is under way.
#[derive(Debug)]
pub(crate) struct Desk {
    queue: mpsc::Sender<Request>,
    busy: AtomicBool,
    /// The receiving end until `Supervisor::new` takes it.
    requests: Mutex<Option<Requests>>,
}

impl Desk {
    pub(crate) fn new() -> Desk {
        let (queue, requests) = mpsc::channel(1);
        Desk {
            queue,
            busy: AtomicBool::new(false),
            requests: Mutex::new(Some(requests)),
        }
    }

    /// The receiving end, once.
    pub(crate) fn take_requests(&self) -> Option<Requests> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Asks the run loop to reload with `spec` and waits for its report.
    pub(crate) async fn reload(&self, spec: Spec) -> Result<ReloadReport, ReloadError> {
        if self.busy.swap(true, Ordering::AcqRel) {
            return Err(ReloadError::InProgress);
        }
        // Cleared however this ends (the caller may stop waiting); a
        // reload still under way then keeps the queue's one place.
        let _busy = Busy(&self.busy);
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Request { spec, reply })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => ReloadError::InProgress,
                mpsc::error::TrySendError::Closed(_) => ReloadError::NotRunning,
            })?;
        answer.await.map_err(|_| ReloadError::NotRunning)
    }
}

struct Busy<'a>(&'a AtomicBool);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
