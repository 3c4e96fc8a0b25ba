//! The live view shared by `status --watch` and `demo`: one `GET
//! /v1/status` for the picture, then `/v1/events` only — the model is
//! updated from each event, never by polling status again.
//!
//! On a terminal the screen is redrawn on every event and once a second (so
//! SINCE and "next in" move), with the latest events under the table.
//! Otherwise each event is printed as one line (or as JSON), which is what
//! scripts, logs and tests read.
//!
//! When every place the daemon gives event streams is taken (a `503`: a
//! crowd of watchers), [`open_stream`] asks for one again every
//! [`RETRY`], and meanwhile shows the status it reads then (redrawn on a
//! terminal; as lines or JSON, nothing: a stream's replay of every
//! connection's state comes first once it opens). A crowd delays a watch;
//! it does not fail it.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::io::{self, Write};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use linesman_control::{Client, ClientError, EventLine, EventStream, StatusResponse};

use crate::error::CliError;
use crate::error::is_closed_pipe;
use crate::view::fit::{cut_end, stdout_width};
use crate::view::model::Model;
use crate::view::table::Look;
use crate::view::time::now_ms;
use crate::view::{log, table};

/// How the live view prints.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Redraw the screen (stdout is a terminal) instead of printing lines.
    pub(crate) redraw: bool,
    /// Print each event as its JSON line (`status --watch -o json`).
    pub(crate) json: bool,
    /// Redraw the whole table, cutting nothing (`-o wide`); otherwise
    /// every line is fitted to the terminal's width.
    pub(crate) wide: bool,
    /// Lines above the table when redrawing (each fitted to the width).
    pub(crate) title: Option<String>,
    /// How many of the latest events to show under the table when
    /// redrawing (0: none).
    pub(crate) log_lines: usize,
    /// Follow only these connections (`status --watch NAME…`, a selector);
    /// `None`: every one. Events of the daemon itself are always shown.
    pub(crate) only: Option<HashSet<String>>,
}

impl Options {
    /// `status` with only the connections this view follows.
    pub(crate) fn cut(&self, mut status: StatusResponse) -> StatusResponse {
        if let Some(only) = &self.only {
            status.connections.retain(|c| only.contains(&c.name));
        }
        status
    }

    /// Whether `event` concerns a connection this view follows.
    fn follows(&self, event: &EventLine) -> bool {
        event.conn.is_empty()
            || self
                .only
                .as_ref()
                .is_none_or(|only| only.contains(&event.conn))
    }
}

/// How often [`open_stream`] asks again for an event stream the daemon
/// had no place for.
const RETRY: Duration = Duration::from_secs(1);

/// What [`open_stream`] ended with.
pub(crate) enum Opened {
    /// An event stream, and the status read last (cut to the view's
    /// connections), which the view starts from.
    Stream(StatusResponse, EventStream),
    /// `stop` resolved (or stdout was closed) before a stream could be
    /// had; the last picture.
    Stopped(Model),
}

