//! One connection's task: the async shell around its [`Lifecycle`]. It only
//! waits for the next input — a signal from its mailbox, the end of its
//! session, a timer — steps the machine with it, and carries out the
//! effects; every decision is the machine's (`lifecycle.rs`).
//!
//! A panic that escapes into the task (a bug, or application code the
//! connection calls unguarded, such as a blocking target's `open`; handler
//! panics are caught by the connection) is caught here and given to the
//! machine as an input: the connection goes `failed` with the panic's
//! message, and the task lives on, so `start` revives it.
//!
//! Memory per connection decides the shape (10,000 connections is a
//! benchmark): the task's future holds the task once, a running session is
//! polled together with the inbox and the timers in one `poll_fn` over three
//! references (the session, its stop deadline, the [`Shell`]), and the
//! timers that exist only sometimes (the restart hold, the stop deadline)
//! are boxed and made when armed. `size.rs` pins the resulting sizes.

use std::future::poll_fn;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use linesman_connection::{Connection, LogFlood, Reason, SessionControl, SessionOutcome};
use linesman_observer::{Bus, What};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep, sleep, sleep_until};

use crate::lifecycle::Phase;
use crate::lifecycle::{Effect, Ended, Input, Lifecycle, RuleNow, State, World};
use crate::mailbox::{Inbox, Signal};
use crate::rule::Rule;
use crate::rules::evaluate;

/// What every connection task of one run shares: where they report their
/// phases, and the shutdown timeout. One `Arc` in each task, where the two
/// were 16 bytes more in every task's future (`size.rs`).
#[derive(Debug)]
pub(crate) struct TaskCommon {
    pub(crate) phases: watch::Sender<Vec<Phase>>,
    /// The spec's shutdown timeout: how long a session asked to end has.
    pub(crate) timeout: Duration,
}

/// Where the task reports its [`Phase`] for "can anything still run", and
/// what it shares with the other tasks.
#[derive(Debug, Clone)]
pub(crate) struct PhaseReport {
    pub(crate) common: Arc<TaskCommon>,
    pub(crate) index: usize,
}

impl PhaseReport {
    /// Whether a line about this connection's lifecycle may be written at
    /// INFO under the process-wide cap ([`LogFlood`]); at DEBUG if not.
    pub(crate) fn may_log(&self) -> bool {
        // Apart from the sessions' own sources (counted up from 0).
        LogFlood::global().allow((1 << 63) | self.index as u64)
    }

    pub(crate) fn set(&self, phase: Phase) {
        self.common.phases.send_if_modified(|phases| {
            let changed = phases[self.index] != phase;
            phases[self.index] = phase;
            changed
        });
    }
}

/// A start rule and the bus whose registry it is evaluated against.
#[derive(Debug)]
pub(crate) struct RuleWatch {
    pub(crate) rule: Rule,
    pub(crate) bus: Bus,
}

/// Everything one connection's task owns.
#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) conn: Connection,
    pub(crate) shell: Shell,
}

/// Everything but the connection: the machine and what the task waits on
/// and steers by. One struct, so a running session's poll borrows it as one
/// reference.
#[derive(Debug)]
pub(crate) struct Shell {
    pub(crate) lifecycle: Lifecycle,
    /// Stops the connection's sessions and publishes the task's events.
    pub(crate) control: SessionControl,
    pub(crate) inbox: Inbox,
    /// Boxed: most connections have no start rule.
    pub(crate) rule: Option<Box<RuleWatch>>,
    pub(crate) report: PhaseReport,
    /// The restart hold's timer, while one is armed.
    pub(crate) hold: Option<Pin<Box<Sleep>>>,
}

/// What the task does after a step.
enum Next {
    /// Run a session: connect attempt `n`.
    Connect(u32),
    /// Wait for the next input.
    Wait,
    /// The machine is done: the task ends.
    Done,
}

