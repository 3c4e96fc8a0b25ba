//! How the lifecycle ends a session and what it does once one has ended:
//! carry out why it was ended, or let the restart policy decide.

use std::time::Duration;

use linesman_observer::{Backoff, GaveUp, Stopped, Stopping, Waiting, What};

use super::{Effect, Effects, Ended, Intent, Lifecycle, Removal, RuleNow, Running, State, World};
use crate::tracker::{Decision, SessionEnd};

impl Lifecycle {
    /// The session the supervisor ended has ended (or was dropped after
    /// `forced`): carry out why it was ended.
    pub(super) fn after_ending(
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
            Intent::Removed(removal) => {
                let reason = match forced {
                    None => removal.reason().to_owned(),
                    Some(after) => format!("{} (forced after {after:?})", removal.reason()),
                };
                out.push(publish(Stopped { reason }));
                State::Done
            }
        }
    }

    /// A session ended by itself: the restart policy decides.
    pub(super) fn after_session(
        &mut self,
        ended: &Ended,
        world: &World,
        out: &mut Effects,
    ) -> State {
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
                    last: Some(ended.reason.clone()),
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
    pub(super) fn ready(
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
pub(super) fn end(mut running: Running, wanted: Intent, world: &World, out: &mut Effects) -> State {
    let current = running.ending.take();
    let was_ending = current.is_some();
    let was_stopping = current.as_ref().is_some_and(Intent::stops);
    let next = match (current, wanted) {
        (None, Intent::Restart) if running.restarting => None,
        (None, wanted) => Some(wanted),
        (Some(Intent::Shutdown), _) => Some(Intent::Shutdown),
        // Removed is as final as a shutdown; it keeps saying why.
        (Some(Intent::Removed(removal)), _) => Some(Intent::Removed(removal)),
        (
            Some(_),
            wanted @ (Intent::Shutdown | Intent::Stop | Intent::Restart | Intent::Removed(_)),
        ) => Some(wanted),
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

pub(super) fn stop_requested(out: &mut Effects) -> State {
    out.push(publish(Stopped {
        reason: "stopped by request".into(),
    }));
    State::Stopped
}

pub(super) fn shut_down(out: &mut Effects) -> State {
    out.push(publish(Stopping {}));
    out.push(publish(Stopped {
        reason: "shutdown".into(),
    }));
    State::Done
}

/// Ends a connection that runs no session, for a reload.
pub(super) fn removed(removal: Removal, stopping: bool, out: &mut Effects) -> State {
    if stopping {
        out.push(publish(Stopping {}));
    }
    out.push(publish(Stopped {
        reason: removal.reason().into(),
    }));
    State::Done
}

pub(super) fn publish(what: impl Into<What>) -> Effect {
    Effect::Publish(what.into())
}
