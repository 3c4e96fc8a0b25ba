//! One connection's task: the supervisor's state machine for it, with every
//! transition in the one `match` of [`Task::run`].
//!
//! ```text
//!            ┌────────── rule does not hold ──────────┐
//!            v                                        │
//! Ready ─> Waiting ── rule holds ──> Connecting ──────┤ (session ends)
//!   ^                                   │             v
//!   │                                   │     tracker decides:
//!   └──────── delay over ─── Backoff <──┴── Restart │ GiveUp ─> Failed
//!                                                   └ Stop ───> Stopped
//! ```
//!
//! A panic in any state (caught in [`Task::run`]) also leads to `Failed`,
//! published as a `GaveUp` that carries the panic's message.
//!
//! Commands (`start`, `stop`, `restart`), start-rule changes and the
//! shutdown reach the task through its [`Inbox`]. The session runs in
//! [`Task::session`], which keeps listening to the inbox while the
//! connection is connected, and stops the session gracefully (bounded by the
//! shutdown timeout) when asked, when the rule stops holding under
//! `on_dependency_down: stop`, or to reconnect under `restart`.
//!
//! Attempt numbers: the first connect is attempt 1; restart number `n`
//! decided by the [`RestartTracker`] is connect attempt `n + 1`, and the
//! `Backoff` event before it names that attempt (the attempt that will be
//! made), so `Backoff.attempt` and the following `Connecting.attempt` agree.

use std::future::poll_fn;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use linesman_connection::{Connection, Reason, SessionOutcome, SessionStop};
use linesman_observer::{Backoff, GaveUp, Publisher, Started, Stopped, Stopping, Waiting, What};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep, sleep, sleep_until};

use crate::control::Command;
use crate::mailbox::{Inbox, Signal, settled_since};
use crate::rule::{OnDependencyDown, Rule};
use crate::rules::{Phase, holds, waiting_on};
use crate::tracker::{Decision, RestartTracker, SessionEnd};

/// Where the task is. Every transition is made in [`Task::run`].
#[derive(Debug)]
enum State {
    /// Decide: shut down, connect, or wait for the start rule.
    Ready { attempt: u32 },
    /// The start rule does not hold; `on` was published.
    Waiting { attempt: u32, on: Vec<String> },
    /// A session runs (connect, handshake, frames, end).
    Connecting { attempt: u32 },
    /// Waiting for the restart delay to end at `at`.
    Backoff { attempt: u32, at: Instant },
    /// Stopped (asked, or the policy does not restart); only a command revives it.
    Stopped,
    /// Gave up; only a command revives it.
    Failed,
    /// Shut down: the task ends.
    Done,
}

impl State {
    fn phase(&self) -> Phase {
        match self {
            State::Ready { .. } | State::Connecting { .. } | State::Backoff { .. } => Phase::Active,
            State::Waiting { .. } => Phase::Waiting,
            State::Stopped | State::Failed | State::Done => Phase::Terminal,
        }
    }
}

/// Why the supervisor ended a session that was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Shutdown,
    Stop,
    Restart,
    DependencyDown,
    Reconnect,
}

/// How the supervisor is ending a running session, if it is.
#[derive(Default)]
struct Ending {
    intent: Option<Intent>,
    /// Boxed and made only once a stop is asked for: unboxed, the timer
    /// would take room in every task's future for the whole session.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Under `on_dependency_down: restart`, the rule stopped holding: reconnect
    /// once it holds again.
    reconnect_when_back: bool,
}

/// Where the task reports its [`Phase`] for "can anything still run".
#[derive(Debug, Clone)]
pub(crate) struct PhaseReport {
    pub(crate) phases: Arc<watch::Sender<Vec<Phase>>>,
    pub(crate) index: usize,
}

impl PhaseReport {
    pub(crate) fn set(&self, phase: Phase) {
        self.phases.send_if_modified(|phases| {
            let changed = phases[self.index] != phase;
            phases[self.index] = phase;
            changed
        });
    }
}

/// Everything one connection's task owns.
#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) conn: Connection,
    pub(crate) controls: Controls,
    pub(crate) tracker: RestartTracker,
    pub(crate) report: PhaseReport,
}

