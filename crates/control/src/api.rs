//! The JSON types of the control API, shared by the server and the
//! [`Client`](crate::Client).
//!
//! Only `control` and the CLI know JSON: the domain types of the other crates
//! do not derive `Serialize`; they are converted into these types here (see
//! `convert.rs`). Field names are part of the contract with scripts: never
//! rename one, only add.

use serde::{Deserialize, Serialize};

/// The body of `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// Every supervised connection, in declaration order.
    pub connections: Vec<ConnectionStatus>,
}

impl StatusResponse {
    /// Whether every connection is `up` (the CLI's exit code 0).
    pub fn all_up(&self) -> bool {
        self.connections
            .iter()
            .all(|c| c.state == State::Up.as_str())
    }

    /// The connection named `name`.
    pub fn get(&self, name: &str) -> Option<&ConnectionStatus> {
        self.connections.iter().find(|c| c.name == name)
    }
}

/// A connection's state as the API shows it: one of six words, carried as
/// text in [`ConnectionStatus::state`] and [`EventLine::state`].
///
/// The observer's finer states map onto these:
///
/// | observer (`ConnState`) | API     | why |
/// | --- | --- | --- |
/// | *(no event yet)*  | `waiting`    | declared, not started by the supervisor yet |
/// | `starting`        | `connecting` | started; it connects or waits at once |
/// | `waiting`         | `waiting`    | |
/// | `connecting`      | `connecting` | |
/// | `up`              | `up`         | |
/// | `down`            | `backoff`    | transient: a `backoff`, `gave_up` or `stopped` event follows at once; `next_retry_ms` is `null` until it does |
/// | `backoff`         | `backoff`    | |
/// | `stopping`        | `stopped`    | draining on its way to `stopped`; it accepts no new sends; `detail` says `stopping` |
/// | `stopped`         | `stopped`    | |
/// | `failed`          | `failed`     | |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Its start rule does not hold (or it has not been started yet).
    Waiting,
    /// A connection attempt (connect, then handshake) is under way.
    Connecting,
    /// Connected and handshake done.
    Up,
    /// Failed; it will be retried (`next_retry_ms`).
    Backoff,
    /// Stopped (asked, shutdown, dependency lost); terminal until started.
    Stopped,
    /// Gave up (restart intensity exceeded); terminal until started.
    Failed,
}

impl State {
    /// Every state, in lifecycle order.
    pub const ALL: [State; 6] = [
        State::Waiting,
        State::Connecting,
        State::Up,
        State::Backoff,
        State::Stopped,
        State::Failed,
    ];

    /// The state's word, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Connecting => "connecting",
            State::Up => "up",
            State::Backoff => "backoff",
            State::Stopped => "stopped",
            State::Failed => "failed",
        }
    }
}

impl std::str::FromStr for State {
    type Err = String;

    /// Parses one of the six words; the error names the word and the choices.
    fn from_str(s: &str) -> Result<State, String> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                format!("unknown state `{s}`: expected waiting, connecting, up, backoff, stopped or failed")
            })
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One connection in `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionStatus {
    /// The connection's name.
    pub name: String,
    /// Its kind, a label from the configuration such as `feed`.
    pub kind: Option<String>,
    /// Where it connects, e.g. `tcp://127.0.0.1:7001` (empty when the server
    /// was not told the spec).
    pub endpoint: String,
    /// Its state: one of the words of [`State`] (`waiting`, `connecting`,
    /// `up`, `backoff`, `stopped`, `failed`).
    pub state: String,
    /// Milliseconds since it entered this state.
    pub since_ms: u64,
    /// Restarts scheduled since it was last started.
    pub restarts: u64,
    /// The current or next attempt number (0 before the first).
    pub attempt: u32,
    /// Milliseconds until the next attempt, in `backoff` only.
    pub next_retry_ms: Option<u64>,
    /// The connections it waits on, in `waiting` only.
    pub waiting_on: Vec<String>,
    /// The latest connect error or disconnect reason, kept after it recovers.
    pub last_error: Option<String>,
    /// Frames received, over all sessions.
    pub frames_in: u64,
    /// Frames written, over all sessions.
    pub frames_out: u64,
    /// Bytes received, headers included.
    pub bytes_in: u64,
    /// Bytes written, headers included.
    pub bytes_out: u64,
    /// The connections its start rule names.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Its start rule, e.g. `all(up quotes, up orders)`.
    #[serde(default)]
    pub rule: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Why it is in this state, without times (those are in the numeric
    /// fields): `connected to 127.0.0.1:7001`, `waiting on orders`,
    /// `attempt 4 failed: connection refused`, `stopping`, …
    #[serde(default)]
    pub detail: String,
}

/// One line of `GET /v1/events`: an event of the bus.
///
/// The stream starts with the current state of every connection that has one
/// (`replay: true`, in `seq` order; the event is the connection's latest, with
/// its original `seq`), then live events. A `lagged` line says the server
/// fell behind and missed `missed` events; a fresh replay follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The connection's tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The event type: `started`, `waiting`, `connecting`, `connected`,
    /// `connect_failed`, `disconnected`, `backoff`, `gave_up`, `stopping`,
    /// `stopped`, `lagged` or `listener_removed`.
    #[serde(rename = "type")]
    pub ty: String,
    /// `true` for a restatement of a connection's current state.
    pub replay: bool,
    /// The connection's API state after this event, a word of [`State`]
    /// (`None` for events of the bus itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The event in words, e.g. `connect failed (attempt 2): connection refused`.
    pub message: String,
    /// `connecting`, `connect_failed`, `backoff`: the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// `connected`: the peer's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// `connect_failed`: the error; `disconnected`, `stopped`: the reason;
    /// `gave_up`: why, when not the restart intensity (a panic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `waiting`: the connections it waits on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_on: Option<Vec<String>>,
    /// `backoff`: the delay, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `backoff`: when the next attempt is made, in milliseconds since the
    /// Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// `gave_up` (restart intensity): restarts counted within the window;
    /// `listener_removed`: its panics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `gave_up` (restart intensity): the window, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// `lagged`: how many events were missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<u64>,
    /// `listener_removed`: the listener's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
}

/// The body of a successful `POST /v1/connections/{name}/{action}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResponse {
    /// The connection.
    pub connection: String,
    /// `start`, `stop` or `restart`.
    pub action: String,
    /// Always `true`: the command was queued; what it causes shows up in
    /// `/v1/events` and `/v1/status`.
    pub accepted: bool,
}

/// The body of every error response (4xx, 5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong and what to do, in words.
    pub error: String,
    /// For an unknown connection: the names the daemon knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known: Vec<String>,
}
