//! One supervised connection's lifecycle as a pure state machine, in the
//! sans-IO style: [`Lifecycle::step`] takes an [`Input`] and what the world
//! looks like at that moment ([`World`]: whether the start rule holds, the
//! clocks) and returns the [`Effect`]s to carry out. It does no I/O, reads no
//! clock and spawns nothing; the connection's task (`task.rs`) only waits for
//! inputs and applies effects, so the one `match` in [`Lifecycle::step`] is
//! everything a connection can do.
//!
//! ```text
//!   New ── begin ──> (ready) ──── rule holds ────> Running ── session ends ──> tracker:
//!                      │   ^                        │   ^                       │ Restart ─> Backoff ─ elapsed ─> (ready)
//!                      │   └── rule holds ─ Waiting │   └ session up            │ GiveUp ──> Failed
//!                      └── rule does not hold ──────┘                           └ Stop ────> Stopped
//!   Running ── stop / restart / shutdown / dependency down ──> Running (ending) ── session ends ──> by intent
//!   Stopped, Failed ── start / restart ──> (ready)          any state ── shutdown ──> Done
//! ```
//!
//! `(ready)` is not a state: it is the decision taken on the way out of
//! `New`, `Backoff`, `Stopped`, `Failed` or an ended session — connect if the
//! start rule holds, otherwise wait for it.
//!
//! Attempt numbers: the first connect is attempt 1; restart number `n`
//! decided by the [`RestartTracker`] is connect attempt `n + 1`, and the
//! `Backoff` event before it names that attempt, so `Backoff.attempt` and the
//! following `Connecting.attempt` agree.

use std::time::{Duration, SystemTime};

use linesman_observer::{Backoff, GaveUp, Started, Stopped, Stopping, Waiting, What};
use tokio::time::Instant;

use crate::command::Command;
use crate::rule::OnDependencyDown;
use crate::rules::Phase;
use crate::tracker::{Decision, RestartTracker, SessionEnd};

/// Where a connection is. Every transition is made in [`Lifecycle::step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// Made, not begun.
    New,
    /// The start rule does not hold; `on` was published.
    Waiting {
        /// The attempt the next connect will be.
        attempt: u32,
        /// What the rule waits on, as last published.
        on: Vec<String>,
    },
    /// A session runs: connecting, handshaking or up.
    Running(Running),
    /// Waiting for the restart delay to end at `at`.
    Backoff {
        /// The attempt that will be made.
        attempt: u32,
        /// When.
        at: Instant,
    },
    /// Stopped (asked, or the policy does not restart); only a command revives it.
    Stopped,
    /// Gave up; only a command revives it.
    Failed,
    /// Shut down: the task ends.
    Done,
}

/// A running session, as the lifecycle sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Running {
    /// The connect attempt this session is.
    pub(crate) attempt: u32,
    /// Started by a `restart` command and not up yet: a further `restart`
    /// is the same one.
    pub(crate) restarting: bool,
    /// Under `on_dependency_down: restart` the start rule stopped holding:
    /// reconnect once it holds again.
    pub(crate) reconnect_when_back: bool,
    /// The up generation of the start rule's connections ([`World::generation`])
    /// as last seen: when it changes while the rule holds, an upstream
    /// session went down and came up again before the task looked.
    pub(crate) generation: u64,
    /// The session has been asked to end, and why.
    pub(crate) ending: Option<Intent>,
}

impl Running {
    fn new(attempt: u32, restarting: bool, generation: u64) -> Running {
        Running {
            attempt,
            restarting,
            reconnect_when_back: false,
            generation,
            ending: None,
        }
    }
}

/// Why the supervisor is ending a session that runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intent {
    /// The supervisor shuts down: the connection ends `Done`.
    Shutdown,
    /// `stop`: the connection ends `Stopped`.
    Stop,
    /// `restart` (or `start` after a `stop` in flight): connect again, afresh.
    Restart,
    /// The start rule stopped holding under `on_dependency_down: stop`: wait
    /// for it again.
    DependencyDown,
    /// Under `on_dependency_down: restart`, the dependency is back: reconnect.
    Reconnect,
}

impl Intent {
    /// Whether ending for this reason is announced with `Stopping` (the
    /// connection is going away, not coming back by itself).
    fn stops(&self) -> bool {
        matches!(self, Intent::Shutdown | Intent::Stop)
    }

