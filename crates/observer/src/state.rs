//! A connection's state as derived from its events ([`ConnState`]), and the
//! registry record the bus keeps for every connection ([`ConnStatus`]).
//!
//! Every transition lives in one `match`, [`ConnState::after`]; the registry
//! applies it under the bus's publish lock, before the event is queued for
//! any listener, so a state read from the registry is never older than an
//! event a listener has already received.

use crate::event::{Event, What};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where a connection is in its life.
///
/// ```text
/// Starting ─> Waiting ─> Connecting ─> Up ─> Down ─> Backoff ─> Connecting …
///                                              └──> Failed | Stopped
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// Started; neither waiting nor connecting yet (after [`Started`](crate::Started)).
    Starting,
    /// Its start rule does not hold; it waits on these connections.
    Waiting {
        /// The connections it waits on.
        on: Vec<String>,
    },
    /// A connection attempt is under way.
    Connecting {
        /// The attempt number.
        attempt: u32,
    },
    /// Connected and handshake done: the connection can carry data.
    Up {
        /// The peer's address.
        peer: String,
    },
    /// The attempt failed or the session ended; the restart policy decides
    /// next (a `Backoff`, `GaveUp` or `Stopped` event follows at once).
    Down {
        /// Why (the connect error or the disconnect reason).
        reason: String,
    },
    /// Failed; the next attempt is made at `until`.
    Backoff {
        /// The attempt that will be made.
        attempt: u32,
        /// When it will be made.
        until: SystemTime,
    },
    /// Draining before it stops.
    Stopping,
    /// Stopped: asked, shutdown, or a dependency lost. Terminal until started again.
    Stopped {
        /// Why it stopped.
        reason: String,
    },
    /// Gave up: the restart intensity was exceeded, or `reason` failed it
    /// (see [`GaveUp`](crate::GaveUp)). Terminal until started again.
    Failed {
        /// Restarts counted within the window.
        restarts: u32,
        /// The window.
        window: Duration,
        /// Why, when it is not the restart intensity.
        reason: Option<String>,
    },
}

impl ConnState {
    /// The state a connection is in after `what` happened to it, or `None`
    /// for events that concern no connection (`Lagged`, `ListenerRemoved`).
    /// This is the one place where transitions are defined.
    pub fn after(what: &What) -> Option<ConnState> {
        Some(match what {
            What::Started(_) => ConnState::Starting,
            What::Waiting(w) => ConnState::Waiting { on: w.on.clone() },
            What::Connecting(c) => ConnState::Connecting { attempt: c.attempt },
            What::Connected(c) => ConnState::Up {
                peer: c.peer.clone(),
            },
            What::ConnectFailed(c) => ConnState::Down {
                reason: c.error.clone(),
            },
            What::Disconnected(d) => ConnState::Down {
                reason: d.reason.clone(),
            },
            What::Backoff(b) => ConnState::Backoff {
                attempt: b.attempt,
                until: b.until,
            },
            What::GaveUp(g) => ConnState::Failed {
                restarts: g.restarts,
                window: g.window,
                reason: g.reason.clone(),
            },
            What::Stopping(_) => ConnState::Stopping,
            What::Stopped(s) => ConnState::Stopped {
                reason: s.reason.clone(),
            },
            What::Lagged(_) | What::ListenerRemoved(_) | What::Reloaded(_) => return None,
        })
    }

    /// The state a connection in state `before` is in after `what`: as
    /// [`after`](Self::after), except that a session ending while the
    /// connection is `Stopping` (its `Disconnected`, or a `ConnectFailed`
    /// of an attempt the stop cut short) leaves it `Stopping`: the end is
    /// part of the stop, not a failure it will retry after (`down` would
    /// read as "backoff" in the control API).
    ///
    /// ```
    /// use linesman_observer::{ConnState, Disconnected, What};
    ///
    /// let ended = What::from(Disconnected { reason: "stopped".into() });
    /// let stopping = ConnState::after_from(Some(&ConnState::Stopping), &ended);
    /// assert_eq!(stopping, Some(ConnState::Stopping));
    /// let up = ConnState::Up { peer: "127.0.0.1:7001".into() };
    /// let down = ConnState::after_from(Some(&up), &ended);
    /// assert_eq!(down, Some(ConnState::Down { reason: "stopped".into() }));
    /// ```
    pub fn after_from(before: Option<&ConnState>, what: &What) -> Option<ConnState> {
        match (before, what) {
            (Some(ConnState::Stopping), What::Disconnected(_) | What::ConnectFailed(_)) => {
                Some(ConnState::Stopping)
            }
            _ => ConnState::after(what),
        }
    }

