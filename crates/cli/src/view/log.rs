//! Event log lines: one per event of `/v1/events`, as the demo and
//! `status --watch` print them — `22:14:03.512  quotes  up  connected to
//! 127.0.0.1:7001` (UTC clock time, connection, state after, what happened).

use linesman_control::{EventLine, State};

use crate::view::detail::short;
use crate::view::time::clock;

/// The log line of `event`, its connection name padded to `name_width`.
/// Restatements of the current state (`replay`) end with `(current)`.
pub(crate) fn line(event: &EventLine, name_width: usize) -> String {
    let conn = if event.conn.is_empty() {
        "(bus)"
    } else {
        event.conn.as_str()
    };
    let state = event.state.map_or("-", State::as_str);
    let mut text = format!(
        "{}  {conn:<name_width$}  {state:<10}  {}",
        clock(event.at_ms),
        words(event)
    );
    if event.replay {
        text.push_str(" (current)");
    }
    text
}

/// What happened: the daemon's words with connect failures cut to their
/// cause.
fn words(event: &EventLine) -> String {
    short(&event.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::model::tests::event;
    use linesman_control::What;

    #[test]
    fn a_line_has_clock_name_state_and_words() {
        let peer = What::Connected {
            peer: "127.0.0.1:7001".to_owned(),
        };
        let mut connected = event("quotes", peer, Some(State::Up), 1_704_147_243_512);
        connected.message = "connected to 127.0.0.1:7001".to_owned();
        assert_eq!(
            line(&connected, 8),
            "22:14:03.512  quotes    up          connected to 127.0.0.1:7001"
        );
        connected.replay = true;
        assert!(line(&connected, 0).ends_with("127.0.0.1:7001 (current)"));
        let mut lagged = event("", What::Lagged { missed: 3 }, None, 0);
        lagged.message = "lagged: missed 3 events".to_owned();
        assert_eq!(
            line(&lagged, 0),
            "00:00:00.000  (bus)  -           lagged: missed 3 events"
        );
    }
}