    /// What the session is told, for its `Disconnected` reason and logs,
    /// with the start rule as it is now.
    pub(crate) fn cause(&self, rule: &RuleNow) -> StopCause {
        match self {
            Intent::Shutdown => StopCause::Shutdown,
            Intent::Stop => StopCause::Request,
            Intent::Restart => StopCause::Restart,
            Intent::DependencyDown => StopCause::DependencyDown {
                on: match rule {
                    RuleNow::WaitingOn(on) => on.clone(),
                    RuleNow::Holds => Vec::new(),
                },
            },
            Intent::Reconnect => StopCause::DependencyBack,
        }
    }
}

/// Why a session is asked to stop, as the session and its logs say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StopCause {
    /// The supervisor is shutting down.
    Shutdown,
    /// `stop` was asked for.
    Request,
    /// `restart` was asked for.
    Restart,
    /// A dependency went down (`on_dependency_down: stop`).
    DependencyDown {
        /// What the start rule now waits on.
        on: Vec<String>,
    },
    /// A dependency came back (`on_dependency_down: restart`).
    DependencyBack,
}

/// Whether the start rule holds now, evaluated by the task against the bus
/// registry for every input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleNow {
    /// It holds (or there is no rule).
    Holds,
    /// It does not; these are the connections it waits on.
    WaitingOn(Vec<String>),
}

/// The world at the moment of an input: the start rule, the up generation
/// of its connections and the clocks.
#[derive(Debug, Clone)]
pub(crate) struct World {
    /// The start rule, now.
    pub(crate) rule: RuleNow,
    /// The sum of the up generations of every connection the start rule
    /// names (0 without a rule): it changes whenever one of their sessions
    /// came up, so a bounce too fast to be seen as a state is seen as a
    /// new generation.
    pub(crate) generation: u64,
    /// The monotonic clock (restart bookkeeping, timers).
    pub(crate) now: Instant,
    /// The wall clock (the `Backoff` event's `until`).
    pub(crate) wall: SystemTime,
}

/// How a session ended, as the lifecycle needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ended {
    /// The session was ended from elsewhere (its handle closed): not the
    /// restart policy's business.
    pub(crate) closed: bool,
    /// It ended because something went wrong (see `Reason::is_failure`).
    pub(crate) failure: bool,
    /// It came up (`Connected` was published).
    pub(crate) was_up: bool,
    /// How long it was up.
    pub(crate) uptime: Duration,
    /// Why, in words (the session's reason).
    pub(crate) reason: String,
}

/// Something that happened to the connection, or that it is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// The task starts.
    Begin,
    /// The start rule may have changed (see [`World::rule`]).
    Rules,
    /// The running session came up.
    SessionUp,
    /// The running session ended. Boxed: inputs live in the task's future
    /// while it waits, and this is the largest.
    SessionEnded(Box<Ended>),
    /// A session asked to end did not within `after`; it is dropped.
    DeadlinePassed {
        /// The shutdown timeout that ran out.
        after: Duration,
    },
    /// The backoff delay is over.
    BackoffElapsed,
    /// A command from the handle.
    Command(Command),
    /// The supervisor shuts down.
    Shutdown,
    /// The restart hold armed by [`Effect::HoldRestarts`] is over.
    HoldElapsed,
    /// The task's own code panicked (a bug, or application code called
    /// unguarded); why the connection is failed now, in words.
    Panicked(Box<str>),
}

/// What the task must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Publish this event of the connection.
    Publish(What),
    /// Run a session: connect attempt `attempt`.
    Connect {
        /// Its attempt number.
        attempt: u32,
    },
    /// Ask the running session to end gracefully, and give it the shutdown
    /// timeout to do so (then [`Input::DeadlinePassed`]).
    StopSession(StopCause),
    /// Drop the running session now (it did not end in time).
    DropSession,
    /// Wake the task with [`Input::BackoffElapsed`] at this instant.
    Sleep {
        /// When.
        until: Instant,
    },
    /// A restart is carried out: wake the task with [`Input::HoldElapsed`]
    /// at this instant (until then, further restarts are held).
    HoldRestarts {
        /// When the hold ends.
        until: Instant,
    },
}

/// After a restart asked for by command is carried out, restarts asked for
/// within this time are carried out together, once, when it is over: a
/// burst of any number of restarts makes at most two reconnects per hold.
pub(crate) const RESTART_HOLD: Duration = Duration::from_secs(1);

