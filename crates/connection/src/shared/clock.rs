//! The request clock: one timer per connection for the deadlines of all its
//! pending requests, instead of one per request.
//!
//! Why: a request used to wait for its reply inside `tokio::time::timeout`,
//! which puts an entry in the runtime's timer wheel (under the driver's
//! lock) when the request first waits and takes it out when the reply
//! comes: about 1,300 of the instructions of every round trip, for a timer
//! that almost never fires. Here a request writes its deadline next to its
//! reply's sender, under the lock it takes anyway, and compares it with the
//! clock's; only a deadline earlier than the clock's (or the first request
//! after a quiet spell) touches the timer.
//!
//! How: the clock is a small task, started by the first request that finds
//! none. It sleeps until the earliest deadline it knows; when it wakes it
//! fails every request that is due with `TimedOut`, and sleeps again until
//! the earliest deadline left, or ends when none is left. A request whose
//! deadline comes before the clock's moves the clock and wakes it. The task
//! holds the connection's state weakly: a dropped connection ends its clock
//! at the next deadline. A clock dropped with its runtime (a handle used
//! from several runtimes) clears itself, so the next request starts another.
//!
//! Requests that gave up (their future dropped) are taken out by their
//! requester; a request lost any other way is taken out by the clock at its
//! deadline at the latest: the pending table cannot grow without bound.

use std::future::poll_fn;
use std::pin::pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use tokio::time::{Instant, sleep_until};

use super::{Reply, Shared, lock};
use crate::error::RequestError;

/// The clock of a connection's pending requests, kept with them.
#[derive(Debug)]
pub(super) struct Clock {
    /// When the clock wakes next: the earliest deadline it knows of.
    pub(super) at: Instant,
    /// Which clock task this is; a task whose number is not the current
    /// one has been replaced and stops.
    pub(super) generation: u64,
    /// The task's waker, to wake it when a deadline earlier than `at`
    /// comes.
    pub(super) waker: Option<Waker>,
}

/// What registering a deadline asks of the clock, done after the lock of
/// the pending requests is released.
#[must_use]
pub(super) enum Nudge {
    /// The clock already wakes in time.
    Nothing,
    /// No clock runs: start one with this generation.
    Start(u64),
    /// The clock must wake earlier: wake its task.
    Wake(Option<Waker>),
}

impl Nudge {
    pub(super) fn apply(self, shared: &Arc<Shared>) {
        match self {
            Nudge::Nothing => {}
            Nudge::Start(generation) => {
                // `register` checked there is a runtime before asking.
                tokio::spawn(run(ClearOnDrop {
                    shared: Arc::downgrade(shared),
                    generation,
                }));
            }
            Nudge::Wake(waker) => {
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }
}

/// The clock task: sleeps until the earliest deadline, fails what is due,
/// and goes on until no request is pending.
///
/// The guard is an argument, not a local: a task dropped before its first
/// poll (spawned on a runtime that is shutting down) drops its arguments,
/// so the clock is cleared then too.
async fn run(cleared: ClearOnDrop) {
    let shared = cleared.shared.clone();
    let generation = cleared.generation;
    let Some(mut at) = current_at(&shared, generation) else {
        return;
    };
    let mut sleep = pin!(sleep_until(at));
    loop {
        poll_fn(|cx| {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            watch(&shared, generation, at, cx)
        })
        .await;
        let Some(strong) = shared.upgrade() else {
            return;
        };
        match strong.expire_requests(Instant::now(), generation) {
            Some(next) => {
                at = next;
                sleep.as_mut().reset(next);
            }
            None => return,
        }
    }
}

/// The clock's wake-up time, if `generation` is still the clock.
fn current_at(shared: &Weak<Shared>, generation: u64) -> Option<Instant> {
    let shared = shared.upgrade()?;
    let requests = lock(&shared.requests);
    let clock = requests.as_ref()?.clock.as_ref()?;
    (clock.generation == generation).then_some(clock.at)
}

/// Registers the clock task's waker; ready when the task must look again:
/// its connection is gone, it was replaced, or a request moved its
/// wake-up time before `at`.
fn watch(shared: &Weak<Shared>, generation: u64, at: Instant, cx: &Context<'_>) -> Poll<()> {
    let Some(shared) = shared.upgrade() else {
        return Poll::Ready(());
    };
    let mut requests = lock(&shared.requests);
    match requests.as_mut().and_then(|r| r.clock.as_mut()) {
        Some(clock) if clock.generation == generation && clock.at >= at => {
            if !clock
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                clock.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        }
        _ => Poll::Ready(()),
    }
}

/// Clears the clock if its task ends without doing so itself (dropped with
/// its runtime), so that the next request starts a new one.
struct ClearOnDrop {
    shared: Weak<Shared>,
    generation: u64,
}

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut requests = lock(&shared.requests);
        if let Some(requests) = requests.as_mut()
            && requests
                .clock
                .as_ref()
                .is_some_and(|clock| clock.generation == self.generation)
        {
            requests.clock = None;
        }
    }
}