/// What a task watches and steers its sessions by. One struct apart from
/// the connection, so that the poll of a running session borrows it as
/// one reference (the poll's closure lives in every task's future for the
/// whole session; each field borrowed on its own would take 8 bytes there).
#[derive(Debug)]
pub(crate) struct Controls {
    /// Stops the connection's sessions; also its publisher and bus (kept
    /// once, in the connection's shared state, not copied here).
    pub(crate) stopper: SessionStop,
    /// Boxed: most connections have none, and the task's future holds it.
    pub(crate) rule: Option<Box<Rule>>,
    pub(crate) on_dependency_down: OnDependencyDown,
    pub(crate) inbox: Inbox,
    pub(crate) timeout: Duration,
}

impl Task {
    /// Runs the connection until the shutdown ends it, then reports it
    /// terminal.
    ///
    /// A panic that escapes into the task (a bug, or application code the
    /// connection calls unguarded, such as a blocking target's `open`;
    /// handler panics are caught by the connection) is caught here: the
    /// connection goes `failed` with the panic's message (a `GaveUp` with a
    /// reason) and the task lives on in [`State::Failed`], so a `start`
    /// revives it, as after the restart policy gave up. Never silently
    /// unsupervised.
    ///
    /// Not an `async fn`: one that takes `self` by value keeps two copies of
    /// it in its future (the argument and the moved local), and a `Task` is
    /// ~700 bytes; the `async move` block captures it once, and the states
    /// borrow it. The panic is caught here rather than around the task's
    /// future, which would need its own publisher and report (~70 bytes).
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold the task twice (3.9 KB against 3.3 KB)"
    )]
    pub(crate) fn run(mut self) -> impl Future<Output = ()> + Send {
        async move {
            publish(self.controls.stopper.publisher(), Started {});
            let mut failed = false;
            while let Err(panic) = AssertUnwindSafe(self.states(failed)).catch_unwind().await {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                tracing::error!(
                    panic = %message,
                    "the connection's task panicked: the connection is failed until started again"
                );
                let name = self.conn.name();
                publish(
                    self.controls.stopper.publisher(),
                    GaveUp {
                        restarts: 0,
                        window: Duration::ZERO,
                        reason: Some(format!(
                            "supervisor task panicked: {message}; `linesman start {name}` restarts it"
                        )),
                    },
                );
                failed = true;
            }
            self.conn.handle().close();
            self.report.set(Phase::Terminal);
        }
    }

    /// Goes from state to state until the task is done, from `Ready` (or
    /// from `Failed`, after a panic).
    async fn states(&mut self, failed: bool) {
        let mut state = if failed {
            State::Failed
        } else {
            State::Ready { attempt: 1 }
        };
        loop {
            self.report.set(state.phase());
            state = match state {
                State::Ready { attempt } => self.ready(attempt),
                State::Waiting { attempt, on } => self.waiting(attempt, on).await,
                State::Connecting { attempt } => self.session(attempt).await,
                State::Backoff { attempt, at } => self.backoff(attempt, at).await,
                State::Stopped => self.stopped().await,
                State::Failed => self.failed().await,
                State::Done => break,
            };
        }
    }

    fn ready(&mut self, attempt: u32) -> State {
        if self.controls.inbox.is_shut_down() {
            return self.shut_down("shutdown");
        }
        if holds(self.controls.stopper.bus(), self.controls.rule.as_deref()) {
            return State::Connecting { attempt };
        }
        let on = waiting_on(self.controls.stopper.bus(), self.controls.rule.as_deref());
        tracing::info!(waiting_on = ?on, "start rule does not hold");
        publish(
            self.controls.stopper.publisher(),
            Waiting { on: on.clone() },
        );
        State::Waiting { attempt, on }
    }

    async fn waiting(&mut self, attempt: u32, on: Vec<String>) -> State {
        match self.controls.inbox.next().await {
            Signal::Shutdown => self.shut_down("shutdown"),
            Signal::Command(Command::Stop) => self.stop_requested(),
            Signal::Command(Command::Restart) => self.restart_requested(),
            Signal::Command(Command::Start) => State::Waiting { attempt, on },
            Signal::Rules if holds(self.controls.stopper.bus(), self.controls.rule.as_deref()) => {
                State::Connecting { attempt }
            }
            Signal::Rules => {
                let now_on = waiting_on(self.controls.stopper.bus(), self.controls.rule.as_deref());
                if now_on != on {
                    publish(
                        self.controls.stopper.publisher(),
                        Waiting { on: now_on.clone() },
                    );
                }
                State::Waiting {
                    attempt,
                    on: now_on,
                }
            }
        }
    }

    async fn backoff(&mut self, attempt: u32, at: Instant) -> State {
        tokio::select! {
            () = sleep_until(at) => State::Ready { attempt },
            signal = self.controls.inbox.next() => match signal {
                Signal::Shutdown => self.shut_down("shutdown"),
                Signal::Command(Command::Stop) => self.stop_requested(),
                Signal::Command(Command::Restart) => self.restart_requested(),
                Signal::Command(Command::Start) | Signal::Rules => State::Backoff { attempt, at },
            },
        }
    }

    async fn stopped(&mut self) -> State {
        match self.controls.inbox.next().await {
            Signal::Shutdown => State::Done,
            Signal::Command(Command::Start) => self.started_again(),
            Signal::Command(Command::Restart) => {
                self.controls.hold_restarts();
                self.started_again()
            }
            Signal::Command(Command::Stop) | Signal::Rules => State::Stopped,
        }
    }

    async fn failed(&mut self) -> State {
        match self.controls.inbox.next().await {
            // A failed connection stays failed through the shutdown, so the
            // final registry still says why.
            Signal::Shutdown => State::Done,
            Signal::Command(Command::Start) => self.started_again(),
            Signal::Command(Command::Restart) => {
                self.controls.hold_restarts();
                self.started_again()
            }
            Signal::Command(Command::Stop) => self.stop_requested(),
            Signal::Rules => State::Failed,
        }
    }

    /// A `restart` while not connected (waiting, backoff): connect again now,
    /// with a fresh restart history.
    fn restart_requested(&mut self) -> State {
        self.controls.hold_restarts();
        self.tracker.reset();
        State::Ready { attempt: 1 }
    }

    fn started_again(&mut self) -> State {
        self.tracker.reset();
        publish(self.controls.stopper.publisher(), Started {});
        State::Ready { attempt: 1 }
    }

    fn stop_requested(&mut self) -> State {
        publish(
            self.controls.stopper.publisher(),
            Stopped {
                reason: "stopped by request".into(),
            },
        );
        State::Stopped
    }

    fn shut_down(&mut self, reason: &str) -> State {
        publish(self.controls.stopper.publisher(), Stopping {});
        publish(
            self.controls.stopper.publisher(),
            Stopped {
                reason: reason.into(),
            },
        );
        State::Done
    }

    /// Runs one session while listening to the inbox; see the module docs.
    ///
    /// Not an `async fn`: one keeps its arguments twice in its future, which
    /// lives in every task's for the whole session.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold its arguments twice for the whole session"
    )]
    fn session(&mut self, attempt: u32) -> impl Future<Output = State> + Send + '_ {
        async move {
            // Half of the budget for flushing queued sends; the rest is left to
            // `on_disconnect` and closing.
            let drain = self.controls.timeout / 2;
            let mut ending = Ending::default();
            let outcome = {
                let Task { conn, controls, .. } = self;
                let mut session = pin!(conn.run_session_until_stopped(attempt, drain));
                let ending = &mut ending;
                // One poll over the session, the deadline and the inbox, not a
                // `select!`: its futures would take room in every task's future
                // for the whole session. A `move` closure over three references
                // (a closure that borrows captures each field it uses apart).
                poll_fn(move |cx| {
                    loop {
                        if let Poll::Ready(outcome) = session.as_mut().poll(cx) {
                            return Poll::Ready(Some(outcome));
                        }
                        if let Some(sleep) = &mut ending.deadline
                            && sleep.as_mut().poll(cx).is_ready()
                        {
                            return Poll::Ready(None);
                        }
                        if ending.intent.is_some() {
                            return Poll::Pending;
                        }
                        let Poll::Ready(signal) = controls.inbox.poll_next(cx) else {
                            return Poll::Pending;
                        };
                        controls.on_signal_while_up(signal, ending);
                    }
                })
                .await
            };
            let intent = ending.intent;
            if outcome.is_none() {
                tracing::warn!(timeout = ?self.controls.timeout, "the session did not end in time; dropped it");
            }
            match (intent, outcome) {
                (Some(Intent::Shutdown), Some(_)) => self.after_stop("shutdown", State::Done),
                (Some(Intent::Shutdown), None) => {
                    let reason = format!("shutdown (forced after {:?})", self.controls.timeout);
                    self.after_stop(&reason, State::Done)
                }
                (Some(Intent::Stop), _) => self.after_stop("stopped by request", State::Stopped),
                (Some(Intent::Restart), _) => {
                    self.tracker.reset();
                    State::Ready { attempt: 1 }
                }
                (Some(Intent::DependencyDown | Intent::Reconnect), _) => {
                    State::Ready { attempt: 1 }
                }
                (None, Some(outcome)) => self.after_session(outcome),
                // The deadline is only set together with an intent.
                (None, None) => State::Ready { attempt },
            }
        }
    }

    fn after_stop(&mut self, reason: &str, next: State) -> State {
        publish(
            self.controls.stopper.publisher(),
            Stopped {
                reason: reason.into(),
            },
        );
        next
    }

    /// A session ended by itself: let the restart policy decide.
    fn after_session(&mut self, outcome: SessionOutcome) -> State {
        let now = Instant::now();
        if matches!(outcome.reason, Reason::Stopped) {
            // Ended from elsewhere (the handle was closed): not the policy's business.
            return self.after_stop(&outcome.reason.to_string(), State::Stopped);
        }
        if outcome.was_up {
            self.tracker
                .session_started(now.checked_sub(outcome.uptime).unwrap_or(now));
        }
        let end = if outcome.reason.is_failure() {
            SessionEnd::Failure
        } else {
            SessionEnd::Clean
        };
        match self.tracker.session_ended(end, now) {
            Decision::Restart { attempt, delay, at } => {
                let next = attempt.saturating_add(1);
                let wall = SystemTime::now();
                let until = wall.checked_add(delay).unwrap_or(wall);
                // At debug: the session's end was logged (or counted) by
                // the connection; one more line per restart is a flood.
                tracing::debug!(reason = %outcome.reason, ?delay, next_attempt = next, "restarting after a delay");
                publish(
                    self.controls.stopper.publisher(),
                    Backoff {
                        attempt: next,
                        delay,
                        until,
                    },
                );
                State::Backoff { attempt: next, at }
            }
            Decision::GiveUp { restarts, window } => {
                tracing::warn!(reason = %outcome.reason, restarts, ?window, "restart intensity exceeded; giving up");
                publish(
                    self.controls.stopper.publisher(),
                    GaveUp {
                        restarts,
                        window,
                        reason: None,
                    },
                );
                State::Failed
            }
            Decision::Stop => {
                let reason = format!(
                    "restart policy {} does not restart after: {}",
                    self.tracker.policy().mode,
                    outcome.reason
                );
                self.after_stop(&reason, State::Stopped)
            }
        }
    }
}