/// The effects of one step: a handful at most, so inline.
pub(crate) type Effects = Vec<Effect>;

/// One connection's lifecycle: its state, its restart bookkeeping and what
/// it does when its start rule stops holding.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    state: State,
    tracker: RestartTracker,
    on_dependency_down: OnDependencyDown,
    /// Restarts asked for are held (one was carried out less than
    /// [`RESTART_HOLD`] ago; the task's timer says when that is over).
    held: bool,
    /// A restart was asked for during the hold: carried out when it ends.
    deferred_restart: bool,
}

impl Lifecycle {
    /// A lifecycle in [`State::New`].
    pub(crate) fn new(tracker: RestartTracker, on_dependency_down: OnDependencyDown) -> Lifecycle {
        Lifecycle {
            state: State::New,
            tracker,
            on_dependency_down,
            held: false,
            deferred_restart: false,
        }
    }

    /// Where the connection is.
    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// Whether a restart carried out is waiting for its session to come up
    /// (until then, a further restart is the same one): the task tells the
    /// machine [`Input::SessionUp`] before such a restart if it is up.
    pub(crate) fn awaits_up(&self) -> bool {
        matches!(
            self.state,
            State::Running(Running {
                restarting: true,
                ..
            })
        )
    }

    /// Where the connection is, for "can anything still run".
    pub(crate) fn phase(&self) -> Phase {
        match self.state {
            State::New | State::Running(_) | State::Backoff { .. } => Phase::Active,
            State::Waiting { .. } => Phase::Waiting,
            State::Stopped | State::Failed | State::Done => Phase::Terminal,
        }
    }

    /// Applies `input`, seen in `world`: the one place where the
    /// connection's state changes. Returns what to do, in order.
    pub(crate) fn step(&mut self, input: Input, world: &World) -> Effects {
        let mut out = Effects::new();
        let Some(input) = self.admit(input, world.now, &mut out) else {
            return out;
        };
        let state = std::mem::replace(&mut self.state, State::Done);
        self.state = match (state, input) {
            // A bug in the task: the connection is failed, with why, and
            // can be started again.
            (_, Input::Panicked(reason)) => {
                out.push(publish(GaveUp {
                    restarts: 0,
                    window: Duration::ZERO,
                    reason: Some(reason.into()),
                }));
                State::Failed
            }

            (State::New, Input::Begin) => {
                out.push(publish(Started {}));
                self.ready(1, None, false, world, &mut out)
            }
            (State::New, Input::Shutdown) => {
                out.push(publish(Started {}));
                shut_down(&mut out)
            }
            (State::New, _) => State::New,

            (State::Waiting { attempt, on }, input) => match input {
                Input::Rules => self.ready(attempt, Some(on), false, world, &mut out),
                Input::Command(Command::Restart) => {
                    self.tracker.reset();
                    self.ready(1, Some(on), true, world, &mut out)
                }
                Input::Command(Command::Stop) => stop_requested(&mut out),
                Input::Shutdown => shut_down(&mut out),
                _ => State::Waiting { attempt, on },
            },

            (State::Running(running), input) => self.running(running, input, world, &mut out),

            (State::Backoff { attempt, at }, input) => match input {
                Input::BackoffElapsed => self.ready(attempt, None, false, world, &mut out),
                Input::Command(Command::Restart) => {
                    self.tracker.reset();
                    self.ready(1, None, true, world, &mut out)
                }
                Input::Command(Command::Stop) => stop_requested(&mut out),
                Input::Shutdown => shut_down(&mut out),
                _ => State::Backoff { attempt, at },
            },

            (terminal @ (State::Stopped | State::Failed), input) => match input {
                Input::Command(Command::Start | Command::Restart) => {
                    self.tracker.reset();
                    out.push(publish(Started {}));
                    self.ready(1, None, false, world, &mut out)
                }
                // A failed connection stopped by request says so.
                Input::Command(Command::Stop) if terminal == State::Failed => {
                    stop_requested(&mut out)
                }
                // It stays stopped or failed through the shutdown, so the
                // final registry still says why.
                Input::Shutdown => State::Done,
                _ => terminal,
            },

            (State::Done, _) => State::Done,
        };
        out
    }

