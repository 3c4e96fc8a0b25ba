//! The JSON types of the control API, shared by the server and the
//! [`Client`](crate::Client).
//!
//! Only `control` and the CLI know JSON: the domain types of the other crates
//! do not derive `Serialize`; they are converted into these types here (see
//! `convert/`). Field names are part of the contract with scripts: never
//! rename one, only add.
//!
//! The types are closed where the API is: a state is a [`State`], an event
//! a [`What`] holding exactly the fields its type has, so the CLI matches
//! on them and the compiler checks every case. The JSON is unchanged by the
//! typing (`tests/golden/` pins it byte for byte).

use serde::{Deserialize, Serialize};

mod event;
mod state;
mod wire;

pub use event::{EventLine, GaveUpCause, What};
pub use state::State;

/// The body of `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// Every supervised connection, in declaration order.
    pub connections: Vec<ConnectionStatus>,
}

impl StatusResponse {
    /// Whether every connection is `up` (the CLI's exit code 0).
    pub fn all_up(&self) -> bool {
        self.connections.iter().all(|c| c.state == State::Up)
    }

    /// The connection named `name`.
    pub fn get(&self, name: &str) -> Option<&ConnectionStatus> {
        self.connections.iter().find(|c| c.name == name)
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
    /// Its state, one of six words in the JSON (`waiting`, `connecting`,
    /// `up`, `backoff`, `stopped`, `failed`).
    pub state: State,
    /// Milliseconds since it entered this state.
    pub since_ms: u64,
    /// Restarts since it was last started: restarts after a session that
    /// had come up and ended. Connect attempts that failed before a session
    /// came up are not restarts: they are `connect_failures`.
    pub restarts: u64,
    /// Connect attempts that failed (refused, timed out, handshake failed)
    /// since it was last started. Absent from the JSON of an older daemon
    /// (read as 0).
    #[serde(default)]
    pub connect_failures: u64,
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

/// The body of `POST /v1/reload`: what the reload did (200), or why the
/// file was refused and nothing changed (422, `ok: false`, `errors`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadResponse {
    /// Whether the new configuration was applied.
    pub ok: bool,
    /// The configuration file read.
    pub file: String,
    /// Connections added (started when their rules hold).
    pub added: Vec<String>,
    /// Connections removed (stopped, dependents first).
    pub removed: Vec<String>,
    /// Connections restarted with new settings.
    pub changed: Vec<String>,
    /// Connections left alone (same session).
    pub unchanged: Vec<String>,
    /// Settings that changed but take effect only when the daemon is
    /// restarted, in words.
    pub needs_restart: Vec<String>,
    /// Every problem of a refused file, `FILE:LINE:COLUMN: message`.
    pub errors: Vec<String>,
    /// The problems as `linesman check` shows them (empty when `ok`).
    pub rendered: String,
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
