//! What the lifecycle is given and what it asks for: its inputs, the world
//! at each input, and its effects.

use std::time::{Duration, SystemTime};

use linesman_connection::StopCause;
use linesman_observer::What;
use tokio::time::Instant;

use crate::command::Command;

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
    /// A reload removed the connection, or changed its settings (a new task
    /// takes over with the new ones): end like a shutdown, saying why.
    Remove(Removal),
    /// The restart hold armed by [`Effect::HoldRestarts`] is over.
    HoldElapsed,
    /// The task's own code panicked (a bug, or application code called
    /// unguarded); why the connection is failed now, in words. A thin box:
    /// with every payload 8 bytes or less, an input is 16 bytes (the
    /// duration's niche holds the variant), where a `Box<str>` made it 24,
    /// held in the task's future for its whole life (`size.rs`).
    #[expect(
        clippy::box_collection,
        reason = "a thin pointer: a String here would make every input 32 bytes (size.rs)"
    )]
    Panicked(Box<String>),
}

/// Why a reload ends a connection's task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// The new configuration does not have the connection.
    Removed,
    /// The new configuration changed its settings: a task with the new
    /// ones replaces this one.
    Replaced,
}

impl Removal {
    /// The `Stopped` reason, and what the session is told.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Removal::Removed => "removed by reload",
            Removal::Replaced => "settings changed by reload",
        }
    }

    pub(crate) fn cause(self) -> StopCause {
        match self {
            Removal::Removed => StopCause::Removed,
            Removal::Replaced => StopCause::Reconfigured,
        }
    }
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