    /// What becomes of `input` before the state sees it: restarts asked for
    /// by command are coalesced and held (a restart already under way, or
    /// not up yet, is the same restart; within [`RESTART_HOLD`] of the last
    /// one carried out, restarts wait for the hold to end, all as one); a
    /// stop or the shutdown drops a held restart. `None`: nothing more to do.
    fn admit(&mut self, input: Input, now: Instant, out: &mut Effects) -> Option<Input> {
        let input = match input {
            Input::HoldElapsed => {
                self.held = false;
                if !std::mem::take(&mut self.deferred_restart) {
                    return None;
                }
                Input::Command(Command::Restart)
            }
            Input::Command(Command::Stop) | Input::Shutdown | Input::Panicked(_) => {
                self.deferred_restart = false;
                return Some(input);
            }
            other => other,
        };
        if input != Input::Command(Command::Restart) {
            return Some(input);
        }
        // Under way, not up yet, or never to be (a shutdown in progress).
        let moot = matches!(
            &self.state,
            State::Running(Running {
                restarting: true,
                ..
            }) | State::Running(Running {
                ending: Some(Intent::Restart | Intent::Shutdown),
                ..
            }) | State::Done
        );
        if moot {
            return None;
        }
        if self.held {
            self.deferred_restart = true;
            return None;
        }
        self.held = true;
        out.push(Effect::HoldRestarts {
            until: now + RESTART_HOLD,
        });
        Some(input)
    }

    /// A session runs: commands, rule changes and shutdown may ask it to
    /// end; its end is decided by why it ended.
    fn running(
        &mut self,
        mut running: Running,
        input: Input,
        world: &World,
        out: &mut Effects,
    ) -> State {
        match input {
            Input::SessionUp => {
                running.restarting = false;
                State::Running(running)
            }
            Input::SessionEnded(ended) => match running.ending {
                Some(intent) => self.after_ending(intent, None, world, out),
                None => self.after_session(&ended, world, out),
            },
            Input::DeadlinePassed { after } => match running.ending {
                Some(intent) => {
                    out.push(Effect::DropSession);
                    self.after_ending(intent, Some(after), world, out)
                }
                None => State::Running(running),
            },
            Input::Shutdown => end(running, Intent::Shutdown, world, out),
            Input::Command(Command::Stop) => end(running, Intent::Stop, world, out),
            Input::Command(Command::Restart) => end(running, Intent::Restart, world, out),
            // Already running; after a `stop` in flight it means "come back".
            Input::Command(Command::Start) => match running.ending {
                Some(Intent::Stop) => end(running, Intent::Restart, world, out),
                _ => State::Running(running),
            },
            Input::Rules if running.ending.is_none() => {
                // An upstream session came up since the last look: under
                // `stop` and `restart`, a bounce missed as a state is still
                // a bounce.
                let bounced = std::mem::replace(&mut running.generation, world.generation)
                    != world.generation
                    && self.on_dependency_down != OnDependencyDown::Keep;
                let wanted = match (&world.rule, self.on_dependency_down) {
                    (RuleNow::Holds, _) if running.reconnect_when_back || bounced => {
                        Some(Intent::Reconnect)
                    }
                    (RuleNow::Holds, _) | (RuleNow::WaitingOn(_), OnDependencyDown::Keep) => None,
                    (RuleNow::WaitingOn(_), OnDependencyDown::Stop) => Some(Intent::DependencyDown),
                    (RuleNow::WaitingOn(_), OnDependencyDown::Restart) => {
                        running.reconnect_when_back = true;
                        None
                    }
                };
                match wanted {
                    Some(intent) => end(running, intent, world, out),
                    None => State::Running(running),
                }
            }
            // Begin, BackoffElapsed, rule changes while ending; Panicked is
            // handled for every state in `step`, HoldElapsed in `admit`.
            Input::Rules
            | Input::Begin
            | Input::BackoffElapsed
            | Input::HoldElapsed
            | Input::Panicked(_) => State::Running(running),
        }
    }

