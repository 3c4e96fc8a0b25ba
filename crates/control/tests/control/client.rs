//! The client never hangs: against fake servers on real Unix sockets that
//! never accept, never answer, go silent mid-stream or end the stream with
//! a reason, every call ends with an error that names the socket and says
//! what to suspect. On paused time: each timeout passes as soon as nothing
//! else can happen.

use std::time::Duration;

use futures_util::StreamExt;
use linesman_control::{Client, ClientError};
use linesman_testkit::TempDir;
use socket2::{Domain, SockAddr, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use crate::support::patiently;

/// A server that accepts one connection, reads the request and answers
/// with `response`, then keeps the connection open without a word.
fn answering(listener: UnixListener, response: &'static [u8]) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = [0; 1024];
        let _ = stream.read(&mut request).await;
        stream.write_all(response).await.expect("answer");
        std::future::pending::<()>().await;
    })
}

#[tokio::test(start_paused = true)]
async fn a_daemon_that_never_answers_is_a_timeout() {
    let dir = TempDir::new("client-mute").expect("a temp dir");
    let socket = dir.join("control.sock");
    // Listening, never accepting: the kernel completes the connect, as for
    // a daemon stopped with SIGSTOP.
    let _listener = UnixListener::bind(&socket).expect("bind");
    let error = patiently("the status call", Client::new(&socket).status())
        .await
        .expect_err("no answer");
    assert!(
        matches!(error, ClientError::Timeout { after, .. } if after == Duration::from_secs(10)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the daemon on {} did not answer within 10s; is it stopped (SIGSTOP), overloaded, or serving as many control clients as it allows (its log says so)?",
            socket.display()
        )
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_backlog_is_retried_until_the_connect_timeout() {
    let dir = TempDir::new("client-backlog").expect("a temp dir");
    let socket = dir.join("control.sock");
    let listener = Socket::new(Domain::UNIX, Type::STREAM, None).expect("a socket");
    listener
        .bind(&SockAddr::unix(&socket).expect("an address"))
        .expect("bind");
    listener.listen(0).expect("listen with no backlog");
    // Fill the backlog with connections nobody accepts (non-blocking: a
    // blocking connect would wait for room).
    let mut held = Vec::new();
    loop {
        let stream = Socket::new(Domain::UNIX, Type::STREAM, None).expect("a socket");
        stream.set_nonblocking(true).expect("nonblocking");
        if stream
            .connect(&SockAddr::unix(&socket).expect("an address"))
            .is_err()
        {
            break;
        }
        held.push(stream);
        assert!(held.len() <= 64, "the backlog never filled");
    }
    let client = Client::new(&socket).connect_timeout(Duration::from_secs(2));
    let error = patiently("the status call", client.status())
        .await
        .expect_err("never accepted");
    assert!(
        matches!(error, ClientError::Timeout { after, .. } if after == Duration::from_secs(2)),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_events_stream_is_an_error_not_a_hang() {
    let dir = TempDir::new("client-silent").expect("a temp dir");
    let socket = dir.join("control.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let _server = answering(
        listener,
        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n1\r\n\n\r\n",
    );
    let mut events = Client::new(&socket).events().await.expect("the head");
    let error = patiently("the stream's end", events.next())
        .await
        .expect("an item")
        .expect_err("silence");
    assert!(
        matches!(error, ClientError::Silent { after, .. } if after == Duration::from_secs(15)),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("sent nothing on its event stream for 15s"),
        "{error}"
    );
    assert!(events.next().await.is_none(), "ended");
}

#[tokio::test(start_paused = true)]
async fn a_stream_the_daemon_ends_with_a_reason_says_it() {
    let dir = TempDir::new("client-dropped").expect("a temp dir");
    let socket = dir.join("control.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let _server = answering(
        listener,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n15\r\n{\"error\":\"too slow\"}\n\r\n0\r\n\r\n",
    );
    let mut events = Client::new(&socket).events().await.expect("the head");
    match events.next().await {
        Some(Err(ClientError::Dropped { message, .. })) => assert_eq!(message, "too slow"),
        other => panic!("expected the reason, got {other:?}"),
    }
    assert!(events.next().await.is_none(), "nothing after the reason");
}

#[tokio::test]
async fn a_connection_closed_before_the_request_was_read_is_tried_again() {
    // The daemon closes a client that has sent nothing yet when every place
    // and every waiting place is taken; a `status` accepted a moment before
    // it wrote failed with a broken pipe (hostile run of 2026-12-03).
    let dir = TempDir::new("client-retry").expect("a temp dir");
    let socket = dir.join("control.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let server = tokio::spawn(async move {
        // Three times closed unread, then answered.
        for _ in 0..3 {
            let (stream, _) = listener.accept().await.expect("accept");
            drop(stream);
        }
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = [0; 1024];
        let _ = stream.read(&mut request).await;
        let body = br#"{"connections":[]}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("answer");
        stream.write_all(body).await.expect("answer");
        stream
    });
    let status = patiently("the status call", Client::new(&socket).status())
        .await
        .expect("answered on the fourth try");
    assert!(status.connections.is_empty());
    drop(server.await.expect("the server"));
}
