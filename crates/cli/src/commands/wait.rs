//! `linesman wait --up NAME… [--all|--any] --timeout DUR`: blocks until the
//! named connections are up (all of them, or any one), for scripts.
//!
//! Follows `/v1/events` (whose first lines are the current state), so it
//! returns as soon as the condition holds, without polling. A daemon that
//! is not there yet (no socket, or nothing listening on it) is waited for,
//! retrying with a short backoff, so `linesman run & linesman wait --up db`
//! works. `--timeout` bounds the whole command, connecting included. Exit
//! 0 when it holds, 4 on timeout (saying what is not up, and why, or that
//! no daemon appeared on the socket), 1 when a daemon is there but does not
//! answer in time (a stopped daemon), or the daemon stops, 6 for a name the
//! daemon does not know.
//!
//! `--timeout 0` checks once: one status request (bounded by the client's
//! own connect and response timeouts, as `status` is), then 0 if the
//! condition holds, 4 if not — a zero budget is not the daemon's fault.

use std::time::Duration;

use linesman_control::{Client, ClientError, StatusResponse};
use tokio::time::Instant;

use crate::cli::WaitArgs;
use crate::commands::client;
use crate::commands::follow::{Follow, Seen};
use crate::commands::select;
use crate::error::CliError;
use crate::exit::Code;
use crate::output;
use crate::view::detail::detail;
use crate::view::model::Model;
use crate::view::time::now_ms;

/// Waits for the condition, or for the timeout.
pub(crate) async fn wait(args: WaitArgs) -> Result<Code, CliError> {
    if args.timeout.is_zero() {
        return check_once(&args).await;
    }
    let deadline = super::deadline_in(args.timeout);
    let client = client(&args.daemon)?
        .connect_timeout(args.timeout.min(Client::DEFAULT_CONNECT_TIMEOUT))
        .response_timeout(args.timeout);
    // Until the events flow, running out of time means the daemon did not
    // answer: that is exit 1, not 4.
    let not_answered = || ClientError::Timeout {
        socket: client.socket().to_owned(),
        after: args.timeout,
    };
    let status = match appeared(&client, deadline).await {
        Ok(Some(status)) => status,
        Ok(None) => {
            output::err(&format!(
                "linesman: timed out after {}: no daemon appeared on {} (start one with `linesman run -c FILE`, or point --socket at it)\n",
                humantime::format_duration(args.timeout),
                client.socket().display(),
            ));
            return Ok(Code::TimedOut);
        }
        Err(ClientError::Timeout { .. }) => return Err(not_answered().into()),
        Err(error) => return Err(error.into()),
    };
    select::known(&status, &args.up)?;
    let any = args.any;
    let holds = |model: &Model| holds(model, &args);
    let mut model = Model::from_status(&status, now_ms());
    let mut follow = tokio::time::timeout_at(deadline, Follow::start(&client))
        .await
        .map_err(|_| not_answered())??;
    let deadline = tokio::time::sleep_until(deadline);
    tokio::pin!(deadline);
    loop {
        if holds(&model) {
            output::out(&format!("up: {}\n", up_names(&model, &args.up).join(", ")))?;
            return Ok(Code::Ok);
        }
        tokio::select! {
            () = &mut deadline => {
                output::err(&format!(
                    "linesman: timed out after {} waiting for {} of {} to be up; {}\n",
                    humantime::format_duration(args.timeout),
                    if any { "any" } else { "all" },
                    quoted(&args.up.iter().map(String::as_str).collect::<Vec<_>>()),
                    not_up(&model, &args.up),
                ));
                return Ok(Code::TimedOut);
            }
            item = follow.next() => match item {
                Some(Ok(Seen::Event(event))) => {
                    model.apply(&event);
                }
                Some(Ok(Seen::Status(status, asked_ms))) => {
                    model = Model::from_status(&status, asked_ms);
                }
                None | Some(Err(ClientError::Http { .. })) => {
                    return Err(CliError::DaemonGone {
                        socket: client.socket().to_owned(),
                    });
                }
                Some(Err(error)) => return Err(error.into()),
            },
        }
    }
}

/// `--timeout 0`: the condition now, from one status request.
async fn check_once(args: &WaitArgs) -> Result<Code, CliError> {
    let status = client(&args.daemon)?.status().await?;
    select::known(&status, &args.up)?;
    let model = Model::from_status(&status, now_ms());
    if holds(&model, args) {
        output::out(&format!("up: {}\n", up_names(&model, &args.up).join(", ")))?;
        return Ok(Code::Ok);
    }
    output::err(&format!(
        "linesman: {} of {} up now (--timeout 0 checks once); {}\n",
        if args.any { "none" } else { "not all" },
        quoted(&args.up.iter().map(String::as_str).collect::<Vec<_>>()),
        not_up(&model, &args.up),
    ));
    Ok(Code::TimedOut)
}

/// The first pause before asking again for a daemon that is not there.
const FIRST_RETRY: Duration = Duration::from_millis(10);
/// The longest pause between those retries.
const MAX_RETRY: Duration = Duration::from_millis(250);

/// The daemon's status, once it answers: asked again, with a growing
/// pause, while nothing listens on the socket. `Ok(None)` when `deadline`
/// passes with no daemon there; [`ClientError::Timeout`] when one is there
/// but does not answer in time.
async fn appeared(
    client: &Client,
    deadline: Instant,
) -> Result<Option<StatusResponse>, ClientError> {
    let mut pause = FIRST_RETRY;
    loop {
        match tokio::time::timeout_at(deadline, client.status()).await {
            Err(_) => {
                return Err(ClientError::Timeout {
                    socket: client.socket().to_owned(),
                    after: client.timeouts().1,
                });
            }
            Ok(Err(ClientError::NoDaemon { .. })) => {
                if Instant::now() + pause >= deadline {
                    tokio::time::sleep_until(deadline).await;
                    return Ok(None);
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY);
            }
            Ok(result) => return result.map(Some),
        }
    }
}

/// Whether the awaited connections are up (all, or any with `--any`).
fn holds(model: &Model, args: &WaitArgs) -> bool {
    let up = |name: &String| model.get(name).is_some_and(|row| row.is_up());
    if args.any {
        args.up.iter().any(up)
    } else {
        args.up.iter().all(up)
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn up_names<'a>(model: &Model, names: &'a [String]) -> Vec<&'a str> {
    names
        .iter()
        .filter(|n| model.get(n).is_some_and(|r| r.is_up()))
        .map(String::as_str)
        .collect()
}

/// `quotes is backoff (connection refused (attempt 3, next in 0.4s))`, for
/// each awaited connection that is not up.
fn not_up(model: &Model, names: &[String]) -> String {
    let now = now_ms();
    names
        .iter()
        .filter_map(|name| model.get(name))
        .filter(|row| !row.is_up())
        .map(|row| {
            let why = detail(row, model, now);
            if why.is_empty() {
                format!("`{}` is {}", row.name, row.state)
            } else {
                format!("`{}` is {} ({why})", row.name, row.state)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}