    /// The session the supervisor ended has ended (or was dropped after
    /// `forced`): carry out why it was ended.
    fn after_ending(
        &mut self,
        intent: Intent,
        forced: Option<Duration>,
        world: &World,
        out: &mut Effects,
    ) -> State {
        match intent {
            Intent::Shutdown => {
                let reason = match forced {
                    None => "shutdown".to_owned(),
                    Some(after) => format!("shutdown (forced after {after:?})"),
                };
                out.push(publish(Stopped { reason }));
                State::Done
            }
            Intent::Stop => {
                out.push(publish(Stopped {
                    reason: "stopped by request".into(),
                }));
                State::Stopped
            }
            Intent::Restart => {
                self.tracker.reset();
                self.ready(1, None, true, world, out)
            }
            Intent::DependencyDown | Intent::Reconnect => self.ready(1, None, false, world, out),
        }
    }

    /// A session ended by itself: the restart policy decides.
    fn after_session(&mut self, ended: &Ended, world: &World, out: &mut Effects) -> State {
        if ended.closed {
            out.push(publish(Stopped {
                reason: ended.reason.clone(),
            }));
            return State::Stopped;
        }
        let now = world.now;
        if ended.was_up {
            self.tracker
                .session_started(now.checked_sub(ended.uptime).unwrap_or(now));
        }
        let end = if ended.failure {
            SessionEnd::Failure
        } else {
            SessionEnd::Clean
        };
        match self.tracker.session_ended(end, now) {
            Decision::Restart { attempt, delay, at } => {
                let next = attempt.saturating_add(1);
                let until = world.wall.checked_add(delay).unwrap_or(world.wall);
                out.push(publish(Backoff {
                    attempt: next,
                    delay,
                    until,
                }));
                out.push(Effect::Sleep { until: at });
                State::Backoff { attempt: next, at }
            }
            Decision::GiveUp { restarts, window } => {
                out.push(publish(GaveUp {
                    restarts,
                    window,
                    reason: None,
                }));
                State::Failed
            }
            Decision::Stop => {
                out.push(publish(Stopped {
                    reason: format!(
                        "restart policy {} does not restart after: {}",
                        self.tracker.policy().mode(),
                        ended.reason
                    ),
                }));
                State::Stopped
            }
        }
    }

    /// Connect if the start rule holds, otherwise wait for it (publishing
    /// what it waits on, unless that is what `published` already said).
    fn ready(
        &mut self,
        attempt: u32,
        published: Option<Vec<String>>,
        restarting: bool,
        world: &World,
        out: &mut Effects,
    ) -> State {
        match &world.rule {
            RuleNow::Holds => {
                out.push(Effect::Connect { attempt });
                State::Running(Running::new(attempt, restarting, world.generation))
            }
            RuleNow::WaitingOn(on) => {
                if published.as_ref() != Some(on) {
                    out.push(publish(Waiting { on: on.clone() }));
                }
                State::Waiting {
                    attempt,
                    on: on.clone(),
                }
            }
        }
    }
}

/// Asks the running session to end for `wanted`, or changes why it is
/// ending: a shutdown overrides everything, a stop overrides a restart, and
/// a restart overrides a stop (the last word of the operator wins) — but a
/// restart already under way, or one not yet up, is the same restart.
fn end(mut running: Running, wanted: Intent, world: &World, out: &mut Effects) -> State {
    let current = running.ending.take();
    let was_ending = current.is_some();
    let was_stopping = current.as_ref().is_some_and(Intent::stops);
    let next = match (current, wanted) {
        (None, Intent::Restart) if running.restarting => None,
        (None, wanted) => Some(wanted),
        (Some(Intent::Shutdown), _) => Some(Intent::Shutdown),
        (Some(_), wanted @ (Intent::Shutdown | Intent::Stop | Intent::Restart)) => Some(wanted),
        (current, _) => current,
    };
    if next.as_ref().is_some_and(Intent::stops) && !was_stopping {
        out.push(publish(Stopping {}));
    }
    if !was_ending && let Some(intent) = &next {
        out.push(Effect::StopSession(intent.cause(&world.rule)));
    }
    running.ending = next;
    State::Running(running)
}

fn stop_requested(out: &mut Effects) -> State {
    out.push(publish(Stopped {
        reason: "stopped by request".into(),
    }));
    State::Stopped
}

fn shut_down(out: &mut Effects) -> State {
    out.push(publish(Stopping {}));
    out.push(publish(Stopped {
        reason: "shutdown".into(),
    }));
    State::Done
}

fn publish(what: impl Into<What>) -> Effect {
    Effect::Publish(what.into())
}

#[cfg(test)]
#[path = "lifecycle/tests.rs"]
mod tests;
