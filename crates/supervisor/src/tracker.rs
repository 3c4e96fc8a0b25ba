//! One connection's restart bookkeeping: applies a [`RestartPolicy`] to the
//! sessions as they start and end, and decides what happens next.
//!
//! The tracker is a plain state machine with no clock and no tasks of its
//! own: the caller passes `now` in and sleeps until [`Decision::Restart`]'s
//! `at` itself. That keeps every rule here exact and testable on paused
//! tokio time.
//!
//! ```
//! use linesman_supervisor::{Decision, RestartPolicy, RestartTracker, SessionEnd};
//! use tokio::time::Instant;
//!
//! let mut tracker = RestartTracker::new(RestartPolicy::default(), 7);
//! let now = Instant::now();
//! tracker.session_started(now);
//! match tracker.session_ended(SessionEnd::Failure, now) {
//!     Decision::Restart { attempt, delay, .. } => {
//!         assert_eq!(attempt, 1);
//!         assert!(delay.as_millis() >= 80 && delay.as_millis() <= 120);
//!     }
//!     other => panic!("expected a restart, got {other:?}"),
//! }
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::restart::{RestartMode, RestartPolicy};
use crate::rng::SplitMix64;

/// How a session ended, as far as the restart policy cares.
///
/// The connection layer maps its detailed reason onto this:
///
/// - [`Failure`](Self::Failure): the connect failed (refused, timed out,
///   name not resolved), the connection was reset or broke, the stream ended
///   inside a frame, a protocol error, a handler error or panic, a liveness
///   check fired (idle timeout, heartbeat, keepalive, `TCP_USER_TIMEOUT`).
/// - [`Clean`](Self::Clean): the peer closed the connection in an orderly
///   way (end of stream at a frame boundary), or the handler ended the
///   session on purpose without an error.
///
/// Under [`RestartMode::OnFailure`] only a failure is restarted. Ends that
/// the supervisor causes itself (stop, shutdown, lost dependency) are not
/// reported to the tracker at all: they are not the policy's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEnd {
    /// An orderly end: not a failure.
    Clean,
    /// Anything that went wrong.
    Failure,
}

impl SessionEnd {
    /// Whether this end counts as a failure.
    pub fn is_failure(self) -> bool {
        self == Self::Failure
    }
}

/// What to do after a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start again after `delay`, at the instant `at` (state `Backoff`).
    Restart {
        /// Restart number, from 1: the restarts after sessions that came up
        /// since the last stable session (or reset), plus the connect failures
        /// since the last session that came up (see [`RestartTracker::attempt`]).
        attempt: u32,
        /// How long to wait, jitter included, never above `backoff.max`.
        delay: Duration,
        /// `now + delay`.
        at: Instant,
    },
    /// Too many restarts after sessions that had come up (flaps) within the
    /// intensity window: stop trying (state `Failed`) until
    /// [`RestartTracker::reset`].
    GiveUp {
        /// Restarts counted within the window (the intensity's `max_restarts`).
        restarts: u32,
        /// The intensity window.
        window: Duration,
    },
    /// The policy does not restart this end (state `Stopped`).
    Stop,
}

/// The restart state of one connection: attempt count, recent restarts,
/// whether it gave up, and its own jitter generator.
#[derive(Debug, Clone)]
pub struct RestartTracker {
    /// Shared by the trackers of every connection with the same policy.
    policy: Arc<RestartPolicy>,
    rng: SplitMix64,
    /// Restarts after a session that had come up, since the last session
    /// that stayed up `reset_after` (or the last reset).
    flaps: u32,
    /// Connect attempts that failed since the last session that came up
    /// (or the last reset): forgotten once one comes up.
    failures: u32,
    up_since: Option<Instant>,
    /// Instants of the restarts after a session that had come up, within
    /// the last window, oldest first: at most the intensity's
    /// `max_restarts`. A `Vec` (the oldest leave with one shift), not a
    /// `VecDeque`: 8 bytes less in every connection task's future.
    recent: Vec<Instant>,
    failed: bool,
}

impl RestartTracker {
    /// A tracker for one connection. `seed` feeds the jitter: give each
    /// connection its own (the supervisor mixes the connection's name with a
    /// per-process random key and the time), or a fixed value for
    /// reproducible delays. The policy was checked when it was built, so
    /// there is nothing to refuse.
    pub fn new(policy: RestartPolicy, seed: u64) -> Self {
        Self::shared(Arc::new(policy), seed)
    }

    /// As [`new`](Self::new), with a policy that many trackers share: one
    /// allocation for all the connections with the same policy instead of
    /// ~100 bytes in each.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use linesman_supervisor::{RestartPolicy, RestartTracker};
    ///
    /// let policy = Arc::new(RestartPolicy::default());
    /// let a = RestartTracker::shared(Arc::clone(&policy), 1);
    /// let b = RestartTracker::shared(policy, 2);
    /// assert_eq!(a.policy(), b.policy());
    /// ```
    pub fn shared(policy: Arc<RestartPolicy>, seed: u64) -> Self {
        Self {
            policy,
            rng: SplitMix64::new(seed),
            flaps: 0,
            failures: 0,
            up_since: None,
            recent: Vec::new(),
            failed: false,
        }
    }

