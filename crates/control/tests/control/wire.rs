//! The JSON a real daemon sends survives the typed client unchanged: each
//! `/v1/status` body and `/v1/events` line, read raw off the socket, parsed
//! into the API types and written again, is the same text byte for byte (so
//! `status -o json` and `status --watch -o json` show what the daemon said).
//! The exact text of every event type is pinned in `tests/golden/`.

use linesman_control::{EventLine, StatusResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::support::{Daemon, patiently};

/// The body of a `content-length` response to `request`.
async fn body_of(daemon: &Daemon, request: &[u8]) -> Vec<u8> {
    let mut stream = UnixStream::connect(daemon.socket()).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut bytes = Vec::new();
    patiently("the whole status response", stream.read_to_end(&mut bytes))
        .await
        .expect("read");
    let at = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    bytes.split_off(at + 4)
}

/// The first `count` lines of `/v1/events`, de-chunked.
async fn event_lines(daemon: &Daemon, count: usize) -> Vec<String> {
    let mut stream = UnixStream::connect(daemon.socket()).await.expect("connect");
    stream
        .write_all(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    patiently("the replay lines", async {
        let mut chunk = [0; 4096];
        loop {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before {count} lines");
            raw.extend_from_slice(&chunk[..n]);
            if dechunk(&raw).lines().filter(|l| !l.is_empty()).count() >= count {
                return;
            }
        }
    })
    .await;
    dechunk(&raw)
        .lines()
        .filter(|l| !l.is_empty())
        .take(count)
        .map(str::to_owned)
        .collect()
}

/// The body of a chunked response, as far as whole chunks have arrived.
fn dechunk(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let Some((_, mut rest)) = text.split_once("\r\n\r\n") else {
        return String::new();
    };
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size + 2 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    body
}

#[tokio::test]
async fn the_daemons_json_round_trips_through_the_types_unchanged() {
    let daemon = Daemon::start("wire").await;
    let body = body_of(
        &daemon,
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let status: StatusResponse = serde_json::from_slice(&body).expect("a status");
    assert_eq!(status.connections.len(), 3);
    let again = serde_json::to_vec(&status).expect("JSON");
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&body)
    );
    for line in event_lines(&daemon, 3).await {
        let event: EventLine = serde_json::from_str(&line).expect("an event line");
        assert!(event.replay, "{line}");
        assert_eq!(serde_json::to_string(&event).expect("JSON"), line);
    }
    daemon.stop().await;
}
