//! [`Model`]: the CLI's own picture of the daemon's connections, made from
//! one `GET /v1/status` and then kept current by `/v1/events` alone, so
//! `status --watch` and the demo never poll.
//!
//! Times are absolute (epoch milliseconds), so the picture can be drawn at
//! any later moment: SINCE and "next in" are computed when drawn.

use linesman_control::{ConnectionStatus, EventLine, State, StatusResponse, What};

/// One connection as the CLI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// Its name.
    pub(crate) name: String,
    /// Its kind (a label such as `feed`).
    pub(crate) kind: Option<String>,
    /// Where it connects.
    pub(crate) endpoint: String,
    /// Its state.
    pub(crate) state: State,
    /// When it entered this state (epoch ms).
    pub(crate) since_ms: u64,
    /// Restarts since it was last started (after a session that was up).
    pub(crate) restarts: u64,
    /// Connect attempts that failed since it was last started.
    pub(crate) connect_failures: u64,
    /// Its latest session ended after it had come up (`disconnected`), so
    /// a `backoff` now is a restart.
    pub(crate) was_up: bool,
    /// The current or next attempt.
    pub(crate) attempt: u32,
    /// When the next attempt is made, in `backoff` (epoch ms).
    pub(crate) retry_at_ms: Option<u64>,
    /// What it waits on, in `waiting`.
    pub(crate) waiting_on: Vec<String>,
    /// The latest connect error or disconnect reason.
    pub(crate) last_error: Option<String>,
    /// Why it is in this state, in the daemon's words (without times).
    pub(crate) note: String,
    /// The connections its start rule names.
    pub(crate) depends_on: Vec<String>,
    /// Its start rule, e.g. `any(up quotes, up orders)`.
    pub(crate) rule: Option<String>,
    /// Frames received (as of the status; events do not carry counters).
    pub(crate) frames_in: u64,
}

impl Row {
    /// The row of one `/v1/status` entry, read at `now_ms`.
    pub(crate) fn from_status(c: &ConnectionStatus, now_ms: u64) -> Row {
        Row {
            name: c.name.clone(),
            kind: c.kind.clone(),
            endpoint: c.endpoint.clone(),
            state: c.state,
            since_ms: now_ms.saturating_sub(c.since_ms),
            restarts: c.restarts,
            connect_failures: c.connect_failures,
            was_up: false,
            attempt: c.attempt,
            retry_at_ms: c.next_retry_ms.map(|ms| now_ms.saturating_add(ms)),
            waiting_on: c.waiting_on.clone(),
            last_error: c.last_error.clone(),
            note: c.detail.clone(),
            depends_on: c.depends_on.clone(),
            rule: c.rule.clone(),
            frames_in: c.frames_in,
        }
    }

    /// Whether it is up.
    pub(crate) fn is_up(&self) -> bool {
        self.state == State::Up
    }

    /// Updates the row with one of its events, whose connection is in
    /// `state` after it.
    fn apply(&mut self, event: &EventLine, state: State) {
        if state != self.state {
            self.state = state;
            self.since_ms = event.at_ms;
        }
        if let Some(attempt) = event.what.attempt() {
            self.attempt = attempt;
        }
        self.note = event.message.clone();
        match &event.what {
            What::Waiting { waiting_on } => self.waiting_on.clone_from(waiting_on),
            What::Connected { peer } => self.note = format!("connected to {peer}"),
            What::ConnectFailed { reason, .. } => {
                self.last_error = Some(reason.clone());
                self.was_up = false;
                if !event.replay {
                    self.connect_failures += 1;
                }
            }
            What::Disconnected { reason } => {
                self.last_error = Some(reason.clone());
                self.was_up = true;
            }
            What::Backoff { until_ms, .. } => {
                self.retry_at_ms = Some(*until_ms);
                if !event.replay && self.was_up {
                    self.restarts += 1;
                }
            }
            What::Started if !event.replay => {
                self.restarts = 0;
                self.connect_failures = 0;
            }
            What::Stopped { reason } => self.note = format!("stopped: {reason}"),
            What::Started
            | What::Connecting { .. }
            | What::GaveUp(_)
            | What::Stopping
            | What::Lagged { .. }
            | What::Gap { .. }
            | What::ListenerRemoved { .. }
            | What::Reloaded { .. }
            | What::Unknown { .. } => {}
        }
        if self.state != State::Backoff {
            self.retry_at_ms = None;
        }
        if self.state != State::Waiting {
            self.waiting_on.clear();
        }
    }
}

/// Every connection, in the daemon's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Model {
    /// The rows, in declaration order.
    pub(crate) rows: Vec<Row>,
}

impl Model {
    /// The picture of a `/v1/status` answer read at `now_ms`.
    pub(crate) fn from_status(status: &StatusResponse, now_ms: u64) -> Model {
        Model {
            rows: status
                .connections
                .iter()
                .map(|c| Row::from_status(c, now_ms))
                .collect(),
        }
    }

    /// The row of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// Whether every connection is up.
    pub(crate) fn all_up(&self) -> bool {
        self.rows.iter().all(Row::is_up)
    }

