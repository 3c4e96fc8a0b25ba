//! How the session tells its writer to end, and how the writer notices
//! while it writes.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::shared::Shared;

/// How the session tells its writer to end: a state the writer reads
/// whenever it is woken, and the shared queue's wake-up to wake it (the
/// one it waits on anyway), so waiting costs the writer no registration of
/// its own per loop.
#[derive(Debug)]
pub(crate) struct Control {
    state: AtomicU8,
    /// Queued frames a drain writes before the writer ends.
    pub(super) drain_limit: AtomicUsize,
    pub(super) shared: Arc<Shared>,
}

/// Write what is queued, as it comes.
pub(super) const RUN: u8 = 0;
/// Write up to `drain_limit` queued frames, then end.
pub(super) const DRAIN: u8 = 1;
/// End now; a frame being written fails with `ConnectionLost`.
pub(super) const ABORT: u8 = 2;

impl Control {
    pub(super) fn new(shared: Arc<Shared>) -> Control {
        Control {
            state: AtomicU8::new(RUN),
            drain_limit: AtomicUsize::new(0),
            shared,
        }
    }

    pub(crate) fn abort(&self) {
        self.state.store(ABORT, Ordering::Release);
        self.shared.wake_writer();
    }

    pub(crate) fn drain(&self, limit: usize) {
        self.drain_limit.store(limit, Ordering::Relaxed);
        // An abort already asked for stays.
        let _ = self
            .state
            .compare_exchange(RUN, DRAIN, Ordering::AcqRel, Ordering::Acquire);
        self.shared.wake_writer();
    }

    pub(super) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }
}

/// Runs `work` (a write) until it ends, unless the writer is aborted
/// meanwhile: then `None`, and the write is dropped half-way. The write is
/// polled first, so one that completes at once registers no wake-up.
pub(super) async fn abortable<T>(control: &Control, work: impl Future<Output = T>) -> Option<T> {
    let mut work = pin!(work);
    loop {
        tokio::select! {
            biased;
            done = &mut work => return Some(done),
            // A send, a phase change or the control woke the writer's
            // queue: only an abort matters here (whatever was queued is
            // taken after this write).
            () = control.shared.writer_woken() => {
                if control.state() == ABORT {
                    return None;
                }
            }
        }
    }
}
