//! `linesman start|stop|restart NAME…|--kind KIND|--tag TAG|--all`: a
//! command to the daemon for each connection picked, then, unless
//! `--no-block`, waiting until each reached the result: `start` → up,
//! `stop` → stopped (drained, not just stopping), `restart` → up in a
//! session that began after the command.
//!
//! Every name is checked against `GET /v1/status` first: an unknown one
//! (or a selector that picks nothing) is exit 6 and nothing is sent. The
//! result is watched on `/v1/events`, opened before the commands are sent,
//! so no event they cause is missed (or on the status, asked again and
//! again, when the daemon has no place for one more stream: `follow.rs`). `--timeout` (30 s) bounds the whole
//! wait; then exit 4 names each connection that did not get there, with
//! its state and why.

use std::collections::HashMap;
use std::time::Duration;

use linesman_control::{
    Client, ClientError, ConnectionStatus, EventLine, State, StatusResponse, What,
};

use crate::cli::ActionArgs;
use crate::commands::follow::{Follow, Seen};
use crate::commands::{client, select};
use crate::error::CliError;
use crate::exit::Code;
use crate::output;
use crate::view::time::now_ms;

/// Which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Start a stopped or failed connection.
    Start,
    /// Stop a connection until started.
    Stop,
    /// Reconnect now.
    Restart,
}

impl Action {
    fn word(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
        }
    }

    /// The state it leads to, in words.
    fn goal(self) -> &'static str {
        match self {
            Action::Start => "up",
            Action::Stop => "stopped",
            Action::Restart => "up again",
        }
    }
}

/// Where one connection is, as far as the command is concerned.
#[derive(Debug, Clone)]
struct Progress {
    state: State,
    /// Draining: `stopped` in the API, but not there yet.
    stopping: bool,
    /// For `restart`: it came up after the command was sent (by the
    /// daemon's clock, which is this machine's: `at_ms` of `connected` not
    /// before the moment the commands were sent).
    fresh: bool,
    /// Why it is where it is, for the timeout's message.
    detail: String,
}

impl Progress {
    fn done(&self, action: Action) -> bool {
        match action {
            Action::Start => self.state == State::Up,
            Action::Stop => self.state == State::Stopped && !self.stopping,
            Action::Restart => self.fresh && self.state == State::Up,
        }
    }

    fn apply(&mut self, event: &EventLine, sent_ms: u64) {
        let Some(state) = event.state else { return };
        self.state = state;
        self.stopping = matches!(event.what, What::Stopping);
        self.detail.clone_from(&event.message);
        // A replay counts too: after a `lagged` line, the replay may be
        // all that is left of the new session's `connected`.
        if matches!(event.what, What::Connected { .. }) && event.at_ms >= sent_ms {
            self.fresh = true;
        }
    }

    /// Where a status asked for at `asked_ms` shows it; up since the
    /// commands were sent (`sent_ms`) is a fresh session. It has been in
    /// its state for `since_ms` counted from a moment no earlier than
    /// `asked_ms`, so it entered it no earlier than `asked_ms - since_ms`.
    fn seen(status: &ConnectionStatus, sent_ms: u64, asked_ms: u64) -> Progress {
        Progress {
            state: status.state,
            stopping: status.state == State::Stopped && status.detail == "stopping",
            fresh: status.state == State::Up && asked_ms.saturating_sub(status.since_ms) >= sent_ms,
            detail: status.detail.clone(),
        }
    }
}

/// Sends `action` for every connection `args` picks and, unless
/// `--no-block`, waits for the result.
pub(crate) async fn action(action: Action, args: ActionArgs) -> Result<Code, CliError> {
    let client = client(&args.daemon)?;
    let status = client.status().await?;
    let names = select::resolve(&status, &args.selection)?;
    if args.no_block {
        for name in &names {
            send(&client, action, name).await?;
            output::out(&format!("{name}: {} accepted\n", action.word()))?;
        }
        return Ok(Code::Ok);
    }
    let deadline = super::deadline_in(args.timeout);
    let timed_out = || ClientError::Timeout {
        socket: client.socket().to_owned(),
        after: args.timeout,
    };
    // Subscribed before sending: every event the commands cause follows.
    let mut follow = tokio::time::timeout_at(deadline, Follow::start(&client))
        .await
        .map_err(|_| timed_out())??;
    let mut progress = initial(&status, &names);
    let sent_ms = now_ms();
    for name in &names {
        tokio::time::timeout_at(deadline, send(&client, action, name))
            .await
            .map_err(|_| timed_out())??;
    }
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    loop {
        if names
            .iter()
            .all(|n| progress.get(n).is_some_and(|p| p.done(action)))
        {
            let text: String = names
                .iter()
                .map(|n| format!("{n}: {}\n", action.goal()))
                .collect();
            output::out(&text)?;
            return Ok(Code::Ok);
        }
        tokio::select! {
            () = &mut sleep => {
                output::err(&late(action, &names, &progress, args.timeout));
                return Ok(Code::TimedOut);
            }
            item = follow.next() => match item {
                Some(Ok(Seen::Event(event))) => {
                    if let Some(p) = progress.get_mut(&event.conn) {
                        p.apply(&event, sent_ms);
                    }
                }
                Some(Ok(Seen::Status(status, asked_ms))) => {
                    for (name, p) in &mut progress {
                        if let Some(c) = status.get(name) {
                            *p = Progress::seen(c, sent_ms, asked_ms);
                        }
                    }
                }
                None | Some(Err(ClientError::Http { .. })) => {
                    return Err(CliError::DaemonGone { socket: client.socket().to_owned() });
                }
                Some(Err(error)) => return Err(error.into()),
            },
        }
    }
}

