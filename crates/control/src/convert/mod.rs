//! From the domain types of the observer and connection crates to the JSON
//! types of [`api`](crate::api): the one place where the observer's
//! `ConnState` is mapped onto the API's six states (the table is on
//! [`State`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use linesman_connection::Counters;
use linesman_observer::{ConnState, ConnStatus};

use crate::api::{ConnectionStatus, State};

mod lines;

pub(crate) use lines::EventLines;

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
                window_text(*window)
            );
            match &status.last_error {
                Some(error) => format!("{gave_up}; last: {error}"),
                None => gave_up,
            }
        }
    }
}

/// A window as the `gave_up` event says it: `10m`, `90s`, `1h`, `250ms`.
fn window_text(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".to_owned(),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1000) => format!("{}s", ms / 1000),
        _ => format!("{ms}ms"),
    }
}

/// Milliseconds from `earlier` to `later`, 0 if `later` is not after it.
pub(crate) fn millis_between(earlier: SystemTime, later: SystemTime) -> u64 {
    later
        .duration_since(earlier)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn epoch_millis(at: SystemTime) -> u64 {
    millis_between(UNIX_EPOCH, at)
}

pub(super) fn duration_millis(d: Duration) -> u64 {
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
        state: State::Waiting,
        since_ms: 0,
        restarts: 0,
        connect_failures: 0,
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
    out.state = api_state(&status.state);
    out.since_ms = millis_between(status.since, now);
    out.restarts = u64::from(status.restarts);
    out.connect_failures = u64::from(status.connect_failures);
    out.attempt = status.attempt;
    out.detail = detail(status);
    if out.kind.is_none() {
        out.kind = status.kind().map(|kind| kind.to_string());
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

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
