//! The JSON of the API, byte for byte: a realistic `/v1/status` body and one
//! `/v1/events` line of every event type, made by the real conversion from
//! events published on a real bus and serialised as the server does, compared
//! with the checked-in text in `tests/golden/`. Field names, their order and
//! their absence when empty are the contract with scripts: a change of the
//! Rust types must not change a byte of these files.
//!
//! Only the times that depend on the clock are pinned (`at_ms` of an event,
//! `since_ms` and `next_retry_ms` of a status); everything else is what the
//! conversion makes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use linesman_connection::Counters;
use linesman_observer::{
    Backoff, Bus, ConnectFailed, Connected, Connecting, Disconnected, GaveUp, Interest, Lagged,
    ListenerRemoved, Reloaded, Started, Stopped, Stopping, Waiting,
};

use super::{Described, EventLines, connection_status};
use crate::api::StatusResponse;

/// The `at_ms` every golden event line is given.
const AT_MS: u64 = 1_700_000_000_000;

const REFUSED: &str = "connect failed: connect to tcp://127.0.0.1:7002 failed: 127.0.0.1:7002: Connection refused (os error 111); check that the peer is up and listening";

fn until() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(AT_MS + 250)
}

/// Where the text differs first, for a readable failure.
fn assert_same_text(got: &str, golden: &str, file: &str) {
    if got == golden {
        return;
    }
    let line = got
        .lines()
        .zip(golden.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| got.lines().count().min(golden.lines().count()));
    panic!(
        "the JSON differs from tests/golden/{file} at line {}:\n  got:    {}\n  golden: {}\n(the whole text made:)\n{got}",
        line + 1,
        got.lines().nth(line).unwrap_or("<end>"),
        golden.lines().nth(line).unwrap_or("<end>"),
    );
}

/// Publishes one event of every type (and the two ways a `gave_up` reads,
/// and a `disconnected` while stopping), then returns the server's lines
/// for them, plus the replay a late subscriber is sent first.
async fn event_lines(bus: &Bus) -> Vec<String> {
    let mut live = bus.subscribe(Interest::all());
    let quotes = bus.publisher("quotes").kind("feed").tags(["eu", "prod"]);
    let orders = bus.publisher("orders");
    let bus_itself = bus.publisher("");
    let published = [
        quotes.publish(Started {}),
        quotes.publish(Waiting {
            on: vec!["orders".into(), "audit".into()],
        }),
        quotes.publish(Connecting { attempt: 1 }),
        quotes.publish(ConnectFailed {
            error: REFUSED.into(),
            attempt: 1,
        }),
        quotes.publish(Backoff {
            attempt: 2,
            delay: Duration::from_millis(250),
            until: until(),
        }),
        quotes.publish(Connecting { attempt: 2 }),
        quotes.publish(Connected {
            peer: "127.0.0.1:7001".into(),
        }),
        quotes.publish(Disconnected {
            reason: "peer closed the connection".into(),
        }),
        quotes.publish(GaveUp {
            restarts: 10,
            window: Duration::from_secs(600),
            reason: None,
            last: Some("peer closed the connection".into()),
        }),
        orders.publish(GaveUp {
            restarts: 0,
            window: Duration::ZERO,
            reason: Some(
                "supervisor task panicked: boom; `linesman start orders` restarts it".into(),
            ),
            last: None,
        }),
        orders.publish(Started {}),
        orders.publish(Connected {
            peer: "/run/orders.sock".into(),
        }),
        orders.publish(Stopping {}),
        orders.publish(Disconnected {
            reason: "stopped".into(),
        }),
        orders.publish(Stopped {
            reason: "stopped by request".into(),
        }),
        bus_itself.publish(Lagged { missed: 3 }),
        bus_itself.publish(ListenerRemoved {
            listener: "audit-log".into(),
            panics: 5,
        }),
        bus_itself.publish(Reloaded {
            added: vec!["audit".into()],
            removed: vec!["legacy".into()],
            changed: vec!["quotes".into()],
        }),
    ];
    for seq in published {
        seq.expect("the bus is open");
    }
    let mut late = bus.subscribe(Interest::all());
    bus.close().await;
    let mut lines = EventLines::default();
    let mut out = Vec::new();
    let text = |mut line: crate::api::EventLine| {
        line.at_ms = AT_MS;
        serde_json::to_string(&line).expect("an event line is JSON")
    };
    while let Some(event) = live.next().await {
        let line = lines.line(&event, || bus.state(&event.conn).map(|s| s.state));
        out.push(text(line));
    }
    let replay = late.next().await.expect("the late subscriber's replay");
    assert!(replay.replay, "{replay:?}");
    let line = EventLines::default().line(&replay, || bus.state(&replay.conn).map(|s| s.state));
    out.push(text(line));
    out
}