async fn send(client: &Client, action: Action, name: &str) -> Result<(), ClientError> {
    match action {
        Action::Start => client.start(name).await,
        Action::Stop => client.stop(name).await,
        Action::Restart => client.restart(name).await,
    }
}

/// Each picked connection as the status before the command shows it.
fn initial(status: &StatusResponse, names: &[String]) -> HashMap<String, Progress> {
    names
        .iter()
        .filter_map(|name| status.get(name))
        .map(|c| {
            // Before the commands: not a fresh session, whatever it shows.
            (c.name.clone(), Progress::seen(c, u64::MAX, 0))
        })
        .collect()
}

/// `linesman: timed out after 2s waiting for `a`, `b` to be stopped; `a` is
/// up (connected to …)`.
fn late(
    action: Action,
    names: &[String],
    progress: &HashMap<String, Progress>,
    after: Duration,
) -> String {
    let behind: Vec<String> = names
        .iter()
        .filter_map(|n| progress.get(n).filter(|p| !p.done(action)).map(|p| (n, p)))
        .map(|(n, p)| {
            let state = if p.stopping {
                "stopping".to_owned()
            } else {
                p.state.to_string()
            };
            if p.detail.is_empty() {
                format!("`{n}` is {state}")
            } else {
                format!("`{n}` is {state} ({})", p.detail)
            }
        })
        .collect();
    let all: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!(
        "linesman: timed out after {} waiting for {} to be {} ({} was accepted); {}\n",
        humantime::format_duration(after),
        all.join(", "),
        action.goal(),
        action.word(),
        behind.join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(state: State) -> Progress {
        Progress {
            state,
            stopping: false,
            fresh: false,
            detail: String::new(),
        }
    }

    fn event(what: What, state: State, at_ms: u64, replay: bool) -> EventLine {
        EventLine {
            seq: 1,
            conn_seq: 1,
            at_ms,
            conn: "a".to_owned(),
            kind: None,
            tags: Vec::new(),
            replay,
            state: Some(state),
            message: "m".to_owned(),
            what,
        }
    }

    #[test]
    fn a_restart_is_done_only_by_an_up_after_the_command() {
        let mut p = progress(State::Up);
        assert!(
            !p.done(Action::Restart),
            "up before the command is not enough"
        );
        let connected = || What::Connected {
            peer: "p".to_owned(),
        };
        p.apply(&event(connected(), State::Up, 99, true), 100);
        assert!(!p.done(Action::Restart), "a replay of the old session");
        p.apply(&event(connected(), State::Up, 99, false), 100);
        assert!(!p.done(Action::Restart), "an older session");
        p.apply(&event(connected(), State::Up, 100, false), 100);
        assert!(p.done(Action::Restart));
    }

    #[test]
    fn a_stop_is_done_once_drained() {
        let mut p = progress(State::Up);
        p.apply(&event(What::Stopping, State::Stopped, 1, false), 0);
        assert!(!p.done(Action::Stop), "stopping is not stopped yet");
        p.apply(
            &event(
                What::Stopped {
                    reason: "asked".to_owned(),
                },
                State::Stopped,
                2,
                false,
            ),
            0,
        );
        assert!(p.done(Action::Stop));
        assert!(!p.done(Action::Start));
    }

    #[test]
    fn a_polled_status_counts_a_restart_done_only_if_up_since_the_command() {
        let mut up = crate::view::model::tests::status("a", State::Up);
        // Asked at 10,000; sent at 9,500.
        up.since_ms = 600;
        assert!(
            !Progress::seen(&up, 9_500, 10_000).done(Action::Restart),
            "up since 9,400 at the latest: the old session"
        );
        up.since_ms = 400;
        assert!(Progress::seen(&up, 9_500, 10_000).done(Action::Restart));
        let mut stopping = crate::view::model::tests::status("a", State::Stopped);
        stopping.detail = "stopping".to_owned();
        assert!(!Progress::seen(&stopping, 0, 10_000).done(Action::Stop));
    }
}