    /// Updates the picture with `event`; returns whether it was about a
    /// connection (events of the bus itself, such as `lagged`, change
    /// nothing: the replay that follows them does).
    pub(crate) fn apply(&mut self, event: &EventLine) -> bool {
        let Some(state) = event.state else {
            return false;
        };
        if event.conn.is_empty() {
            return false;
        }
        if let Some(row) = self.rows.iter_mut().find(|r| r.name == event.conn) {
            row.apply(event, state);
        } else {
            let mut row = Row {
                name: event.conn.clone(),
                kind: event.kind.clone(),
                endpoint: String::new(),
                state,
                since_ms: event.at_ms,
                restarts: 0,
                connect_failures: 0,
                was_up: false,
                attempt: 0,
                retry_at_ms: None,
                waiting_on: Vec::new(),
                last_error: None,
                note: String::new(),
                depends_on: Vec::new(),
                rule: None,
                frames_in: 0,
            };
            row.apply(event, state);
            self.rows.push(row);
        }
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A line of `what` for `conn` at `at_ms`, leading to `state`.
    pub(crate) fn event(conn: &str, what: What, state: Option<State>, at_ms: u64) -> EventLine {
        EventLine {
            seq: at_ms,
            conn_seq: at_ms,
            at_ms,
            conn: conn.to_owned(),
            kind: None,
            tags: Vec::new(),
            replay: false,
            state,
            message: what.type_name().replace('_', " "),
            what,
        }
    }

    /// A `/v1/status` entry of `name` in `state`.
    pub(crate) fn status(name: &str, state: State) -> ConnectionStatus {
        ConnectionStatus {
            name: name.to_owned(),
            kind: Some("feed".to_owned()),
            endpoint: format!("tcp://127.0.0.1:7{}", name.len()),
            state,
            since_ms: 1_000,
            restarts: 2,
            connect_failures: 0,
            attempt: 1,
            next_retry_ms: None,
            waiting_on: Vec::new(),
            last_error: None,
            frames_in: 0,
            frames_out: 0,
            bytes_in: 0,
            bytes_out: 0,
            depends_on: Vec::new(),
            rule: None,
            tags: Vec::new(),
            detail: String::new(),
        }
    }

    #[test]
    fn status_times_become_absolute() {
        let mut quotes = status("quotes", State::Backoff);
        quotes.next_retry_ms = Some(500);
        let model = Model::from_status(
            &StatusResponse {
                connections: vec![quotes],
            },
            10_000,
        );
        let row = model.get("quotes").expect("declared");
        assert_eq!((row.since_ms, row.retry_at_ms), (9_000, Some(10_500)));
    }

    #[test]
    fn events_move_states_and_count_live_restarts_only() {
        let status = StatusResponse {
            connections: vec![status("quotes", State::Up)],
        };
        let mut model = Model::from_status(&status, 10_000);
        let failed = What::Disconnected {
            reason: "connection reset".to_owned(),
        };
        assert!(model.apply(&event("quotes", failed, Some(State::Backoff), 11_000)));
        let backoff = What::Backoff {
            attempt: 2,
            delay_ms: 399,
            until_ms: 11_400,
        };
        let backoff = event("quotes", backoff, Some(State::Backoff), 11_001);
        model.apply(&backoff);
        let mut replayed = backoff.clone();
        replayed.replay = true;
        model.apply(&replayed);
        let row = model.get("quotes").expect("declared");
        assert_eq!(row.state, State::Backoff);
        assert_eq!(
            row.since_ms, 11_000,
            "the state changed with the first event"
        );
        assert_eq!(
            row.restarts, 3,
            "2 from the status, 1 live, the replay not counted"
        );
        assert_eq!((row.attempt, row.retry_at_ms), (2, Some(11_400)));
        assert_eq!(row.last_error.as_deref(), Some("connection reset"));

        let connected = What::Connected {
            peer: "127.0.0.1:7001".to_owned(),
        };
        model.apply(&event("quotes", connected, Some(State::Up), 11_500));
        let row = model.get("quotes").expect("declared");
        assert_eq!((row.state, row.retry_at_ms), (State::Up, None));
        assert_eq!(row.note, "connected to 127.0.0.1:7001");
        assert!(model.all_up());
    }

    #[test]
    fn bus_events_change_nothing_and_unknown_names_are_added() {
        let mut model = Model::default();
        let lagged = event("", What::Lagged { missed: 3 }, None, 1);
        assert!(!model.apply(&lagged));
        assert!(model.rows.is_empty());
        let waiting = What::Waiting {
            waiting_on: vec!["quotes".to_owned()],
        };
        assert!(model.apply(&event("late", waiting, Some(State::Waiting), 2)));
        let row = model.get("late").expect("added");
        assert_eq!(
            (row.state, row.waiting_on.as_slice()),
            (State::Waiting, &["quotes".to_owned()][..])
        );
    }

    #[test]
    fn an_unknown_event_type_moves_the_state_and_shows_its_message() {
        let status = StatusResponse {
            connections: vec![status("quotes", State::Up)],
        };
        let mut model = Model::from_status(&status, 10_000);
        let mut paused = event(
            "quotes",
            What::Unknown {
                type_name: "paused".to_owned(),
                fields: serde_json::Map::new(),
            },
            Some(State::Waiting),
            11_000,
        );
        paused.message = "paused by the operator".to_owned();
        assert!(model.apply(&paused));
        let row = model.get("quotes").expect("declared");
        assert_eq!(
            (row.state, row.note.as_str()),
            (State::Waiting, "paused by the operator")
        );
    }
}
