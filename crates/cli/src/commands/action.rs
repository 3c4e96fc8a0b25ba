//! `linesman start|stop|restart NAME…|--kind KIND|--tag TAG|--all`: a
//! command to the daemon for each connection picked, then, unless
//! `--no-block`, waiting until each reached the result: `start` → up,
//! `stop` → stopped (drained, not just stopping), `restart` → up in a
//! session that began after the command.
//!
//! Every name is checked against `GET /v1/status` first: an unknown one
//! (or a selector that picks nothing) is exit 6 and nothing is sent. The
//! result is watched on `/v1/events`, opened before the commands are sent,
//! so no event they cause is missed. `--timeout` (30 s) bounds the whole
//! wait; then exit 4 names each connection that did not get there, with
//! its state and why.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use linesman_control::{Client, ClientError, EventLine, State, StatusResponse, What};

use crate::cli::ActionArgs;
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
    let mut events = tokio::time::timeout_at(deadline, client.events())
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
            item = events.next() => match item {
                Some(Ok(event)) => {
                    if let Some(p) = progress.get_mut(&event.conn) {
                        p.apply(&event, sent_ms);
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
            let progress = Progress {
                state: c.state,
                stopping: c.state == State::Stopped && c.detail == "stopping",
                fresh: false,
                detail: c.detail.clone(),
            };
            (c.name.clone(), progress)
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
}
