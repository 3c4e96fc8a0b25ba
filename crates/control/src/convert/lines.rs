//! [`EventLines`]: the events of one `/v1/events` stream as JSON lines,
//! each observer event mapped onto the API's [`What`](api::What) with
//! exactly the fields its type has.

use std::collections::HashMap;
use std::sync::Arc;

use linesman_observer::{ConnState, Event, What};

use super::{api_state, duration_millis, epoch_millis};
use crate::api::{self, EventLine, GaveUpCause};

/// Turns the events of one stream into JSON lines, keeping each
/// connection's latest state: a line's state may depend on the one before
/// (a `disconnected` while its connection is stopping reads `stopping`,
/// not `backoff`; see [`ConnState::after_from`]).
#[derive(Debug, Default)]
pub(crate) struct EventLines {
    states: HashMap<Arc<str>, ConnState>,
}

impl EventLines {
    /// The line of `event`. A replay event states the connection's state
    /// as the registry has it now (`current`), which knows what came before
    /// it; a live event's state follows from the state before.
    pub(crate) fn line(
        &mut self,
        event: &Event,
        current: impl FnOnce() -> Option<ConnState>,
    ) -> EventLine {
        let state = if event.replay {
            current().or_else(|| ConnState::after(&event.what))
        } else {
            ConnState::after_from(self.states.get(&event.conn), &event.what)
        };
        if let Some(state) = &state {
            self.states.insert(Arc::clone(&event.conn), state.clone());
        }
        event_line(event, state.as_ref())
    }
}

/// The JSON line of one event, the connection in `state` after it.
fn event_line(event: &Event, state: Option<&ConnState>) -> EventLine {
    EventLine {
        seq: event.seq,
        conn_seq: event.conn_seq,
        at_ms: epoch_millis(event.at),
        conn: event.conn.to_string(),
        kind: event.kind.as_deref().map(str::to_owned),
        tags: event.tags.iter().map(|t| t.to_string()).collect(),
        replay: event.replay,
        state: state.map(api_state),
        message: event.what.to_string(),
        what: what(&event.what),
    }
}

/// The API's [`What`](api::What) of an observer event.
fn what(what: &What) -> api::What {
    match what {
        What::Started(_) => api::What::Started,
        What::Waiting(w) => api::What::Waiting {
            waiting_on: w.on.clone(),
        },
        What::Connecting(c) => api::What::Connecting { attempt: c.attempt },
        What::Connected(c) => api::What::Connected {
            peer: c.peer.clone(),
        },
        What::ConnectFailed(c) => api::What::ConnectFailed {
            attempt: c.attempt,
            reason: c.error.clone(),
        },
        What::Disconnected(d) => api::What::Disconnected {
            reason: d.reason.clone(),
        },
        What::Backoff(b) => api::What::Backoff {
            attempt: b.attempt,
            delay_ms: duration_millis(b.delay),
            until_ms: epoch_millis(b.until),
        },
        What::GaveUp(g) => api::What::GaveUp(match &g.reason {
            Some(reason) => GaveUpCause::Failed {
                reason: reason.clone(),
            },
            None => GaveUpCause::Intensity {
                count: u64::from(g.restarts),
                window_ms: duration_millis(g.window),
            },
        }),
        What::Stopping(_) => api::What::Stopping,
        What::Stopped(s) => api::What::Stopped {
            reason: s.reason.clone(),
        },
        What::Lagged(l) => api::What::Lagged { missed: l.missed },
        What::ListenerRemoved(r) => api::What::ListenerRemoved {
            listener: r.listener.clone(),
            count: u64::from(r.panics),
        },
        What::Reloaded(r) => api::What::Reloaded {
            added: r.added.clone(),
            removed: r.removed.clone(),
            changed: r.changed.clone(),
        },
    }
}