#[tokio::test]
async fn event_lines_are_todays_json() {
    let bus = Bus::default();
    let mut got = event_lines(&bus).await.join("\n");
    got.push('\n');
    let golden = include_str!("../../tests/golden/events.jsonl");
    assert_same_text(&got, golden, "events.jsonl");
}

/// A status of five connections: up with traffic, in backoff, waiting,
/// failed, and declared but not started.
fn status(bus: &Bus) -> StatusResponse {
    let described = |name: &str, endpoint: &str| Described {
        name: name.to_owned(),
        endpoint: endpoint.to_owned(),
        ..Described::default()
    };
    let quotes = bus.publisher("quotes").kind("feed").tags(["eu"]);
    let orders = bus.publisher("orders").kind("feed");
    let audit = bus.publisher("audit");
    let flaky = bus.publisher("flaky");
    let published = [
        quotes.publish(Connecting { attempt: 1 }),
        quotes.publish(Connected {
            peer: "127.0.0.1:7001".into(),
        }),
        orders.publish(Connecting { attempt: 3 }),
        orders.publish(ConnectFailed {
            error: REFUSED.into(),
            attempt: 3,
        }),
        orders.publish(Backoff {
            attempt: 4,
            delay: Duration::from_millis(800),
            until: until(),
        }),
        audit.publish(Waiting {
            on: vec!["orders".into()],
        }),
        flaky.publish(Disconnected {
            reason: "peer closed the connection".into(),
        }),
        flaky.publish(GaveUp {
            restarts: 10,
            window: Duration::from_secs(600),
            reason: None,
            last: Some("peer closed the connection".into()),
        }),
    ];
    for seq in published {
        seq.expect("the bus is open");
    }
    let mut traffic = Counters::default();
    traffic.frames_in = 12;
    traffic.frames_out = 10;
    traffic.bytes_in = 480;
    traffic.bytes_out = 400;
    let mut connections = Vec::new();
    let entries = [
        (
            Described {
                kind: Some("feed".to_owned()),
                tags: vec!["eu".to_owned()],
                ..described("quotes", "tcp://127.0.0.1:7001")
            },
            traffic,
        ),
        (
            described("orders", "tcp://127.0.0.1:7002"),
            Counters::default(),
        ),
        (
            Described {
                depends_on: vec!["quotes".to_owned(), "orders".to_owned()],
                rule: Some("all(up quotes, up orders)".to_owned()),
                ..described("audit", "unix:///run/audit.sock")
            },
            Counters::default(),
        ),
        (
            described("flaky", "tcp://127.0.0.1:7004"),
            Counters::default(),
        ),
        (
            described("spare", "tcp://127.0.0.1:7005"),
            Counters::default(),
        ),
    ];
    for (described, counters) in entries {
        let record = bus.state(&described.name);
        let now = record
            .as_ref()
            .map_or_else(SystemTime::now, |r| r.since + Duration::from_millis(1500));
        let mut line = connection_status(&described, record.as_ref(), &counters, now);
        if line.next_retry_ms.is_some() {
            line.next_retry_ms = Some(400);
        }
        connections.push(line);
    }
    StatusResponse { connections }
}

#[test]
fn a_status_is_todays_json() {
    let bus = Bus::default();
    let mut got = serde_json::to_string_pretty(&status(&bus)).expect("a status is JSON");
    got.push('\n');
    let golden = include_str!("../../tests/golden/status.json");
    assert_same_text(&got, golden, "status.json");
}

#[test]
fn every_golden_line_reads_back_as_itself() {
    let golden = include_str!("../../tests/golden/events.jsonl");
    for text in golden.lines() {
        let line: crate::api::EventLine = serde_json::from_str(text).expect("a golden line reads");
        assert!(
            !matches!(line.what, crate::api::What::Unknown { .. }),
            "{text}"
        );
        let again = serde_json::to_string(&line).expect("an event line is JSON");
        assert_eq!(again, text);
    }
    let status: StatusResponse =
        serde_json::from_str(include_str!("../../tests/golden/status.json")).expect("reads");
    let mut again = serde_json::to_string_pretty(&status).expect("JSON");
    again.push('\n');
    assert_same_text(
        &again,
        include_str!("../../tests/golden/status.json"),
        "status.json",
    );
}
