//! How a command that waits for connections to change (`start`, `stop`,
//! `restart`, `wait`) follows them: on the daemon's event stream, or, when
//! every place the daemon gives event streams is taken (a `503` for the
//! stream: many `linesman events` or `status --watch` at once), on its
//! status, asked every [`POLL`]. The places kept from streams are for
//! exactly such commands, so a crowd of watchers slows them a little and
//! never fails them.

use std::time::Duration;

use futures_util::StreamExt;
use linesman_control::{Client, ClientError, EventLine, EventStream, StatusResponse};

/// How often the status is asked for when no event stream could be had.
const POLL: Duration = Duration::from_millis(200);

/// Where the changes come from.
pub(crate) enum Follow {
    /// The event stream, opened before the command's requests, so no event
    /// they cause is missed.
    Events(EventStream),
    /// The status, asked every [`POLL`].
    Polling(Client, tokio::time::Interval),
}

/// One thing a [`Follow`] saw.
pub(crate) enum Seen {
    /// An event line.
    Event(EventLine),
    /// The whole status, and when it was asked for (milliseconds since the
    /// epoch, by this machine's clock, which is the daemon's): its
    /// `since_ms` count back from a moment no earlier than that.
    Status(StatusResponse, u64),
}

impl Follow {
    /// Opens the event stream, or falls back to polling when the daemon has
    /// no place for one.
    pub(crate) async fn start(client: &Client) -> Result<Follow, ClientError> {
        match client.events().await {
            Ok(events) => Ok(Follow::Events(events)),
            Err(ClientError::Api { status: 503, .. }) => {
                let mut ticks = tokio::time::interval(POLL);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                Ok(Follow::Polling(client.clone(), ticks))
            }
            Err(error) => Err(error),
        }
    }

    /// The next thing seen; `None` when the event stream ended. A status
    /// the daemon was too busy to give (`503`) is asked for again at the
    /// next tick.
    pub(crate) async fn next(&mut self) -> Option<Result<Seen, ClientError>> {
        match self {
            Follow::Events(events) => events.next().await.map(|item| item.map(Seen::Event)),
            Follow::Polling(client, ticks) => loop {
                ticks.tick().await;
                let asked_ms = crate::view::time::now_ms();
                match client.status().await {
                    Ok(status) => return Some(Ok(Seen::Status(status, asked_ms))),
                    Err(ClientError::Api { status: 503, .. }) => {}
                    Err(error) => return Some(Err(error)),
                }
            },
        }
    }
}