    /// The policy this tracker applies.
    pub fn policy(&self) -> &RestartPolicy {
        &self.policy
    }

    /// Restart number of the last [`Decision::Restart`]: the restarts after
    /// sessions that came up since the last stable session (or reset), plus
    /// the connect failures since the last session that came up; 0 before
    /// the first restart.
    pub fn attempt(&self) -> u32 {
        self.flaps.saturating_add(self.failures)
    }

    /// Whether the tracker gave up (state `Failed`); cleared by [`reset`](Self::reset).
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Restarts counted by the intensity (those after a session that had
    /// come up) within the window that ends at `now`.
    pub fn restarts_in_window(&self, now: Instant) -> u32 {
        let window = self.policy.intensity().window;
        let count = self
            .recent
            .iter()
            .filter(|t| now.saturating_duration_since(**t) < window)
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// Records that a session is up (connected and handshake done) at `now`.
    /// A session that never comes up (the connect failed) skips this call;
    /// only the restart after a session that came up counts toward the
    /// intensity.
    pub fn session_started(&mut self, now: Instant) {
        self.up_since = Some(now);
    }

    /// Records that the current session (or connect attempt) ended at `now`
    /// and decides what happens next.
    ///
    /// In order: a session that came up forgets the connect failures
    /// before it, and one that stayed up at least `reset_after` resets the
    /// attempt count altogether; a tracker that gave up keeps answering `GiveUp`; the
    /// mode may say `Stop`; after a session that had come up (a flap), a
    /// restart beyond `max_restarts` such restarts within the sliding window
    /// gives up; otherwise the attempt count grows and a jittered delay is
    /// drawn. A connect that failed (no [`session_started`](Self::session_started)
    /// since the last end) grows the backoff but is not counted: a peer that
    /// is not there is retried forever at the backoff's pace.
    pub fn session_ended(&mut self, end: SessionEnd, now: Instant) -> Decision {
        let was_up = self.up_since.take();
        if let Some(since) = was_up {
            // The peer was there: the failures to reach it before are
            // history, and a long enough session forgives the flaps too.
            self.failures = 0;
            if now.saturating_duration_since(since) >= self.policy.reset_after() {
                self.flaps = 0;
            }
        }
        if self.failed {
            return self.give_up();
        }
        match (self.policy.mode(), end) {
            (RestartMode::Never, _) | (RestartMode::OnFailure, SessionEnd::Clean) => {
                return Decision::Stop;
            }
            (RestartMode::Always, _) | (RestartMode::OnFailure, SessionEnd::Failure) => {}
        }
        if was_up.is_some() && !self.count_flap(now) {
            self.failed = true;
            return self.give_up();
        }
        if was_up.is_some() {
            self.flaps = self.flaps.saturating_add(1);
        } else {
            self.failures = self.failures.saturating_add(1);
        }
        let attempt = self.attempt();
        let delay = self.draw_delay(attempt);
        Decision::Restart {
            attempt,
            delay,
            // `delay` is at most `BackoffPolicy::MAX_LIMIT` (checked when
            // the policy was built), so this
            // cannot overflow any clock that is not about to.
            at: now + delay,
        }
    }

    /// Starts afresh, as a manual `start` or `restart` does: clears `Failed`,
    /// the attempt count and the restart history of the intensity window.
    /// The jitter generator continues (it is not re-seeded).
    pub fn reset(&mut self) {
        self.flaps = 0;
        self.failures = 0;
        self.up_since = None;
        self.recent.clear();
        self.failed = false;
    }

    /// Counts a restart after a session that came up; `false` if it is one
    /// more than the intensity allows within its window.
    fn count_flap(&mut self, now: Instant) -> bool {
        let window = self.policy.intensity().window;
        let expired = self
            .recent
            .iter()
            .take_while(|oldest| now.saturating_duration_since(**oldest) >= window)
            .count();
        self.recent.drain(..expired);
        if self.recent.len() >= self.policy.intensity().max_restarts as usize {
            return false;
        }
        self.recent.push(now);
        true
    }

    fn give_up(&self) -> Decision {
        Decision::GiveUp {
            restarts: self.policy.intensity().max_restarts,
            window: self.policy.intensity().window,
        }
    }

    fn draw_delay(&mut self, attempt: u32) -> Duration {
        let backoff = self.policy.backoff();
        let nominal = backoff.nominal_delay(attempt);
        if backoff.jitter == 0.0 {
            return nominal;
        }
        backoff.jittered(nominal, self.rng.next_unit())
    }
}
