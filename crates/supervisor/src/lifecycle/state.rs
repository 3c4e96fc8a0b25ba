//! Where a connection is: the lifecycle's states, and what it remembers of
//! a running session.

use linesman_connection::StopCause;
use tokio::time::Instant;

use super::{Removal, RuleNow};

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
    pub(super) fn new(attempt: u32, restarting: bool, generation: u64) -> Running {
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
    /// A reload removed or replaced the connection: the task ends `Done`.
    Removed(Removal),
}

impl Intent {
    /// Whether ending for this reason is announced with `Stopping` (the
    /// connection is going away, not coming back by itself).
    pub(super) fn stops(&self) -> bool {
        matches!(self, Intent::Shutdown | Intent::Stop | Intent::Removed(_))
    }

    /// What the session is told, for its `Disconnected` reason and logs,
    /// with the start rule as it is now.
    pub(crate) fn cause(&self, rule: &RuleNow) -> StopCause {
        match self {
            Intent::Shutdown => StopCause::Shutdown,
            Intent::Stop => StopCause::Requested,
            Intent::Restart => StopCause::Restart,
            Intent::DependencyDown => StopCause::DependencyDown {
                on: match rule {
                    RuleNow::WaitingOn(on) => on.clone(),
                    RuleNow::Holds => Vec::new(),
                },
            },
            Intent::Reconnect => StopCause::DependencyBack,
            Intent::Removed(removal) => removal.cause(),
        }
    }
}

/// Where a connection's task is, as far as "can anything still run" cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connecting, up, or in backoff: it will act by itself.
    Active,
    /// Waiting for its start rule.
    Waiting,
    /// Stopped, failed, or its task ended: only a command can revive it.
    Terminal,
}
