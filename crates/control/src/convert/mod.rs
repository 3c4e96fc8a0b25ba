//! From the domain types of the observer and connection crates to the JSON
//! types of [`api`](crate::api): the one place where the observer's
//! `ConnState` is mapped onto the API's six states (the table is on
//! [`State`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use linesman_connection::Counters;
use linesman_observer::{ConnState, ConnStatus, Event, What};

use crate::api::{ConnectionStatus, EventLine, State};

/// What the server knows of a connection from its spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Described {
    pub(crate) name: String,
    pub(crate) kind: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) endpoint: String,
    pub(crate) depends_on: Vec<String>,
    pub(crate) rule: Option<String>,
}

/// The API state of an observer state.
pub(crate) fn api_state(state: &ConnState) -> State {
    match state {
        ConnState::Waiting { .. } => State::Waiting,
        ConnState::Starting | ConnState::Connecting { .. } => State::Connecting,
        ConnState::Up { .. } => State::Up,
        ConnState::Down { .. } | ConnState::Backoff { .. } => State::Backoff,
        ConnState::Stopping | ConnState::Stopped { .. } => State::Stopped,
        ConnState::Failed { .. } => State::Failed,
    }
}

/// Why a connection is in `state`, in words and without times.
fn detail(status: &ConnStatus) -> String {
    match &status.state {
        ConnState::Starting => "starting".to_owned(),
        ConnState::Waiting { on } if on.is_empty() => "waiting for its start rule".to_owned(),
        ConnState::Waiting { on } => format!("waiting on {}", on.join(", ")),
        ConnState::Connecting { attempt } => match &status.last_error {
            Some(error) if *attempt > 1 => format!("attempt {attempt} (last error: {error})"),
            _ => format!("attempt {attempt}"),
        },
        ConnState::Up { peer } => format!("connected to {peer}"),
        ConnState::Down { reason } => reason.clone(),
        ConnState::Backoff { attempt, .. } => match &status.last_error {
            Some(error) => format!("{error} (next attempt {attempt})"),
            None => format!("next attempt {attempt}"),
        },
        ConnState::Stopping => "stopping".to_owned(),
        ConnState::Stopped { reason } => format!("stopped: {reason}"),
        ConnState::Failed {
            reason: Some(reason),
            ..
        } => reason.clone(),
        ConnState::Failed {
            restarts, window, ..
        } => {
            let gave_up = format!(
                "gave up after {restarts} restarts within {}",
                millis_text(*window)
            );
            match &status.last_error {
                Some(error) => format!("{gave_up}; last error: {error}"),
                None => gave_up,
            }
        }
    }
}