    /// The state's name in lowercase: `starting`, `waiting`, `connecting`,
    /// `up`, `down`, `backoff`, `stopping`, `stopped` or `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            ConnState::Starting => "starting",
            ConnState::Waiting { .. } => "waiting",
            ConnState::Connecting { .. } => "connecting",
            ConnState::Up { .. } => "up",
            ConnState::Down { .. } => "down",
            ConnState::Backoff { .. } => "backoff",
            ConnState::Stopping => "stopping",
            ConnState::Stopped { .. } => "stopped",
            ConnState::Failed { .. } => "failed",
        }
    }

    /// Whether the connection is up.
    pub fn is_up(&self) -> bool {
        matches!(self, ConnState::Up { .. })
    }
}

/// What the registry knows of one connection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConnStatus {
    /// Its current state.
    pub state: ConnState,
    /// When it entered a state of this name (a new attempt while
    /// `connecting` does not reset it).
    pub since: SystemTime,
    /// The current or next attempt number (0 before the first).
    pub attempt: u32,
    /// Restarts since it was last started: restarts scheduled (`Backoff`
    /// events) after a session that had come up and ended
    /// (`Disconnected`). A connect attempt that failed before the session
    /// came up is not a restart: it is counted in
    /// [`connect_failures`](Self::connect_failures).
    pub restarts: u32,
    /// Restarts as [`restarts`](Self::restarts) counts them, over the
    /// connection's whole life: never reset (a counter for metrics).
    pub restarts_total: u64,
    /// Connect attempts that failed (`ConnectFailed` events: refused, timed
    /// out, handshake failed) since it was last started.
    pub connect_failures: u32,
    /// The latest connect error or disconnect reason, kept after it recovers.
    pub last_error: Option<String>,
    /// Its up generation: how many of its sessions came up (`Connected`
    /// events) since it first published, never reset. A reader that saw the
    /// connection up and sees it up again with another generation knows it
    /// went down and up in between, however fast.
    pub ups: u64,
    /// The connection's latest event; a late or lagging listener is sent this
    /// event again (with [`Event::replay`] set) to learn the current state.
    /// Its name, kind and tags are the connection's ([`name`](Self::name),
    /// [`kind`](Self::kind), [`tags`](Self::tags)): a record keeps them
    /// once, in this event (with 10,000 connections, 48 bytes a record).
    pub last_event: Arc<Event>,
}

impl ConnStatus {
    /// The record of a connection whose first event is `event`.
    pub(crate) fn new(event: Arc<Event>, state: ConnState) -> ConnStatus {
        let mut status = ConnStatus {
            state: state.clone(),
            since: event.at,
            attempt: 0,
            restarts: 0,
            restarts_total: 0,
            connect_failures: 0,
            last_error: None,
            ups: 0,
            last_event: event.clone(),
        };
        status.apply(event, state);
        status
    }

    /// Applies the connection's next event, whose state is `state`.
    pub(crate) fn apply(&mut self, event: Arc<Event>, state: ConnState) {
        if state.name() != self.state.name() {
            self.since = event.at;
        }
        match &event.what {
            What::Started(_) => {
                self.attempt = 0;
                self.restarts = 0;
                self.connect_failures = 0;
            }
            What::Connecting(c) => self.attempt = c.attempt,
            What::Connected(_) => self.ups = self.ups.wrapping_add(1),
            What::ConnectFailed(c) => {
                self.attempt = c.attempt;
                self.connect_failures = self.connect_failures.saturating_add(1);
                self.last_error = Some(c.error.clone());
            }
            What::Disconnected(d) => self.last_error = Some(d.reason.clone()),
            What::GaveUp(gave_up) => {
                if let Some(reason) = &gave_up.reason {
                    self.last_error = Some(reason.clone());
                }
            }
            What::Backoff(b) => {
                self.attempt = b.attempt;
                // The task decides the backoff right after the session's
                // end: a `Disconnected` just before it means the session
                // had come up.
                if matches!(self.last_event.what, What::Disconnected(_)) {
                    self.restarts = self.restarts.saturating_add(1);
                    self.restarts_total = self.restarts_total.saturating_add(1);
                }
            }
            _ => {}
        }
        self.state = state;
        self.last_event = event;
    }

    /// The `seq` of the connection's latest event.
    pub fn last_seq(&self) -> u64 {
        self.last_event.seq
    }

    /// The connection's name.
    pub fn name(&self) -> &Arc<str> {
        &self.last_event.conn
    }

    /// Its kind, as of its latest event.
    pub fn kind(&self) -> Option<&Arc<str>> {
        self.last_event.kind.as_ref()
    }

    /// Its tags, as of its latest event.
    pub fn tags(&self) -> &Arc<[Arc<str>]> {
        &self.last_event.tags
    }
}
