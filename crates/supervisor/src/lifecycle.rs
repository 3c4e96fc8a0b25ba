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

use std::time::Duration;

use linesman_observer::{GaveUp, Started};
use tokio::time::Instant;

use crate::command::Command;
use crate::rule::OnDependencyDown;
use crate::tracker::RestartTracker;

mod ending;
mod io;
mod state;

use ending::{end, publish, removed, shut_down, stop_requested};
pub(crate) use io::{Effect, Effects, Ended, Input, RESTART_HOLD, Removal, RuleNow, World};
pub(crate) use state::{Intent, Phase, Running, State};

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
                    reason: Some(*reason),
                    last: None,
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
            (State::New, Input::Remove(removal)) => removed(removal, false, &mut out),
            (State::New, _) => State::New,

            (State::Waiting { attempt, on }, input) => match input {
                Input::Rules => self.ready(attempt, Some(on), false, world, &mut out),
                Input::Command(Command::Restart) => {
                    self.tracker.reset();
                    self.ready(1, Some(on), true, world, &mut out)
                }
                Input::Command(Command::Stop) => stop_requested(&mut out),
                Input::Shutdown => shut_down(&mut out),
                Input::Remove(removal) => removed(removal, true, &mut out),
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
                Input::Remove(removal) => removed(removal, true, &mut out),
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
                Input::Remove(removal) => removed(removal, false, &mut out),
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
            Input::Command(Command::Stop)
            | Input::Shutdown
            | Input::Remove(_)
            | Input::Panicked(_) => {
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
                ending: Some(Intent::Restart | Intent::Shutdown | Intent::Removed(_)),
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
            Input::Remove(removal) => end(running, Intent::Removed(removal), world, out),
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
}

#[cfg(test)]
#[path = "lifecycle/tests.rs"]
mod tests;