fn millis_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Milliseconds from `earlier` to `later`, 0 if `later` is not after it.
pub(crate) fn millis_between(earlier: SystemTime, later: SystemTime) -> u64 {
    later
        .duration_since(earlier)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn epoch_millis(at: SystemTime) -> u64 {
    millis_between(UNIX_EPOCH, at)
}

fn duration_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The status line of one connection at `now`. `status` is `None` before
/// the connection's first event (the supervisor has not started it).
pub(crate) fn connection_status(
    described: &Described,
    status: Option<&ConnStatus>,
    counters: &Counters,
    now: SystemTime,
) -> ConnectionStatus {
    let mut out = ConnectionStatus {
        name: described.name.clone(),
        kind: described.kind.clone(),
        endpoint: described.endpoint.clone(),
        state: State::Waiting.as_str().to_owned(),
        since_ms: 0,
        restarts: 0,
        attempt: 0,
        next_retry_ms: None,
        waiting_on: Vec::new(),
        last_error: counters.last_error.clone(),
        frames_in: counters.frames_in,
        frames_out: counters.frames_out,
        bytes_in: counters.bytes_in,
        bytes_out: counters.bytes_out,
        depends_on: described.depends_on.clone(),
        rule: described.rule.clone(),
        tags: described.tags.clone(),
        detail: "not started yet".to_owned(),
    };
    let Some(status) = status else {
        return out;
    };
    out.state = api_state(&status.state).as_str().to_owned();
    out.since_ms = millis_between(status.since, now);
    out.restarts = u64::from(status.restarts);
    out.attempt = status.attempt;
    out.detail = detail(status);
    if out.kind.is_none() {
        out.kind = status.kind.as_deref().map(str::to_owned);
    }
    if status.last_error.is_some() {
        out.last_error.clone_from(&status.last_error);
    }
    match &status.state {
        ConnState::Backoff { until, .. } => out.next_retry_ms = Some(millis_between(now, *until)),
        ConnState::Waiting { on } => out.waiting_on.clone_from(on),
        _ => {}
    }
    out
}

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
    let mut line = EventLine {
        seq: event.seq,
        conn_seq: event.conn_seq,
        at_ms: epoch_millis(event.at),
        conn: event.conn.to_string(),
        kind: event.kind.as_deref().map(str::to_owned),
        tags: event.tags.iter().map(|t| t.to_string()).collect(),
        ty: event.event_type().as_str().to_owned(),
        replay: event.replay,
        state: state.map(|s| api_state(s).as_str().to_owned()),
        message: event.what.to_string(),
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
    };
    match &event.what {
        What::Started(_) | What::Stopping(_) => {}
        What::Waiting(w) => line.waiting_on = Some(w.on.clone()),
        What::Connecting(c) => line.attempt = Some(c.attempt),
        What::Connected(c) => line.peer = Some(c.peer.clone()),
        What::ConnectFailed(c) => {
            line.attempt = Some(c.attempt);
            line.reason = Some(c.error.clone());
        }
        What::Disconnected(d) => line.reason = Some(d.reason.clone()),
        What::Backoff(b) => {
            line.attempt = Some(b.attempt);
            line.delay_ms = Some(duration_millis(b.delay));
            line.until_ms = Some(epoch_millis(b.until));
        }
        What::GaveUp(g) => match &g.reason {
            Some(reason) => line.reason = Some(reason.clone()),
            None => {
                line.count = Some(u64::from(g.restarts));
                line.window_ms = Some(duration_millis(g.window));
            }
        },
        What::Stopped(s) => line.reason = Some(s.reason.clone()),
        What::Lagged(l) => line.missed = Some(l.missed),
        What::ListenerRemoved(r) => {
            line.listener = Some(r.listener.clone());
            line.count = Some(u64::from(r.panics));
        }
    }
    line
}