impl Controls {
    /// A signal that came while a session runs: decides whether the
    /// session must end and, if so, asks it to stop and starts the
    /// deadline it has to end by.
    fn on_signal_while_up(&self, signal: Signal, ending: &mut Ending) {
        let wanted = match signal {
            Signal::Shutdown => Some(Intent::Shutdown),
            Signal::Command(Command::Stop) => Some(Intent::Stop),
            Signal::Command(Command::Restart) => {
                self.hold_restarts();
                Some(Intent::Restart)
            }
            Signal::Command(Command::Start) => None,
            Signal::Rules => {
                let up = holds(self.stopper.bus(), self.rule.as_deref());
                match (up, self.on_dependency_down) {
                    (true, _) if ending.reconnect_when_back => Some(Intent::Reconnect),
                    (true, _) | (false, OnDependencyDown::Keep) => None,
                    (false, OnDependencyDown::Stop) => Some(Intent::DependencyDown),
                    (false, OnDependencyDown::Restart) => {
                        ending.reconnect_when_back = true;
                        None
                    }
                }
            }
        };
        if let Some(wanted) = wanted {
            tracing::info!(?wanted, "ending the session");
            if matches!(wanted, Intent::Shutdown | Intent::Stop) {
                publish(self.stopper.publisher(), Stopping {});
            }
            self.stopper.stop();
            ending.deadline = Some(Box::pin(sleep(self.timeout)));
            ending.intent = Some(wanted);
        }
    }
}

impl Controls {
    /// A restart asked for by command is being carried out: holds further
    /// restarts until the connection settled since now, and for at least
    /// [`RESTART_HOLD`](crate::mailbox::RESTART_HOLD).
    fn hold_restarts(&self) {
        let bus = self.stopper.bus().clone();
        let name: Arc<str> = Arc::from(self.stopper.publisher().name());
        let since = bus.state(&name).map_or(0, |s| s.last_event.seq);
        self.inbox
            .hold_restarts(move || settled_since(&bus, &name, since));
    }
}

/// Publishes one of the supervisor's own events. The bus refuses only after
/// it is closed, which happens once every task has ended.
fn publish(publisher: &Publisher, what: impl Into<What>) {
    if let Err(error) = publisher.publish(what) {
        tracing::debug!(%error, "event not published");
    }
}
