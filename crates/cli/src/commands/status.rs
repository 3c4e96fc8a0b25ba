//! `linesman status [NAME…|--kind KIND|--tag TAG|--all] [-o table|wide|json]
//! [--watch]`: every connection's state, or that of those named or
//! selected (in the JSON too: the `connections` array holds only them).
//!
//! Exit 0 when every connection shown is up, 3 when some are not, 1 when
//! no daemon answers, 6 for an unknown name or a selector that picks none.
//! `--watch` follows `/v1/events` (see `view/watch.rs`; while every place
//! for a stream is taken, the status every second)
//! until Ctrl-C (then the same codes) or until the daemon stops (1).

use std::collections::HashSet;
use std::io::IsTerminal;

use linesman_control::{Client, StatusResponse};

use crate::cli::{Output, StatusArgs};
use crate::commands::{client, select};
use crate::error::CliError;
use crate::exit::Code;
use crate::output;
use crate::view::fit;
use crate::view::model::Model;
use crate::view::table::{self, Look};
use crate::view::time::now_ms;
use crate::view::watch::{self, End, Opened, Options};

/// Prints the status once, or follows it with `--watch`.
pub(crate) async fn status(args: StatusArgs) -> Result<Code, CliError> {
    let client = client(&args.daemon)?;
    let mut status = client.status().await?;
    let only = if args.selection.is_empty() {
        None
    } else {
        let names = select::resolve(&status, &args.selection)?;
        status.connections = names
            .iter()
            .filter_map(|name| status.get(name).cloned())
            .collect();
        Some(names.into_iter().collect())
    };
    if args.watch {
        return follow(&client, status, only, args.output).await;
    }
    match args.output {
        Output::Json => {
            let text = serde_json::to_string_pretty(&status)
                .map_err(|e| CliError::io("encode the status as JSON", e.into()))?;
            output::json_line(&text)?;
        }
        Output::Table | Output::Wide => {
            let now = now_ms();
            let look = Look {
                colour: std::io::stdout().is_terminal(),
                width: match args.output {
                    Output::Wide => None,
                    _ => fit::stdout_width(),
                },
            };
            output::out(&table::render(&Model::from_status(&status, now), now, look))?;
        }
    }
    Ok(shown_code(status.all_up()))
}

/// The exit code of a status shown: 0 when every connection shown is up,
/// 3 when some are not.
fn shown_code(all_up: bool) -> Code {
    if all_up { Code::Ok } else { Code::NotUp }
}

/// Follows the daemon's events from `status` (already cut to the
/// selection, whose names are `only`).
async fn follow(
    client: &Client,
    status: StatusResponse,
    only: Option<HashSet<String>>,
    output: Output,
) -> Result<Code, CliError> {
    let options = Options {
        redraw: std::io::stdout().is_terminal() && output != Output::Json,
        json: output == Output::Json,
        wide: output == Output::Wide,
        title: Some(format!(
            "linesman status --watch: {} (Ctrl-C to stop)",
            client.socket().display()
        )),
        log_lines: 10,
        only,
    };
    let ctrl_c = async {
        // If Ctrl-C cannot be listened for, the daemon's end still ends the watch.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(ctrl_c);
    let (status, events) = match watch::open_stream(client, status, &options, &mut ctrl_c).await? {
        Opened::Stream(status, events) => (status, events),
        Opened::Stopped(model) => return Ok(shown_code(model.all_up())),
    };
    let (model, end) = watch::follow(&status, events, &options, ctrl_c).await?;
    match end {
        End::DaemonGone => {
            output::err(&format!(
                "linesman: the daemon on {} ended the event stream (it shut down, or cut this client off: its log says which)\n",
                client.socket().display()
            ));
            Ok(Code::Failure)
        }
        End::Stopped => Ok(shown_code(model.all_up())),
    }
}