impl Task {
    /// Runs the connection until the shutdown ends it, then reports it
    /// terminal.
    ///
    /// Not an `async fn`: one that takes `self` by value keeps two copies of
    /// it in its future (the argument and the moved local); the `async
    /// move` block captures it once.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold the task twice: +592 bytes per connection (size.rs)"
    )]
    pub(crate) fn run(mut self) -> impl Future<Output = ()> + Send {
        async move {
            let mut input = Input::Begin;
            while let Err(panic) = AssertUnwindSafe(self.drive(input)).catch_unwind().await {
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
                input = Input::Panicked(Box::new(format!(
                    "supervisor task panicked: {message}; `linesman start {name}` restarts it"
                )));
            }
            self.conn.handle().close();
            self.shell.report.set(Phase::Terminal);
        }
    }

    /// The sizes of the futures the task's future nests, for `size.rs`.
    #[cfg(test)]
    pub(crate) fn sizes(&mut self) -> (usize, usize, usize) {
        let drive = std::mem::size_of_val(&self.drive(Input::Begin));
        let session = std::mem::size_of_val(&self.session(1));
        let wait = std::mem::size_of_val(&self.shell.wait());
        (drive, session, wait)
    }

    /// Steps the machine with `input` and then with every input that
    /// comes, until it is done. A task that begins after the shutdown was
    /// asked for stops without connecting.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold its arguments twice: +32 bytes per connection (size.rs)"
    )]
    fn drive(&mut self, input: Input) -> impl Future<Output = ()> + Send + '_ {
        async move {
            let mut next = if input == Input::Begin && self.shell.inbox.is_shut_down() {
                self.shell.step(Input::Shutdown)
            } else {
                self.shell.step(input)
            };
            loop {
                let input = match next {
                    Next::Done => return,
                    Next::Connect(attempt) => self.session(attempt).await,
                    Next::Wait => self.shell.wait().await,
                };
                next = self.shell.step(input);
            }
        }
    }

    /// Runs one session, stepping the machine with every other input while
    /// it runs; returns the input that ends it (its end, or its deadline).
    async fn session(&mut self, attempt: u32) -> Input {
        let Task { conn, shell } = self;
        // Half of the budget for flushing queued sends; the rest is left
        // to `on_disconnect` and closing.
        let drain = shell.report.common.timeout / 2;
        let mut session = pin!(conn.run_session(attempt, drain));
        let mut deadline: Option<Pin<Box<Sleep>>> = None;
        // One poll over the session, the deadline and the shell's inputs,
        // not a `select!`, whose futures would take room in every task's
        // future for the whole session.
        poll_fn(move |cx| {
            loop {
                if let Poll::Ready(outcome) = session.as_mut().poll(cx) {
                    return Poll::Ready(Input::SessionEnded(Box::new(ended(&outcome))));
                }
                if let Some(sleep) = &mut deadline
                    && sleep.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Input::DeadlinePassed {
                        after: shell.report.common.timeout,
                    });
                }
                let Poll::Ready(input) = shell.poll_input(cx) else {
                    return Poll::Pending;
                };
                if shell.step_while_running(input) && deadline.is_none() {
                    deadline = Some(Box::pin(sleep(shell.report.common.timeout)));
                }
            }
        })
        .await
    }
}

impl Shell {
    /// Steps the machine with `input` as the world is now, carries out the
    /// effects that need no session, and says what to do next.
    fn step(&mut self, input: Input) -> Next {
        let mut connect = None;
        for effect in self.machine(input) {
            match effect {
                Effect::Connect { attempt } => connect = Some(attempt),
                // The session that did not end in time is gone already.
                Effect::DropSession => tracing::warn!(
                    timeout = ?self.report.common.timeout,
                    "the session did not end in time; dropped it"
                ),
                other => self.apply(other),
            }
        }
        self.report.set(self.lifecycle.phase());
        match (connect, self.lifecycle.state()) {
            (Some(attempt), _) => Next::Connect(attempt),
            (None, State::Done) => Next::Done,
            (None, _) => Next::Wait,
        }
    }

    /// Steps the machine with an input that came while a session runs;
    /// `true` if it asked the session to stop (its deadline starts now).
    fn step_while_running(&mut self, input: Input) -> bool {
        let mut stopping = false;
        for effect in self.machine(input) {
            match effect {
                Effect::StopSession(cause) => {
                    if self.report.may_log() {
                        tracing::info!(%cause, "ending the session");
                    } else {
                        tracing::debug!(%cause, "ending the session");
                    }
                    self.control.stop_for(cause);
                    stopping = true;
                }
                Effect::Connect { .. } | Effect::DropSession => {
                    debug_assert!(false, "no connect or drop while a session runs");
                }
                other => self.apply(other),
            }
        }
        self.report.set(self.lifecycle.phase());
        stopping
    }