#[cfg(test)]
mod golden;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_observer_state_maps_onto_one_of_the_six() {
        let now = SystemTime::now();
        let cases = [
            (ConnState::Starting, State::Connecting),
            (ConnState::Waiting { on: vec![] }, State::Waiting),
            (ConnState::Connecting { attempt: 1 }, State::Connecting),
            (ConnState::Up { peer: "p".into() }, State::Up),
            (ConnState::Down { reason: "r".into() }, State::Backoff),
            (
                ConnState::Backoff {
                    attempt: 2,
                    until: now,
                },
                State::Backoff,
            ),
            (ConnState::Stopping, State::Stopped),
            (ConnState::Stopped { reason: "r".into() }, State::Stopped),
            (
                ConnState::Failed {
                    restarts: 3,
                    window: Duration::from_secs(60),
                    reason: None,
                },
                State::Failed,
            ),
        ];
        for (observer, api) in cases {
            assert_eq!(api_state(&observer), api, "{observer:?}");
        }
    }

    /// The lines of everything published on `bus` so far, then of what
    /// `publish` publishes.
    async fn lines(bus: &linesman_observer::Bus, publish: impl FnOnce()) -> Vec<(String, String)> {
        use futures_util::StreamExt;
        let mut events = bus.subscribe(linesman_observer::Interest::all());
        publish();
        bus.close().await;
        let mut lines = EventLines::default();
        let mut out = Vec::new();
        while let Some(event) = events.next().await {
            let line = lines.line(&event, || bus.state(&event.conn).map(|s| s.state));
            out.push((line.ty, line.state.unwrap_or_default()));
        }
        out
    }

    #[tokio::test]
    async fn a_disconnect_while_stopping_reads_stopped_not_backoff() {
        use linesman_observer::{Bus, Connected, Disconnected, Stopped, Stopping};
        let bus = Bus::default();
        let conn = bus.publisher("quotes");
        let got = lines(&bus, || {
            let up = || Connected {
                peer: "127.0.0.1:7001".into(),
            };
            let down = |reason: &str| Disconnected {
                reason: reason.into(),
            };
            conn.publish(up()).expect("open");
            conn.publish(down("peer closed")).expect("open");
            conn.publish(up()).expect("open");
            conn.publish(Stopping {}).expect("open");
            conn.publish(down("stopped")).expect("open");
            conn.publish(Stopped {
                reason: "stopped by request".into(),
            })
            .expect("open");
        })
        .await;
        let expected = [
            ("connected", "up"),
            ("disconnected", "backoff"),
            ("connected", "up"),
            ("stopping", "stopped"),
            ("disconnected", "stopped"),
            ("stopped", "stopped"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(ty, state)| ((*ty).to_owned(), (*state).to_owned()))
            .collect();
        assert_eq!(got, expected);
    }

    #[tokio::test]
    async fn a_replay_states_the_registry_state() {
        use futures_util::StreamExt;
        use linesman_observer::{Bus, Connected, Disconnected, Interest, Stopping};
        let bus = Bus::default();
        let conn = bus.publisher("quotes");
        conn.publish(Connected {
            peer: "127.0.0.1:7001".into(),
        })
        .expect("open");
        conn.publish(Stopping {}).expect("open");
        conn.publish(Disconnected {
            reason: "stopped".into(),
        })
        .expect("open");
        // Subscribed now: the first event is the replay of `disconnected`,
        // which alone would read `backoff`.
        let mut events = bus.subscribe(Interest::all());
        let replay = events.next().await.expect("the replay");
        assert!(replay.replay);
        let line = EventLines::default().line(&replay, || bus.state("quotes").map(|s| s.state));
        assert_eq!(line.ty, "disconnected");
        assert_eq!(line.state.as_deref(), Some("stopped"));
    }

    #[tokio::test]
    async fn a_failure_with_a_reason_says_the_reason() {
        use futures_util::StreamExt;
        use linesman_observer::{Bus, GaveUp, Interest};
        let bus = Bus::default();
        let conn = bus.publisher("quotes");
        let reason = "supervisor task panicked: boom; `linesman start quotes` restarts it";
        conn.publish(GaveUp {
            restarts: 0,
            window: Duration::ZERO,
            reason: Some(reason.into()),
        })
        .expect("open");
        let status = bus.state("quotes").expect("a record");
        let shown = connection_status(
            &Described::default(),
            Some(&status),
            &Counters::default(),
            SystemTime::now(),
        );
        assert_eq!(
            (shown.state.as_str(), shown.detail.as_str()),
            ("failed", reason)
        );
        assert_eq!(shown.last_error.as_deref(), Some(reason));
        let mut events = bus.subscribe(Interest::all());
        let replay = events.next().await.expect("the replay");
        let line = EventLines::default().line(&replay, || Some(status.state.clone()));
        assert_eq!(
            (line.ty.as_str(), line.reason.as_deref(), line.count),
            ("gave_up", Some(reason), None)
        );
        assert_eq!(line.message, format!("failed: {reason}"));
    }

    #[test]
    fn a_failed_connection_names_its_last_error() {
        use linesman_observer::{Bus, Disconnected, GaveUp};
        let bus = Bus::default();
        let conn = bus.publisher("quotes");
        conn.publish(GaveUp {
            restarts: 10,
            window: Duration::from_secs(600),
            reason: None,
        })
        .expect("open");
        let status = bus.state("quotes").expect("published");
        assert_eq!(detail(&status), "gave up after 10 restarts within 600s");
        conn.publish(Disconnected {
            reason: "peer closed the connection".into(),
        })
        .expect("open");
        conn.publish(GaveUp {
            restarts: 10,
            window: Duration::from_secs(600),
            reason: None,
        })
        .expect("open");
        let status = bus.state("quotes").expect("published");
        assert_eq!(
            detail(&status),
            "gave up after 10 restarts within 600s; last error: peer closed the connection"
        );
    }

    #[test]
    fn millis_never_go_negative() {
        let now = SystemTime::now();
        let later = now + Duration::from_millis(1500);
        assert_eq!(millis_between(now, later), 1500);
        assert_eq!(millis_between(later, now), 0);
    }

    #[test]
    fn state_words_round_trip() {
        for state in State::ALL {
            assert_eq!(state.as_str().parse::<State>(), Ok(state));
            let json = serde_json::to_string(&state).expect("serializable");
            assert_eq!(json, format!("\"{state}\""));
        }
        let err = "down".parse::<State>().expect_err("not an API state");
        assert!(err.contains("`down`"), "{err}");
    }
}
