//! [`EventLine`]: one line of `GET /v1/events`, the fields every event has
//! and [`What`] happened, one variant per event type holding exactly that
//! type's fields.
//!
//! In the JSON the line is one flat object, `type` naming the variant and
//! the variant's fields beside the common ones (a variant's fields are
//! absent from the lines of other types):
//!
//! ```text
//! {"seq":7,"conn_seq":7,"at_ms":…,"conn":"quotes","kind":"feed","tags":["eu"],
//!  "type":"connected","replay":false,"state":"up",
//!  "message":"connected to 127.0.0.1:7001","peer":"127.0.0.1:7001"}
//! ```
//!
//! The (de)serialisation, which keeps that text exactly as it was before
//! the types were closed, is in `wire.rs`.

use serde_json::{Map, Value};

use crate::api::State;

/// One line of `GET /v1/events`: an event of the bus.
///
/// The stream starts with the current state of every connection that has one
/// (`replay: true`, in `seq` order; the event is the connection's latest, with
/// its original `seq`), then live events. A `lagged` line says the server
/// fell behind and missed `missed` events; a fresh replay follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    /// Bus-wide sequence number.
    pub seq: u64,
    /// Per-connection sequence number (0 for events of the bus itself).
    pub conn_seq: u64,
    /// When it was published, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The connection's name (empty for events of the bus itself).
    pub conn: String,
    /// The connection's kind.
    pub kind: Option<String>,
    /// The connection's tags (`[]` when the JSON has none).
    pub tags: Vec<String>,
    /// `true` for a restatement of a connection's current state.
    pub replay: bool,
    /// The connection's state after this event (`None`, and absent from the
    /// JSON, for events of the bus itself).
    pub state: Option<State>,
    /// The event in words, e.g. `connect failed (attempt 2): connection refused`.
    pub message: String,
    /// What happened: the JSON's `type` and the fields of that type.
    pub what: What,
}

/// What happened, as the JSON's `type` names it, with the fields of that
/// type (their JSON names).
///
/// The server sends the thirteen known types. A client reading the lines of
/// a newer daemon gets [`What::Unknown`] for a type it does not know, with
/// the line's other fields kept, so it can show the `message` and write the
/// line out again rather than fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// `started`: the connection was started.
    Started,
    /// `waiting`: its start rule does not hold.
    Waiting {
        /// The connections it waits on.
        waiting_on: Vec<String>,
    },
    /// `connecting`: an attempt began.
    Connecting {
        /// The attempt, 1 for the first since the last success.
        attempt: u32,
    },
    /// `connected`: the connection is up.
    Connected {
        /// The peer's address.
        peer: String,
    },
    /// `connect_failed`: an attempt failed.
    ConnectFailed {
        /// The attempt that failed.
        attempt: u32,
        /// The error.
        reason: String,
    },
    /// `disconnected`: a session that was up ended.
    Disconnected {
        /// Why it ended.
        reason: String,
    },
    /// `backoff`: the next attempt waits for a delay.
    Backoff {
        /// The attempt made when the delay ends.
        attempt: u32,
        /// The delay, in milliseconds.
        delay_ms: u64,
        /// When the next attempt is made, in milliseconds since the Unix
        /// epoch.
        until_ms: u64,
    },
    /// `gave_up`: the connection is failed until it is started again.
    GaveUp(GaveUpCause),
    /// `stopping`: it drains before it stops.
    Stopping,
    /// `stopped`: it stopped.
    Stopped {
        /// Why it stopped.
        reason: String,
    },
    /// `lagged`: the server fell behind the bus; a replay follows.
    Lagged {
        /// How many events were missed.
        missed: u64,
    },
    /// `gap`: the first line of a stream resumed with `?since=SEQ` when
    /// events after SEQ are no longer kept: events `from` to `to` (both
    /// included) may be missing; the current state of every connection
    /// (replay lines) follows, then live events.
    Gap {
        /// The first `seq` that may be missing.
        from: u64,
        /// The last `seq` that may be missing.
        to: u64,
    },
    /// `listener_removed`: a listener of the daemon panicked too often.
    ListenerRemoved {
        /// The listener's name.
        listener: String,
        /// How many times it panicked (`count` in the JSON).
        count: u64,
    },
    /// `reloaded`: the daemon reloaded its configuration (a line with an
    /// empty `conn`).
    Reloaded {
        /// The connections added.
        added: Vec<String>,
        /// The connections removed.
        removed: Vec<String>,
        /// The connections restarted with new settings.
        changed: Vec<String>,
    },
    /// A type this client does not know (from a newer daemon).
    Unknown {
        /// The JSON's `type`.
        type_name: String,
        /// The line's fields other than the common ones, as they came.
        fields: Map<String, Value>,
    },
}

/// Why a connection was given up on (a `gave_up` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GaveUpCause {
    /// The restart intensity was exceeded.
    Intensity {
        /// Restarts counted within the window.
        count: u64,
        /// The window, in milliseconds.
        window_ms: u64,
    },
    /// Something else failed it (the supervisor's task for it panicked).
    Failed {
        /// Why.
        reason: String,
    },
}

impl What {
    /// The JSON's `type`: `started`, `waiting`, `connecting`, `connected`,
    /// `connect_failed`, `disconnected`, `backoff`, `gave_up`, `stopping`,
    /// `stopped`, `lagged`, `gap`, `listener_removed`, `reloaded`, or an
    /// unknown type's name.
    pub fn type_name(&self) -> &str {
        match self {
            What::Started => "started",
            What::Waiting { .. } => "waiting",
            What::Connecting { .. } => "connecting",
            What::Connected { .. } => "connected",
            What::ConnectFailed { .. } => "connect_failed",
            What::Disconnected { .. } => "disconnected",
            What::Backoff { .. } => "backoff",
            What::GaveUp(_) => "gave_up",
            What::Stopping => "stopping",
            What::Stopped { .. } => "stopped",
            What::Lagged { .. } => "lagged",
            What::Gap { .. } => "gap",
            What::ListenerRemoved { .. } => "listener_removed",
            What::Reloaded { .. } => "reloaded",
            What::Unknown { type_name, .. } => type_name,
        }
    }

    /// The attempt it names (`connecting`, `connect_failed`, `backoff`).
    pub fn attempt(&self) -> Option<u32> {
        match self {
            What::Connecting { attempt }
            | What::ConnectFailed { attempt, .. }
            | What::Backoff { attempt, .. } => Some(*attempt),
            _ => None,
        }
    }
}

impl std::fmt::Display for What {
    /// The type's name, as in the JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}
