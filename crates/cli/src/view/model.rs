//! [`Model`]: the CLI's own picture of the daemon's connections, made from
//! one `GET /v1/status` and then kept current by `/v1/events` alone, so
//! `status --watch` and the demo never poll.
//!
//! Times are absolute (epoch milliseconds), so the picture can be drawn at
//! any later moment: SINCE and "next in" are computed when drawn.

use linesman_control::{ConnectionStatus, EventLine, StatusResponse};

/// One connection as the CLI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// Its name.
    pub(crate) name: String,
    /// Its kind (a label such as `feed`).
    pub(crate) kind: Option<String>,
    /// Where it connects.
    pub(crate) endpoint: String,
    /// One of the API's six state words.
    pub(crate) state: String,
    /// When it entered this state (epoch ms).
    pub(crate) since_ms: u64,
    /// Restarts since it was last started.
    pub(crate) restarts: u64,
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
            state: c.state.clone(),
            since_ms: now_ms.saturating_sub(c.since_ms),
            restarts: c.restarts,
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
        self.state == "up"
    }

    /// Updates the row with one of its events.
    fn apply(&mut self, event: &EventLine) {
        if let Some(state) = &event.state
            && *state != self.state
        {
            self.state.clone_from(state);
            self.since_ms = event.at_ms;
        }
        if let Some(attempt) = event.attempt {
            self.attempt = attempt;
        }
        self.note = match event.ty.as_str() {
            "connected" => event.peer.as_ref().map_or_else(
                || event.message.clone(),
                |peer| format!("connected to {peer}"),
            ),
            "stopped" => event.reason.as_ref().map_or_else(
                || event.message.clone(),
                |reason| format!("stopped: {reason}"),
            ),
            _ => event.message.clone(),
        };
        match event.ty.as_str() {
            "waiting" => self.waiting_on = event.waiting_on.clone().unwrap_or_default(),
            "connect_failed" | "disconnected" => self.last_error.clone_from(&event.reason),
            "backoff" => {
                self.retry_at_ms = event.until_ms;
                if !event.replay {
                    self.restarts += 1;
                }
            }
            "started" if !event.replay => self.restarts = 0,
            _ => {}
        }
        if self.state != "backoff" {
            self.retry_at_ms = None;
        }
        if self.state != "waiting" {
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
        if event.conn.is_empty() || event.state.is_none() {
            return false;
        }
        if let Some(row) = self.rows.iter_mut().find(|r| r.name == event.conn) {
            row.apply(event);
        } else {
            let mut row = Row {
                name: event.conn.clone(),
                kind: event.kind.clone(),
                endpoint: String::new(),
                state: String::new(),
                since_ms: event.at_ms,
                restarts: 0,
                attempt: 0,
                retry_at_ms: None,
                waiting_on: Vec::new(),
                last_error: None,
                note: String::new(),
                depends_on: Vec::new(),
                rule: None,
                frames_in: 0,
            };
            row.apply(event);
            self.rows.push(row);
        }
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An event line of `ty` for `conn` at `at_ms`, leading to `state`.
    pub(crate) fn event(conn: &str, ty: &str, state: &str, at_ms: u64) -> EventLine {
        EventLine {
            seq: at_ms,
            conn_seq: at_ms,
            at_ms,
            conn: conn.to_owned(),
            kind: None,
            tags: Vec::new(),
            ty: ty.to_owned(),
            replay: false,
            state: Some(state.to_owned()),
            message: ty.replace('_', " "),
            attempt: None,
            peer: None,
            reason: None,
            waiting_on: None,
            delay_ms: None,
            until_ms: None,
            count: None,
            window_ms: None,
            missed: None,
            listener: None,
        }
    }

    /// A `/v1/status` entry of `name` in `state`.
    pub(crate) fn status(name: &str, state: &str) -> ConnectionStatus {
        ConnectionStatus {
            name: name.to_owned(),
            kind: Some("feed".to_owned()),
            endpoint: format!("tcp://127.0.0.1:7{}", name.len()),
            state: state.to_owned(),
            since_ms: 1_000,
            restarts: 2,
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
        let mut quotes = status("quotes", "backoff");
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
            connections: vec![status("quotes", "up")],
        };
        let mut model = Model::from_status(&status, 10_000);
        let mut failed = event("quotes", "disconnected", "backoff", 11_000);
        failed.reason = Some("connection reset".to_owned());
        assert!(model.apply(&failed));
        let mut backoff = event("quotes", "backoff", "backoff", 11_001);
        backoff.attempt = Some(2);
        backoff.until_ms = Some(11_400);
        model.apply(&backoff);
        let mut replayed = backoff.clone();
        replayed.replay = true;
        model.apply(&replayed);
        let row = model.get("quotes").expect("declared");
        assert_eq!(row.state, "backoff");
        assert_eq!(
            row.since_ms, 11_000,
            "the state changed with the first event"
        );
        assert_eq!(
            row.restarts, 3,
            "2 from the status, 1 live, the replay not counted"
        );
        assert_eq!(row.retry_at_ms, Some(11_400));
        assert_eq!(row.last_error.as_deref(), Some("connection reset"));

        let mut connected = event("quotes", "connected", "up", 11_500);
        connected.peer = Some("127.0.0.1:7001".to_owned());
        model.apply(&connected);
        let row = model.get("quotes").expect("declared");
        assert_eq!((row.state.as_str(), row.retry_at_ms), ("up", None));
        assert_eq!(row.note, "connected to 127.0.0.1:7001");
        assert!(model.all_up());
    }

    #[test]
    fn bus_events_change_nothing_and_unknown_names_are_added() {
        let mut model = Model::default();
        let mut lagged = event("", "lagged", "up", 1);
        lagged.state = None;
        assert!(!model.apply(&lagged));
        assert!(model.rows.is_empty());
        assert!(model.apply(&event("late", "waiting", "waiting", 2)));
        assert_eq!(model.get("late").map(|r| r.state.as_str()), Some("waiting"));
    }
}
