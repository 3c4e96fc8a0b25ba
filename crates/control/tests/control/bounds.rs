//! The server's bounds, each tested by the client that would break it:
//! half a request head, an idle kept-alive connection, one connection too
//! many, a watcher that never reads, a watcher that keeps falling behind,
//! a quiet stream, event streams that would take every connection, and a
//! shutdown with all of them still open. On paused
//! time: the timeouts pass as soon as nothing else can happen.

use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use linesman_control::{Client, ClientError, ControlServer, ControlState, ServerOptions};
use linesman_observer::{BusOptions, Connecting};
use linesman_testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::support::{idle_state, idle_state_with, many_state, patiently};

const STATUS: &[u8] = b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n";
const EVENTS: &[u8] = b"GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n";

async fn connect(socket: &Path, request: &[u8]) -> UnixStream {
    let mut stream = UnixStream::connect(socket).await.expect("connect");
    stream.write_all(request).await.expect("write");
    stream
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed(stream: &mut UnixStream) -> String {
    let mut bytes = Vec::new();
    patiently("the server to close the connection", async {
        let mut chunk = [0; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => return,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(error) if error.kind() == ErrorKind::ConnectionReset => return,
                Err(error) => panic!("read: {error}"),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads one response whose body has a `content-length`.
async fn one_response(stream: &mut UnixStream) -> String {
    let mut text = String::new();
    patiently("a whole response", async {
        let mut chunk = [0; 4096];
        loop {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before a whole response: {text}");
            text.push_str(&String::from_utf8_lossy(&chunk[..n]));
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|n| n.parse::<usize>().ok())
                    .expect("a content-length");
                if body.len() >= length {
                    return;
                }
            }
        }
    })
    .await;
    text
}

/// How many of `clients` the server closed without an answer (each is
/// looked at for 100 ms; one still open is not).
async fn closed_unanswered(clients: &mut [UnixStream]) -> usize {
    let mut closed = 0;
    for stream in clients {
        let mut byte = [0; 1];
        if let Ok(read) =
            tokio::time::timeout(Duration::from_millis(100), stream.read(&mut byte)).await
        {
            assert!(
                matches!(read, Ok(0)) || read.is_err(),
                "closed without an answer: {read:?}"
            );
            closed += 1;
        }
    }
    closed
}

fn serve(
    dir: &TempDir,
    state: ControlState,
    options: ServerOptions,
) -> linesman_control::ServerHandle {
    ControlServer::bind(dir.join("control.sock"), state)
        .expect("binds")
        .with_options(options)
        .spawn()
}

#[tokio::test(start_paused = true)]
async fn half_a_request_head_is_closed_after_the_header_timeout() {
    let dir = TempDir::new("bounds-head").expect("a temp dir");
    let server = serve(&dir, idle_state(), ServerOptions::default());
    let mut half = connect(server.path(), b"GET /v1/status HTTP/1.1\r\nHost: x\r\n").await;
    until_closed(&mut half).await;
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn an_idle_kept_alive_connection_is_closed() {
    let dir = TempDir::new("bounds-idle").expect("a temp dir");
    let server = serve(&dir, idle_state(), ServerOptions::default());
    let mut client = connect(server.path(), STATUS).await;
    let response = one_response(&mut client).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // Kept alive, then idle: closed after the header timeout.
    assert_eq!(until_closed(&mut client).await, "");
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn one_connection_over_the_limit_gets_a_503_that_says_so() {
    let dir = TempDir::new("bounds-limit").expect("a temp dir");
    let server = serve(
        &dir,
        idle_state(),
        ServerOptions::default().max_connections(1),
    );
    let client = Client::new(server.path());
    // With one connection in all, none is kept from streams.
    let first = client.events().await.expect("the first is served");
    match client.status().await {
        Err(ClientError::Api {
            status: 503,
            message,
            ..
        }) => assert!(
            message.contains("daemon busy: too many control connections (1)"),
            "{message}"
        ),
        other => panic!("expected a 503, got {other:?}"),
    }
    drop(first);
    patiently("a place to free up", async {
        while client.status().await.is_err() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn every_client_of_a_burst_over_the_limit_gets_its_503() {
    let dir = TempDir::new("bounds-burst").expect("a temp dir");
    let server = serve(
        &dir,
        idle_state(),
        // One connection: none kept from streams, so every refusal is the
        // connection limit's.
        ServerOptions::default().max_connections(1),
    );
    let mut clients = Vec::new();
    for _ in 0..100 {
        clients.push(connect(server.path(), EVENTS).await);
    }
    let mut answers = Vec::new();
    for client in &mut clients {
        let mut head = [0; 12];
        let answer = patiently("an answer", client.read_exact(&mut head)).await;
        answers.push(answer.map(|_| String::from_utf8_lossy(&head).into_owned()));
    }
    let served = answers
        .iter()
        .filter(|a| a.as_ref().is_ok_and(|h| h == "HTTP/1.1 200"))
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.as_ref().is_ok_and(|h| h == "HTTP/1.1 503"))
        .count();
    assert_eq!((served, refused), (1, 99), "{answers:?}");
    drop(clients);
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn event_streams_leave_a_quarter_of_the_connections_to_status_and_actions() {
    // A quiet stream sends a byte per keep-alive: one nobody reads never
    // fills its socket, so the write timeout never cuts it. 64 of them
    // held every connection, and `status` got 503s for as long as they
    // stayed; at a low open-file limit (3 connections) 3 of them did.
    for (max, streams) in [(8, 6), (3, 2)] {
        let dir = TempDir::new("bounds-streams").expect("a temp dir");
        let server = serve(
            &dir,
            idle_state(),
            ServerOptions::default().max_connections(max),
        );
        let client = Client::new(server.path());
        let mut held = Vec::new();
        for _ in 0..streams {
            held.push(client.events().await.expect("a stream within the places"));
        }
        match client.events().await {
            Err(ClientError::Api {
                status: 503,
                message,
                ..
            }) => assert!(
                message.contains("every place for an events stream is taken"),
                "{max}: {message}"
            ),
            other => panic!("{max}: expected a 503, got {:?}", other.map(|_| "a stream")),
        }
        // The refused stream's connection is closed after its answer; then
        // status gets the place kept for it, however long the streams stay.
        patiently("status to get a place kept for it", async {
            while client.status().await.is_err() {
                tokio::task::yield_now().await;
            }
        })
        .await;
        held.pop();
        patiently("a stream's place to free up", async {
            while client.events().await.is_err() {
                tokio::task::yield_now().await;
            }
        })
        .await;
        server.shutdown().await.expect("a clean shutdown");
    }
}

#[tokio::test(start_paused = true)]
async fn a_client_that_sends_nothing_gives_its_place_to_one_that_asks() {
    // Silent clients, reopened as fast as the header timeout closes them,
    // kept `status` out for as long as they came (hostile run, F6 (b)).
    let dir = TempDir::new("bounds-evict").expect("a temp dir");
    let state = idle_state();
    let bus = state.bus().clone();
    let server = serve(&dir, state, ServerOptions::default().max_connections(4));
    let client = Client::new(server.path());
    let mut streams = Vec::new();
    for _ in 0..2 {
        streams.push(client.events().await.expect("a stream within the places"));
    }
    let mut silent = Vec::new();
    for _ in 0..2 {
        silent.push(UnixStream::connect(server.path()).await.expect("connect"));
    }
    // Every place taken; the silent ones idle for longer than it takes a
    // request to arrive (still within the header timeout).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = client
        .status()
        .await
        .expect("status gets a silent one's place");
    assert_eq!(status.connections.len(), 1);
    assert_eq!(
        closed_unanswered(&mut silent).await,
        1,
        "one silent client gave its place"
    );
    // The streams, answering, were not touched.
    bus.publisher("idle")
        .publish(Connecting { attempt: 7 })
        .expect("the bus is open");
    for stream in &mut streams {
        patiently("the event on each stream", async {
            loop {
                let line = stream.next().await.expect("a line").expect("an event");
                if !line.replay {
                    return;
                }
            }
        })
        .await;
    }
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_client_trickling_a_body_gives_its_place_to_one_that_asks() {
    // A body trickled a byte at a time counted as a request being answered
    // until its 5 s timeout: clients that came back after each 408 kept
    // `status` out (hostile run of 2026-12-03, F1).
    let dir = TempDir::new("bounds-trickle").expect("a temp dir");
    let server = serve(
        &dir,
        idle_state(),
        ServerOptions::default().max_connections(4),
    );
    let mut trickling = Vec::new();
    for _ in 0..4 {
        trickling.push(
            connect(
                server.path(),
                b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab",
            )
            .await,
        );
    }
    // Within the body timeout, longer than a body takes to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let client = Client::new(server.path());
    let status = client
        .status()
        .await
        .expect("status gets a trickler's place");
    assert_eq!(status.connections.len(), 1);
    assert_eq!(
        closed_unanswered(&mut trickling).await,
        1,
        "one trickling client gave its place"
    );
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn clients_polling_on_kept_alive_connections_give_a_place_to_one_that_asks() {
    // A cheap request every 80 ms on a kept-alive connection: never idle
    // for 100 ms, almost never being answered; 64 of them had every
    // newcomer refused with 503 (hostile run of 2026-12-03, F7).
    let dir = TempDir::new("bounds-poll").expect("a temp dir");
    let server = serve(
        &dir,
        idle_state(),
        ServerOptions::default().max_connections(2),
    );
    let mut pollers = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let mut stream = connect(server.path(), STATUS).await;
        pollers.spawn(async move {
            let mut answers = 0;
            loop {
                let mut text = String::new();
                let mut chunk = [0; 4096];
                // One answer (its body ends the JSON), or the end.
                while !text.ends_with('}') {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return answers,
                        Ok(n) => text.push_str(&String::from_utf8_lossy(&chunk[..n])),
                    }
                }
                answers += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                if stream.write_all(STATUS).await.is_err() {
                    return answers;
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client = Client::new(server.path());
    let status = client.status().await.expect("status gets a poller's place");
    assert_eq!(status.connections.len(), 1);
    // One poller was closed for it (after many answers); the other polls on.
    let closed = patiently("a poller to be closed", pollers.join_next())
        .await
        .expect("a poller")
        .expect("no panic");
    assert!(closed > 10, "it was answered while it polled: {closed}");
    assert_eq!(pollers.len(), 1);
    pollers.shutdown().await;
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_watcher_that_never_reads_is_dropped_and_its_subscription_freed() {
    let dir = TempDir::new("bounds-deaf").expect("a temp dir");
    // A queue that never overflows: only the write timeout can drop it.
    let state = idle_state_with(BusOptions::default().queue_capacity(1_000_000));
    let bus = state.bus().clone();
    let server = serve(&dir, state, ServerOptions::default());
    let deaf = connect(server.path(), EVENTS).await;
    patiently("the watcher to subscribe", async {
        while bus.metrics().receivers == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // Far more than a socket buffer holds, published as the server writes.
    let publisher = bus.publisher("idle");
    for attempt in 0..20_000 {
        publisher
            .publish(Connecting { attempt })
            .expect("the bus is open");
        if attempt % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    patiently("the deaf watcher to be dropped", async {
        while bus.metrics().receivers > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    drop(deaf);
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_watcher_that_falls_behind_gets_a_last_line_saying_why() {
    let dir = TempDir::new("bounds-lag").expect("a temp dir");
    let state = idle_state_with(BusOptions::default().queue_capacity(16));
    let bus = state.bus().clone();
    let server = serve(&dir, state, ServerOptions::default().max_lags(0));
    let mut events = Client::new(server.path()).events().await.expect("a stream");
    // Far more than its queue holds, before it reads anything.
    let publisher = bus.publisher("idle");
    for attempt in 0..100 {
        publisher
            .publish(Connecting { attempt })
            .expect("the bus is open");
    }
    let mut read = 0;
    let message = patiently("the stream's end", async {
        loop {
            match events.next().await.expect("a line or the reason") {
                Ok(_) => read += 1,
                Err(ClientError::Dropped { message, .. }) => return message,
                Err(other) => panic!("{other}"),
            }
        }
    })
    .await;
    assert!(read > 0 && read < 100, "read {read} events first");
    assert!(
        message.contains("fell behind the daemon's events 1 times in a row"),
        "{message}"
    );
    assert!(events.next().await.is_none(), "nothing after the reason");
    assert_eq!(bus.metrics().receivers, 0, "its subscription is freed");
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_quiet_stream_keeps_the_client_from_giving_up() {
    let dir = TempDir::new("bounds-quiet").expect("a temp dir");
    let server = serve(&dir, idle_state(), ServerOptions::default());
    let mut events = Client::new(server.path()).events().await.expect("a stream");
    // A minute of no events: four times the client's silence timeout.
    let quiet = tokio::time::timeout(Duration::from_secs(60), events.next()).await;
    assert!(
        quiet.is_err(),
        "the stream stayed open and quiet: {quiet:?}"
    );

    let mut raw = connect(server.path(), EVENTS).await;
    let mut seen = String::new();
    patiently("a keep-alive line", async {
        let mut chunk = [0; 1024];
        while !seen.contains("\r\n1\r\n\n\r\n") {
            let n = raw.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed: {seen}");
            seen.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    })
    .await;
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_what_is_still_open_at_the_deadline() {
    let dir = TempDir::new("bounds-shutdown").expect("a temp dir");
    let state = idle_state_with(BusOptions::default().queue_capacity(1_000_000));
    let bus = state.bus().clone();
    let server = serve(
        &dir,
        state,
        ServerOptions::default().write_timeout(Duration::from_secs(3600)),
    );
    let socket = server.path().to_owned();
    let _half = connect(&socket, b"GET /v1/status HTTP/1.1\r\nHost: x\r\n").await;
    let _deaf = connect(&socket, EVENTS).await;
    let publisher = bus.publisher("idle");
    for attempt in 0..20_000 {
        publisher
            .publish(Connecting { attempt })
            .expect("the bus is open");
        if attempt % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    patiently(
        "the shutdown",
        server.shutdown_within(Duration::from_secs(2)),
    )
    .await
    .expect("a clean shutdown");
    assert!(!socket.exists(), "the socket file is removed");
}

/// The idle state with a reloader that counts its calls and applies
/// nothing.
fn counting_reloads() -> (ControlState, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let reloader: linesman_control::Reloader = Arc::new(move |_state| {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Ok(linesman_control::ReloadResponse {
                ok: true,
                ..linesman_control::ReloadResponse::default()
            })
        })
    });
    (idle_state().with_reloader(reloader), calls)
}

/// `POST PATH` announcing `length` body bytes, followed by `body`.
fn post(path: &str, length: u64, body: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{body}")
        .into_bytes()
}

#[tokio::test(start_paused = true)]
async fn a_post_whose_body_is_not_received_whole_does_nothing() {
    use std::sync::atomic::Ordering;
    let dir = TempDir::new("bounds-body").expect("a temp dir");
    let (state, reloads) = counting_reloads();
    let server = serve(&dir, state, ServerOptions::default());

    // 99,999,999,999 bytes announced, 3 sent: refused unread.
    for path in ["/v1/reload", "/v1/connections/idle/stop"] {
        let mut client = connect(server.path(), &post(path, 99_999_999_999, "abc")).await;
        let response = one_response(&mut client).await;
        assert!(response.starts_with("HTTP/1.1 413"), "{path}: {response}");
        assert!(
            response.contains(&format!(
                "POST {path} takes no request body, and this one is 99999999999 bytes, more than the 1024 bytes the control API reads: nothing was done"
            )),
            "{response}"
        );
    }

    // 500 announced, 3 sent, then nothing: 408 after the header timeout.
    let mut stalled = connect(server.path(), &post("/v1/reload", 500, "abc")).await;
    let response = one_response(&mut stalled).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response
            .contains("the body of POST /v1/reload did not arrive within 5 s: nothing was done"),
        "{response}"
    );

    // 10 announced, 3 sent, then the client's end closed: 400.
    let mut cut = connect(server.path(), &post("/v1/reload", 10, "abc")).await;
    cut.shutdown().await.expect("shut the write half");
    let response = until_closed(&mut cut).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains("the body of POST /v1/reload ended before the length it announced"),
        "{response}"
    );
    assert_eq!(reloads.load(Ordering::SeqCst), 0, "a cut request reloaded");

    // A small body received whole is dropped, and the request served.
    let mut whole = connect(server.path(), &post("/v1/reload", 2, "{}")).await;
    let response = one_response(&mut whole).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(reloads.load(Ordering::SeqCst), 1);
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test]
async fn answers_their_clients_do_not_read_hold_a_budget_and_the_next_gets_a_503() {
    // 60 clients that asked for a 2.6 MB status and read nothing held an
    // answer each, and under an address-space limit the daemon aborted on
    // its next allocation (hostile run h22). Here the status is 0.9 MB.
    let dir = TempDir::new("bounds-answers").expect("temp dir");
    let server = serve(
        &dir,
        many_state(3_000),
        ServerOptions::default().answer_budget(1 << 20),
    );
    let socket = dir.join("control.sock");
    // The first answer goes out and waits in full for its reader, which
    // reads its first bytes only; the second would pass the budget.
    let mut reader = connect(&socket, STATUS).await;
    let mut head = [0; 12];
    reader
        .read_exact(&mut head)
        .await
        .expect("the answer begins");
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut second = connect(&socket, STATUS).await;
    let refused = one_response(&mut second).await;
    assert!(
        refused.starts_with("HTTP/1.1 503")
            && refused.contains("daemon busy")
            && refused.contains("answer budget is 1.0 MiB"),
        "{}",
        &refused[..refused.len().min(400)]
    );
    // Gone, its answer's bytes are given back: the next is answered whole.
    drop(reader);
    patiently("an answer once the reader left", async {
        loop {
            let mut next = connect(&socket, STATUS).await;
            let answer = one_response(&mut next).await;
            if answer.starts_with("HTTP/1.1 200") {
                assert!(answer.contains("\"c2999\""), "whole");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    server.shutdown().await.expect("a clean shutdown");
}
