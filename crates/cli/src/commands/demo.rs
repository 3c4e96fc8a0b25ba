//! `linesman demo [--duration DUR] [--socket PATH]`: local peers that
//! misbehave on a schedule (see `demo/peers.rs`), supervised with the
//! embedded `demo.yaml`, served on the control socket like `linesman run`,
//! and shown live — a redrawn table with the latest events on a terminal,
//! the event log line by line otherwise. Ends on Ctrl-C (SIGINT/SIGTERM) or
//! after `--duration`, exit 0.
//!
//! The view uses the control API like any client (one status, then the
//! events stream), subscribed before the supervisor starts, so the log
//! begins with the very first event.

use std::io::{IsTerminal, Write};
use std::path::Path;

use linesman_control::Client;

use crate::cli::{DemoArgs, LogFormat};
use crate::daemon::{Daemon, Signals};
use crate::demo::{self, peers::Peers};
use crate::error::CliError;
use crate::exit::Code;
use crate::view::watch::{self, Options};
use crate::{logging, socket};

/// Runs the demo until Ctrl-C or the end of `--duration`.
pub(crate) async fn demo(args: DemoArgs) -> Result<Code, CliError> {
    // Logs would scribble over the live view: errors only, unless RUST_LOG says otherwise.
    logging::init(LogFormat::Pretty, "error");
    let socket = socket::resolve(args.socket.as_deref(), None);
    let peers = Peers::start().await?;
    let result = supervise(&peers, &socket, &args).await;
    peers.stop().await;
    result
}

async fn supervise(peers: &Peers, socket: &Path, args: &DemoArgs) -> Result<Code, CliError> {
    let config =
        linesman_config::parse_with_env(demo::YAML_NAME, demo::YAML, &|name| peers.env(name))?;
    let daemon = Daemon::bind(config.spec.clone(), socket, None)?;
    let control = daemon.control();
    let redraw = std::io::stdout().is_terminal();
    let hint = status_hint(args.socket.as_deref(), socket);
    let title = if redraw {
        // The legend above the live table, in 80 columns: the table shows
        // the endpoints.
        let mut title = format!(
            "linesman demo: control socket {}; Ctrl-C ends it\ntry `{hint}` in another terminal",
            socket.display()
        );
        for (name, role) in demo::peers::ROLES {
            title.push_str(&format!("\n  {name:<13}  {role}"));
        }
        title
    } else {
        let title = format!(
            "linesman demo: control socket {}; try `{hint}` in another terminal; Ctrl-C ends it",
            socket.display()
        );
        say(&title);
        for (name, role) in demo::peers::ROLES {
            let endpoint = config
                .spec
                .get(name)
                .map(|s| s.connection.target.to_string())
                .unwrap_or_default();
            say(&format!("  {name:<13}  {endpoint}  {role}"));
        }
        title
    };
    let client = Client::new(socket);
    let status = client.status().await?;
    let events = client.events().await?;
    let counters: Vec<_> = config
        .spec
        .connections()
        .iter()
        .filter_map(|s| daemon.handle(&s.connection.name))
        .collect();
    let running = tokio::spawn(daemon.run(Signals::listen()?));
    if let Some(duration) = args.duration {
        let control = control.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            control.shutdown();
        });
    }
    let options = Options {
        redraw,
        json: false,
        wide: false,
        title: Some(title),
        // 80x24: 2 title lines, 4 of legend, a blank, the table's 5, a
        // blank, EVENTS and these, and the cursor's line.
        log_lines: 9,
        only: None,
    };
    // The view ends when the daemon ends its event stream, after the shutdown.
    let viewed = watch::follow(&status, events, &options, std::future::pending()).await;
    if viewed.is_err() {
        control.shutdown();
    }
    let ran = running
        .await
        .map_err(|e| CliError::io("finish the demo's supervisor", std::io::Error::other(e)))?;
    ran?;
    viewed?;
    let frames: Vec<String> = counters
        .iter()
        .map(|handle| format!("{} {}", handle.name(), handle.counters().frames_in))
        .collect();
    say(&format!(
        "demo over; frames received: {}",
        frames.join(", ")
    ));
    Ok(Code::Ok)
}

/// Prints `line` to stdout. A closed stdout (`linesman demo | head`) is not
/// an error here: the live view notices it and ends the demo; `println!`
/// would panic.
fn say(line: &str) {
    // The line names the socket path, which may come from outside.
    let line = crate::inert::one_line(line);
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The command that shows the demo's status from another terminal.
fn status_hint(flag: Option<&Path>, socket: &Path) -> String {
    if flag.is_some() {
        format!("linesman status --socket {}", socket.display())
    } else {
        "linesman status".to_owned()
    }
}
