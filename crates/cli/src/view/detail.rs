//! The DETAIL column: why a connection is in its state, with the times
//! computed at the moment of drawing — `waiting on orders (backoff, attempt
//! 4, next in 3.2s)`, `connection refused (attempt 4, next in 3.2s)`,
//! `connected to 127.0.0.1:7001`, `stopped: asked`.

use linesman_control::State;

use crate::view::model::{Model, Row};
use crate::view::time::age;

/// Why `row` is in its state, at `now_ms`; what it waits on is described
/// with `model`'s rows.
pub(crate) fn detail(row: &Row, model: &Model, now_ms: u64) -> String {
    match row.state {
        State::Waiting if !row.waiting_on.is_empty() => {
            let on: Vec<String> = row
                .waiting_on
                .iter()
                .map(|name| match model.get(name) {
                    Some(other) => format!("{name} ({})", brief(other, now_ms)),
                    None => name.clone(),
                })
                .collect();
            format!("waiting on {}", on.join(", "))
        }
        State::Backoff => {
            let plan = plan(row, now_ms);
            match &row.last_error {
                Some(error) => format!("{} ({plan})", short(error)),
                None => plan,
            }
        }
        State::Connecting => match &row.last_error {
            Some(error) if row.attempt > 1 => {
                format!("attempt {}, last error: {}", row.attempt, short(error))
            }
            _ => format!("attempt {}", row.attempt.max(1)),
        },
        // A `gave_up` event says how many restarts, not why: name the last
        // error too, unless the daemon's detail already does.
        State::Failed => match &row.last_error {
            // "; last error:" is what an older daemon wrote.
            Some(error) if !row.note.contains("; last: ") && !row.note.contains("last error:") => {
                format!("{}; last: {}", short(&row.note), short(error))
            }
            _ => short(&row.note),
        },
        State::Waiting | State::Up | State::Stopped => short(&row.note),
    }
}

/// The common connect failures, as the OS words them, and how DETAIL says
/// them.
const CAUSES: [(&str, &str); 12] = [
    // A Unix endpoint's path that holds no socket (the stream says which).
    (
        "not a socket but a regular file",
        "not a socket: a regular file",
    ),
    ("not a socket but a directory", "not a socket: a directory"),
    ("not a socket but a FIFO", "not a socket: a FIFO"),
    (
        "not a socket but a character device",
        "not a socket: a character device",
    ),
    (
        "not a socket but a block device",
        "not a socket: a block device",
    ),
    ("Connection refused", "connection refused"),
    ("No such file or directory", "no such socket file"),
    ("timed out", "connect timed out"),
    ("Permission denied", "permission denied"),
    ("Network is unreachable", "network unreachable"),
    ("No route to host", "no route to host"),
    ("resolve ", "cannot resolve the host name"),
];

/// `text` with a connect failure's long explanation (`connect failed:
/// connect to tcp://… failed: …: Connection refused (os error 111); check
/// that …`) cut down to its cause (`connection refused`); anything else as
/// it is. The full text stays in `-o json`'s `last_error`.
pub(crate) fn short(text: &str) -> String {
    const MARK: &str = "connect failed: ";
    let Some(at) = text.find(MARK) else {
        return text.to_owned();
    };
    let tail = &text[at + MARK.len()..];
    match CAUSES.iter().find(|(os, _)| tail.contains(os)) {
        Some((_, cause)) => format!("{}{cause}", &text[..at]),
        None => text.to_owned(),
    }
}

/// The state in a few words: `up`, `connecting, attempt 2`, `backoff,
/// attempt 4, next in 3.2s`, `stopped`…
pub(crate) fn brief(row: &Row, now_ms: u64) -> String {
    match row.state {
        State::Connecting => format!("connecting, attempt {}", row.attempt.max(1)),
        State::Backoff => format!("backoff, {}", plan(row, now_ms)),
        State::Waiting | State::Up | State::Stopped | State::Failed => row.state.to_string(),
    }
}

