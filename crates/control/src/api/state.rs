//! [`State`]: the six words a connection's state is shown as, and how the
//! observer's finer states map onto them.
//!
//! The set is closed: scripts match on these words, so a new one would be a
//! breaking change of the API (unlike a new event type, which an older
//! client reads as [`What::Unknown`](crate::api::What::Unknown)).

use serde::{Deserialize, Serialize};

/// A connection's state as the API shows it: one of six words in the JSON,
/// in [`ConnectionStatus::state`](crate::api::ConnectionStatus::state) and
/// [`EventLine::state`](crate::api::EventLine::state).
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