    /// The machine's step with `input`, in the world as it is now. A
    /// restart asked for while the running session is not known to be up
    /// is preceded by the news that it is, if it is.
    fn machine(&mut self, input: Input) -> Vec<Effect> {
        let world = self.world();
        let mut effects = Vec::new();
        if matches!(
            input,
            Input::Command(crate::command::Command::Restart) | Input::HoldElapsed
        ) && self.lifecycle.awaits_up()
            && self.control.is_up()
        {
            effects = self.lifecycle.step(Input::SessionUp, &world);
        }
        effects.extend(self.lifecycle.step(input, &world));
        effects
    }

    /// Carries out an effect that needs neither the session nor the task's
    /// flow: publishing, and arming the timers.
    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Publish(what) => {
                log(&what, &self.report);
                self.control.publish(what);
            }
            Effect::HoldRestarts { until } => self.hold = Some(Box::pin(sleep_until(until))),
            // The backoff's timer lives in `wait`, from the state.
            Effect::Sleep { .. } => {}
            Effect::StopSession(_) | Effect::DropSession | Effect::Connect { .. } => {
                debug_assert!(false, "handled by the caller: {effect:?}");
            }
        }
    }

    /// The start rule, its up generation and the clocks, now.
    fn world(&self) -> World {
        let (rule, generation) = match &self.rule {
            None => (RuleNow::Holds, 0),
            Some(watch) => evaluate(&watch.bus, &watch.rule),
        };
        World {
            rule,
            generation,
            now: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    /// Waits, with no session running, for the next input: the backoff's
    /// end (in `Backoff`), the restart hold's end, or a signal.
    async fn wait(&mut self) -> Input {
        let backoff = match self.lifecycle.state() {
            State::Backoff { at, .. } => Some(sleep_until(*at)),
            _ => None,
        };
        let mut backoff = pin!(backoff);
        poll_fn(|cx| {
            if let Some(sleep) = backoff.as_mut().as_pin_mut()
                && sleep.poll(cx).is_ready()
            {
                return Poll::Ready(Input::BackoffElapsed);
            }
            self.poll_input(cx)
        })
        .await
    }

    /// The restart hold's end, or the next signal of the inbox.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Input> {
        if let Some(hold) = &mut self.hold
            && hold.as_mut().poll(cx).is_ready()
        {
            self.hold = None;
            return Poll::Ready(Input::HoldElapsed);
        }
        self.inbox.poll_next(cx).map(|signal| match signal {
            Signal::Shutdown => Input::Shutdown,
            Signal::Remove(removal) => Input::Remove(removal),
            Signal::Command(command) => Input::Command(command),
            Signal::Rules => Input::Rules,
        })
    }
}

/// How a session ended, as the machine needs it.
fn ended(outcome: &SessionOutcome) -> Ended {
    Ended {
        closed: matches!(outcome.reason, Reason::Stopped(_)),
        failure: outcome.reason.is_failure(),
        was_up: outcome.was_up,
        uptime: outcome.uptime,
        reason: outcome.reason.to_string(),
    }
}

/// The log line of one of the task's own events, where it says something
/// the connection's lines do not.
///
/// The INFO line of a wait is one per dependent whenever a dependency goes
/// down, so it passes the process-wide cap ([`LogFlood`]) first.
fn log(what: &What, report: &PhaseReport) {
    match what {
        What::Waiting(waiting) if report.may_log() => {
            tracing::info!(waiting_on = ?waiting.on, "start rule does not hold");
        }
        What::Waiting(waiting) => {
            tracing::debug!(waiting_on = ?waiting.on, "start rule does not hold");
        }
        // At debug: the session's end was logged (or counted) by the
        // connection; one more line per restart is a flood.
        What::Backoff(backoff) => tracing::debug!(
            delay = ?backoff.delay,
            next_attempt = backoff.attempt,
            "restarting after a delay"
        ),
        What::GaveUp(gave_up) if gave_up.reason.is_none() => tracing::warn!(
            restarts = gave_up.restarts,
            window = ?gave_up.window,
            last = gave_up.last.as_deref().unwrap_or("-"),
            "restart intensity exceeded; giving up"
        ),
        _ => {}
    }
}