/// `attempt 4, next in 3.2s` (or just `attempt 4` before the delay is known).
fn plan(row: &Row, now_ms: u64) -> String {
    match row.retry_at_ms {
        Some(at) => format!(
            "attempt {}, next in {}",
            row.attempt,
            age(at.saturating_sub(now_ms))
        ),
        None => format!("attempt {}", row.attempt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::model::tests::status;
    use linesman_control::StatusResponse;

    fn model() -> Model {
        let mut orders = status("orders", State::Backoff);
        orders.attempt = 4;
        orders.next_retry_ms = Some(3_250);
        orders.last_error = Some(
            "connect failed: connect to tcp://127.0.0.1:1 failed: 127.0.0.1:1: Connection refused (os error 111); check that the peer is up and listening".to_owned(),
        );
        let mut hw = status("hw", State::Waiting);
        hw.waiting_on = vec!["orders".to_owned(), "gone".to_owned()];
        let mut up = status("quotes", State::Up);
        up.detail = "connected to 127.0.0.1:7001".to_owned();
        let mut connecting = status("audit", State::Connecting);
        connecting.attempt = 2;
        connecting.last_error = Some("timed out".to_owned());
        Model::from_status(
            &StatusResponse {
                connections: vec![orders, hw, up, connecting],
            },
            100_000,
        )
    }

    #[test]
    fn detail_says_why_with_times_of_now() {
        let model = model();
        let text = |name: &str| detail(model.get(name).expect("in the model"), &model, 100_000);
        assert_eq!(
            text("orders"),
            "connection refused (attempt 4, next in 3.2s)"
        );
        assert_eq!(
            text("hw"),
            "waiting on orders (backoff, attempt 4, next in 3.2s), gone"
        );
        assert_eq!(text("quotes"), "connected to 127.0.0.1:7001");
        assert_eq!(text("audit"), "attempt 2, last error: timed out");
        let later = detail(model.get("orders").expect("in the model"), &model, 102_000);
        assert_eq!(later, "connection refused (attempt 4, next in 1.2s)");
    }

    #[test]
    fn a_path_that_holds_no_socket_is_said_so_not_refused() {
        let text = "connect failed: connect to unix:///run/x.sock failed: /run/x.sock: not a socket but a directory, so nothing can listen there; check the endpoint's path; check that the peer is up and listening";
        assert_eq!(short(text), "not a socket: a directory");
    }

    #[test]
    fn a_failed_connection_names_its_last_error_once() {
        let mut failed = status("feed", State::Failed);
        failed.detail = "gave up after 10 restarts within 10m".to_owned();
        failed.last_error = Some("peer closed the connection".to_owned());
        let model = Model::from_status(
            &StatusResponse {
                connections: vec![failed.clone()],
            },
            100_000,
        );
        let row = model.get("feed").expect("in the model");
        assert_eq!(
            detail(row, &model, 100_000),
            "gave up after 10 restarts within 10m; last: peer closed the connection"
        );
        // The daemon's detail already names it: not twice.
        failed.detail =
            "gave up after 10 restarts within 10m; last: peer closed the connection".to_owned();
        let model = Model::from_status(
            &StatusResponse {
                connections: vec![failed],
            },
            100_000,
        );
        let row = model.get("feed").expect("in the model");
        assert_eq!(
            detail(row, &model, 100_000),
            "gave up after 10 restarts within 10m; last: peer closed the connection"
        );
    }

    #[test]
    fn connect_failures_are_cut_to_their_cause() {
        assert_eq!(
            short(
                "stopped: policy never: connect failed: connect to unix:///x failed: /x: No such file or directory (os error 2); check it"
            ),
            "stopped: policy never: no such socket file"
        );
        assert_eq!(
            short(
                "connect failed (attempt 2): connect failed: connect to tcp://h:1 timed out: 10.0.0.1:1; raise connect_timeout"
            ),
            "connect failed (attempt 2): connect timed out"
        );
        assert_eq!(
            short("peer closed the connection"),
            "peer closed the connection"
        );
        assert_eq!(
            short("connect failed: something new"),
            "connect failed: something new"
        );
    }
}