/// Opens `client`'s event stream for [`follow`]. While the daemon has no
/// place for it (`503`), tells stderr once, then every [`RETRY`] reads the
/// status (shown when redrawing) and asks again, until a stream opens or
/// `stop` resolves. `status` is the picture so far, already cut to
/// `options.only`.
pub(crate) async fn open_stream(
    client: &Client,
    mut status: StatusResponse,
    options: &Options,
    stop: impl Future<Output = ()>,
) -> Result<Opened, CliError> {
    let mut told = false;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + RETRY, RETRY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        let refused = match client.events().await {
            Ok(events) => return Ok(Opened::Stream(status, events)),
            Err(ClientError::Api {
                status: 503,
                message,
                ..
            }) => message,
            Err(error) => return Err(error.into()),
        };
        if !std::mem::replace(&mut told, true) {
            // Lines and JSON are events only: nothing is printed until the
            // stream opens with every connection's state.
            let meanwhile = if options.redraw {
                "showing the status every second"
            } else {
                "asking again every second; the events begin with every connection's state"
            };
            crate::output::err(&format!(
                "linesman status --watch: no event stream yet ({}); {meanwhile} until the daemon has a place for one (changes in between are not listed)\n",
                crate::inert::one_line(&refused),
            ));
        }
        let model = Model::from_status(&status, now_ms());
        if options.redraw
            && let Err(error) = draw(&model, options, &VecDeque::new())
        {
            return stopped(model, error).map(|(model, _)| Opened::Stopped(model));
        }
        tokio::select! {
            () = &mut stop => return Ok(Opened::Stopped(model)),
            _ = tick.tick() => {}
        }
        match client.status().await {
            Ok(fresh) => status = options.cut(fresh),
            // Too busy to answer this time: the picture stays, and the
            // next look asks again.
            Err(ClientError::Api { status: 503, .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
}

/// Why the live view ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// `stop` resolved (Ctrl-C, the demo's duration) or stdout was closed.
    Stopped,
    /// The daemon ended the events stream (it shut down).
    DaemonGone,
}

/// Shows the daemon live, starting from `status` and following `events`
/// (both from the same daemon, `status` read first), until `stop` resolves
/// or the daemon goes away; returns the last picture and why it ended.
pub(crate) async fn follow(
    status: &StatusResponse,
    mut events: EventStream,
    options: &Options,
    stop: impl Future<Output = ()>,
) -> Result<(Model, End), CliError> {
    let mut model = Model::from_status(status, now_ms());
    let mut recent: VecDeque<String> = VecDeque::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    if options.redraw
        && let Err(error) = draw(&model, options, &recent)
    {
        return stopped(model, error);
    }
    loop {
        let printed = tokio::select! {
            () = &mut stop => return Ok((model, End::Stopped)),
            item = events.next() => {
                let event = match item {
                    None | Some(Err(ClientError::Http { .. })) => {
                        return Ok((model, End::DaemonGone));
                    }
                    Some(Err(error)) => return Err(error.into()),
                    Some(Ok(event)) if options.follows(&event) => event,
                    Some(Ok(_)) => continue,
                };
                if options.redraw {
                    // A burst (a shutdown, the replay) is drawn once, with
                    // every event of it applied and logged.
                    let mut burst = vec![event];
                    while let Some(Some(Ok(more))) = events.next().now_or_never() {
                        if options.follows(&more) {
                            burst.push(more);
                        }
                    }
                    for event in &burst {
                        model.apply(event);
                        recent.push_back(crate::inert::one_line(&log::line(event, name_width(&model))));
                    }
                    while recent.len() > options.log_lines {
                        recent.pop_front();
                    }
                    draw(&model, options, &recent)
                } else {
                    model.apply(&event);
                    if options.json {
                        let text = serde_json::to_string(&event)
                            .map_err(|e| CliError::io("encode an event as JSON", e.into()))?;
                        print_line(&crate::inert::json(&text))
                    } else {
                        print_line(&crate::inert::one_line(&log::line(&event, name_width(&model))))
                    }
                }
            },
            _ = tick.tick(), if options.redraw => draw(&model, options, &recent),
        };
        if let Err(error) = printed {
            return stopped(model, error);
        }
    }
}

/// The end of a view whose stdout failed: a closed pipe means nobody is
/// watching any more (a quiet stop); any other failure is an error.
fn stopped(model: Model, error: io::Error) -> Result<(Model, End), CliError> {
    if is_closed_pipe(&error) {
        Ok((model, End::Stopped))
    } else {
        Err(CliError::Output { source: error })
    }
}

/// The width of the longest connection name.
pub(crate) fn name_width(model: &Model) -> usize {
    model.rows.iter().map(|r| r.name.len()).max().unwrap_or(0)
}

fn print_line(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// Clears the terminal and draws the title, the table and the latest events.
fn draw(model: &Model, options: &Options, recent: &VecDeque<String>) -> io::Result<()> {
    let width = if options.wide { None } else { stdout_width() };
    let fitted = |line: &str| match width {
        Some(width) => cut_end(line, width),
        None => line.to_owned(),
    };
    let mut screen = String::from("\x1b[H\x1b[2J");
    if let Some(title) = &options.title {
        for line in title.lines() {
            screen.push_str(&fitted(&crate::inert::one_line(line)));
            screen.push('\n');
        }
        screen.push('\n');
    }
    let look = Look {
        colour: true,
        width,
    };
    screen.push_str(&table::render(model, now_ms(), look));
    if options.log_lines > 0 {
        screen.push_str("\nEVENTS\n");
        for line in recent {
            screen.push_str(&fitted(line));
            screen.push('\n');
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(screen.as_bytes())?;
    out.flush()
}
