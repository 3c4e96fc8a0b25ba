//! The end asked for the running session: a stop (with its cause) or the
//! application's finish, read by the session whenever it is woken.

use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::{Shared, lock};
use crate::reason::{Reason, StopCause};

/// No end asked for the running session.
pub(super) const END_NONE: u8 = 0;
/// The application asked to finish the session (`Link::finish`).
pub(super) const END_FINISH: u8 = 1;
/// The session is asked to stop (`SessionStop`, the stop token).
pub(super) const END_STOP: u8 = 2;

impl Shared {
    /// Asks the running session to stop for `cause` (see `SessionControl`);
    /// wins over a finish asked for before.
    pub(crate) fn request_stop(&self, cause: StopCause) {
        lock(&self.queue).stop_cause = match cause {
            StopCause::Requested => None,
            other => Some(Box::new(other)),
        };
        self.stop.store(END_STOP, Ordering::Release);
        self.session_wake.wake();
    }

    /// Asks the running session to finish on the application's behalf
    /// (`Link::finish`), unless a stop or finish was asked for already.
    pub(crate) fn request_finish(&self) {
        let _ =
            self.stop
                .compare_exchange(END_NONE, END_FINISH, Ordering::AcqRel, Ordering::Acquire);
        self.session_wake.wake();
    }

    /// Forgets an earlier stop or finish: a new session is made.
    pub(crate) fn clear_stop(&self) {
        self.stop.store(END_NONE, Ordering::Release);
        lock(&self.queue).stop_cause = None;
    }

    /// The end asked for the running session (`Stopped` or `Finished`), if
    /// any; registers no waker.
    pub(crate) fn end_requested(&self) -> Option<Reason> {
        match self.stop.load(Ordering::Acquire) {
            END_NONE => None,
            END_FINISH => Some(Reason::Finished),
            _ => Some(Reason::Stopped(
                lock(&self.queue)
                    .stop_cause
                    .as_deref()
                    .cloned()
                    .unwrap_or(StopCause::Requested),
            )),
        }
    }

    /// Ready with the end asked for the running session; pending
    /// otherwise, with `cx`'s waker registered.
    pub(crate) fn poll_end(&self, cx: &mut Context<'_>) -> Poll<Reason> {
        self.session_wake.register(cx.waker());
        match self.end_requested() {
            Some(reason) => Poll::Ready(reason),
            None => Poll::Pending,
        }
    }
}
