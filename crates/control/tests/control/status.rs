//! `GET /v1/status`: field names and values.

use linesman_control::StatusResponse;
use linesman_ipc_codec::Frame;
use serde_json::Value;

use crate::support::{Daemon, PATIENCE};

/// Replaces what changes from run to run: times, ports, temp paths.
fn redact(status: &StatusResponse, dir: &str) -> Value {
    let mut value = serde_json::to_value(status).expect("serializable");
    for c in value["connections"].as_array_mut().expect("an array") {
        c["since_ms"] = Value::from("[since_ms]");
        for key in ["endpoint", "detail"] {
            let text = c[key].as_str().expect("a string").replace(dir, "[dir]");
            let text = match text.rfind(':') {
                Some(colon) if text[colon + 1..].chars().all(|ch| ch.is_ascii_digit()) => {
                    format!("{}:[port]", &text[..colon])
                }
                _ => text,
            };
            c[key] = Value::from(text);
        }
    }
    value
}

#[tokio::test]
async fn status_shows_every_connection_with_the_contract_fields() {
    let daemon = Daemon::start("control-status").await;
    // One request and its echoed reply through quotes, to count.
    let reply = daemon
        .quotes
        .request(Frame::new(7, "ping"), PATIENCE)
        .await
        .expect("the echo peer replies");
    assert_eq!(&reply.payload[..], b"ping");
    let status = daemon.client.status().await.expect("a status");

    let names: Vec<&str> = status.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["quotes", "orders", "audit"], "declaration order");
    let raw = serde_json::to_value(&status).expect("serializable");
    let first = raw["connections"][0].as_object().expect("an object");
    for field in [
        "name",
        "kind",
        "endpoint",
        "state",
        "since_ms",
        "restarts",
        "attempt",
        "next_retry_ms",
        "waiting_on",
        "last_error",
        "frames_in",
        "frames_out",
        "bytes_in",
        "bytes_out",
    ] {
        assert!(
            first.contains_key(field),
            "missing field {field}: {first:?}"
        );
    }
    assert_eq!(
        status.get("orders").expect("orders").endpoint,
        format!("unix://{}", daemon.dir.join("orders.sock").display())
    );

    let quotes = status.get("quotes").expect("quotes");
    assert_eq!((quotes.frames_out, quotes.frames_in), (1, 1));
    assert_eq!(
        (quotes.bytes_out, quotes.bytes_in),
        (20, 20),
        "16-byte header with id + 4"
    );

    let dir = daemon.dir.path().display().to_string();
    insta::assert_json_snapshot!("status_all_up", redact(&status, &dir));
    daemon.stop().await;
}

#[tokio::test]
async fn a_stopped_dependency_shows_its_dependent_waiting_on_it() {
    let daemon = Daemon::start("control-waiting").await;
    daemon.client.stop("orders").await.expect("orders stops");
    daemon
        .wait_for("audit waiting on orders", |s| {
            s.get("audit")
                .is_some_and(|a| a.state == linesman_control::State::Waiting)
        })
        .await;
    let status = daemon.client.status().await.expect("a status");
    let audit = status.get("audit").expect("audit");
    assert_eq!(audit.waiting_on, ["orders"]);
    assert_eq!(audit.detail, "waiting on orders");
    assert_eq!(audit.depends_on, ["quotes", "orders"]);
    let orders = status.get("orders").expect("orders");
    assert_eq!(orders.state, linesman_control::State::Stopped);
    assert_eq!(orders.next_retry_ms, None);
    assert!(!status.all_up());
    daemon.stop().await;
}
