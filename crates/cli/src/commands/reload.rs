//! `linesman reload`: `POST /v1/reload`, which makes the daemon read the
//! file it was started with again and apply it, then a summary of what it
//! did: `reloaded: 1 added (x), 1 removed (y), 1 changed (z), 4 unchanged`,
//! and a `needs a restart of the daemon: …` line for each daemon-wide
//! setting that changed but cannot change live.
//!
//! A file with errors changes nothing: its problems, rendered as `check`
//! shows them, go to stderr and the exit is 2 (as `check`'s for an invalid
//! file). A reload while another is in progress is refused by the daemon:
//! exit 1, saying so. `--json` prints the daemon's answer as it is, on
//! stdout, in both cases; `--timeout` bounds the wait for it.

use linesman_control::{ClientError, ReloadResponse};

use crate::cli::ReloadArgs;
use crate::commands::client;
use crate::error::CliError;
use crate::exit::Code;
use crate::output;

/// Asks the daemon to reload and prints what it did.
pub(crate) async fn reload(args: ReloadArgs) -> Result<Code, CliError> {
    let client = client(&args.daemon)?.response_timeout(args.timeout);
    let response = match client.reload().await {
        Ok(response) => response,
        Err(ClientError::Api {
            status: 409,
            message,
            ..
        }) => {
            return Err(CliError::Refused {
                message: format!(
                    "the daemon on {} is reloading already ({message}); nothing was done: run `linesman reload` again when it has finished",
                    client.socket().display()
                ),
            });
        }
        Err(other) => return Err(other.into()),
    };
    let code = if response.ok { Code::Ok } else { Code::Invalid };
    if args.json {
        let text = serde_json::to_string_pretty(&response).map_err(|e| CliError::Usage {
            message: format!("cannot write the daemon's answer as JSON: {e}"),
        })?;
        output::json_line(&text)?;
    } else if response.ok {
        output::out(&summary(&response))?;
    } else {
        output::err(&refused(&response));
    }
    Ok(code)
}

/// The summary of an applied reload: one line, then a line for each
/// setting that needs a restart of the daemon.
fn summary(response: &ReloadResponse) -> String {
    let part = |count_word: &str, names: &[String]| {
        if names.is_empty() {
            format!("0 {count_word}")
        } else {
            format!("{} {count_word} ({})", names.len(), names.join(", "))
        }
    };
    let mut text = format!(
        "reloaded: {}, {}, {}, {} unchanged\n",
        part("added", &response.added),
        part("removed", &response.removed),
        part("changed", &response.changed),
        response.unchanged.len()
    );
    for setting in &response.needs_restart {
        text.push_str(&format!("needs a restart of the daemon: {setting}\n"));
    }
    text
}

/// A refused file: its problems as `check` renders them (the plain list
/// when the daemon sent no rendering), and that nothing changed.
fn refused(response: &ReloadResponse) -> String {
    let mut text = if response.rendered.is_empty() {
        response
            .errors
            .iter()
            .map(|line| format!("{line}\n"))
            .collect()
    } else {
        response.rendered.clone()
    };
    text.push_str(&format!(
        "linesman: error: reload refused: {} has errors; the daemon changed nothing and runs as before\n",
        response.file
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|&name| name.to_owned()).collect()
    }

    #[test]
    fn the_summary_counts_each_list_and_names_what_moved() {
        let response = ReloadResponse {
            ok: true,
            added: names(&["x"]),
            removed: names(&["y"]),
            changed: names(&["z"]),
            unchanged: names(&["a", "b", "c", "d"]),
            needs_restart: names(&["control.socket (/b.sock, serving /a.sock)"]),
            ..ReloadResponse::default()
        };
        assert_eq!(
            summary(&response),
            "reloaded: 1 added (x), 1 removed (y), 1 changed (z), 4 unchanged\n\
             needs a restart of the daemon: control.socket (/b.sock, serving /a.sock)\n"
        );
        let nothing = ReloadResponse {
            ok: true,
            unchanged: names(&["a"]),
            ..ReloadResponse::default()
        };
        assert_eq!(
            summary(&nothing),
            "reloaded: 0 added, 0 removed, 0 changed, 1 unchanged\n"
        );
    }

    #[test]
    fn a_refused_file_shows_its_problems_and_that_nothing_changed() {
        let response = ReloadResponse {
            file: "/etc/l.yaml".to_owned(),
            errors: names(&["/etc/l.yaml:3:5: unknown field"]),
            ..ReloadResponse::default()
        };
        let text = refused(&response);
        assert!(
            text.starts_with("/etc/l.yaml:3:5: unknown field\n"),
            "{text}"
        );
        assert!(text.contains("changed nothing"), "{text}");
    }
}