impl Shared {
    /// Fails every pending request due at `now` with `TimedOut` (the
    /// requester puts in its own timeout) and returns when the clock
    /// `generation` wakes next; `None` when it is to end: nothing is
    /// pending, or it was replaced.
    fn expire_requests(&self, now: Instant, generation: u64) -> Option<Instant> {
        let (due, next) = {
            let mut guard = lock(&self.requests);
            let requests = guard.as_mut()?;
            if requests.clock.as_ref()?.generation != generation {
                return None;
            }
            // Taken out of the map, so a late reply counts as unmatched.
            let due: Vec<Reply> = requests
                .pending
                .extract_if(|_, pending| pending.deadline <= now)
                .map(|(_, pending)| pending.reply)
                .collect();
            let next = requests.pending.values().map(|p| p.deadline).min();
            match (next, requests.clock.as_mut()) {
                (Some(next), Some(clock)) => clock.at = next,
                _ => requests.clock = None,
            }
            (due, next)
        };
        for reply in due {
            let _ = reply.send(Err(RequestError::TimedOut {
                after: std::time::Duration::ZERO,
            }));
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::{Context, Waker};
    use std::time::Duration;

    use linesman_ipc_codec::Frame;
    use linesman_observer::Bus;

    use super::*;
    use crate::handle::ConnectionHandle;
    use crate::shared::Phase;
    use crate::spec::Target;

    fn shared() -> Arc<Shared> {
        let bus = Bus::default();
        Arc::new(Shared::new(
            bus.publisher("clock"),
            None,
            Target::Endpoint("tcp://127.0.0.1:9".parse().expect("an endpoint")),
        ))
    }

    /// A runtime of its own, for tests that drop one under a clock.
    fn runtime(paused: bool) -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(paused)
            .build()
            .expect("a runtime")
    }

    fn pending(shared: &Shared) -> usize {
        lock(&shared.requests)
            .as_ref()
            .map_or(0, |requests| requests.pending.len())
    }

    fn clock_runs(shared: &Shared) -> bool {
        lock(&shared.requests)
            .as_ref()
            .is_some_and(|requests| requests.clock.is_some())
    }

    #[tokio::test(start_paused = true)]
    async fn a_due_request_fails_and_the_clock_ends_when_nothing_is_pending() {
        let shared = shared();
        let (_, reply) = shared.register(Duration::from_secs(1));
        assert!(clock_runs(&shared), "the first request starts the clock");
        let answer = reply.await.expect("the clock answers");
        assert!(matches!(answer, Err(RequestError::TimedOut { .. })));
        assert_eq!(pending(&shared), 0);
        tokio::task::yield_now().await;
        assert!(!clock_runs(&shared), "nothing pending: the clock ended");
    }

    #[tokio::test]
    async fn a_later_shorter_deadline_moves_the_clock_and_fails_first() {
        let shared = shared();
        let (_, mut long) = shared.register(Duration::from_secs(3600));
        tokio::task::yield_now().await; // the clock sleeps for an hour
        let (_, short) = shared.register(Duration::from_millis(50));
        let answer = short.await.expect("the clock answers");
        assert!(matches!(answer, Err(RequestError::TimedOut { .. })));
        assert!(long.try_recv().is_err(), "the long request still waits");
        assert_eq!(pending(&shared), 1);
        assert!(clock_runs(&shared), "the clock goes on for the long one");
    }

    #[test]
    fn a_clock_dropped_with_its_runtime_is_replaced_by_the_next_request() {
        let shared = shared();
        let first = runtime(false);
        let (_, old) = first.block_on(async {
            let registered = shared.register(Duration::from_secs(3600));
            tokio::task::yield_now().await;
            registered
        });
        assert!(clock_runs(&shared));
        drop(first);
        assert!(!clock_runs(&shared), "the dropped clock cleared itself");
        let second = runtime(true);
        let answer = second.block_on(async {
            let (_, reply) = shared.register(Duration::from_millis(50));
            reply.await
        });
        assert!(matches!(answer, Ok(Err(RequestError::TimedOut { .. }))));
        assert_eq!(pending(&shared), 1, "the old request still waits");
        drop(old);
    }

    #[test]
    fn a_clock_dropped_before_its_first_poll_clears_itself() {
        let shared = shared();
        let runtime = runtime(false);
        // The clock is spawned, and the runtime goes before it ever runs.
        let (_, _reply) = runtime.block_on(async { shared.register(Duration::from_secs(3600)) });
        assert!(clock_runs(&shared));
        drop(runtime);
        assert!(!clock_runs(&shared), "the unpolled clock cleared itself");
    }

    #[tokio::test]
    async fn a_request_given_up_leaves_nothing_pending() {
        let shared = shared();
        shared.set_phase(Phase::Up);
        let handle = ConnectionHandle::new(Arc::clone(&shared));
        let mut request = Box::pin(handle.request(Frame::new(1, "x"), Duration::from_secs(3600)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(request.as_mut().poll(&mut cx).is_pending());
        assert_eq!(pending(&shared), 1);
        drop(request);
        assert_eq!(pending(&shared), 0, "the dropped request was taken out");
    }
}
