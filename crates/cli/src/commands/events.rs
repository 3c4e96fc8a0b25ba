//! `linesman events [--conn NAME…] [--kind KIND…] [--tag TAG…] [--type
//! TYPE…] [--since SEQ]`: the daemon's events as JSON lines (those of
//! `GET /v1/events`), for scripts and log shippers, until Ctrl-C (exit 0)
//! or the daemon stops (exit 1). A script that keeps the last `seq` it
//! read and runs again with `--since SEQ` misses nothing, or reads a
//! `gap` line first when the daemon no longer keeps those events.
//!
//! Exit 2 for a filter the daemon refuses (an unknown event type), 6 for
//! an unknown connection name.

use futures_util::StreamExt;
use linesman_control::{ClientError, EventFilter};

use crate::cli::EventsArgs;
use crate::commands::client;
use crate::error::CliError;
use crate::exit::Code;
use crate::output;

/// Follows the events and prints each as one JSON line.
pub(crate) async fn events(args: EventsArgs) -> Result<Code, CliError> {
    let client = client(&args.daemon)?;
    let mut filter = EventFilter::default();
    filter.conns = args.conn;
    filter.kinds = args.kind;
    filter.tags = args.tag;
    filter.types = args.types;
    filter.since = args.since;
    let mut events = client.events_with(&filter).await?;
    let ctrl_c = async {
        // If Ctrl-C cannot be listened for, the daemon's end still ends it.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(ctrl_c);
    loop {
        let item = tokio::select! {
            () = &mut ctrl_c => return Ok(Code::Ok),
            item = events.next() => item,
        };
        let event = match item {
            None | Some(Err(ClientError::Http { .. })) => {
                output::err(&format!(
                    "linesman: the daemon on {} ended the event stream (it shut down, or cut this client off: its log says which)\n",
                    client.socket().display()
                ));
                return Ok(Code::Failure);
            }
            Some(Err(error)) => return Err(error.into()),
            Some(Ok(event)) => event,
        };
        let text = serde_json::to_string(&event)
            .map_err(|e| CliError::io("encode an event as JSON", e.into()))?;
        output::json_line(&text)?;
    }
}
