//! `POST /v1/connections/{name}/start|stop|restart`.

use linesman_control::{ClientError, State, What};

use crate::support::{Daemon, read_until};

#[tokio::test]
async fn stop_then_start_round_trips_the_state() {
    let daemon = Daemon::start("control-stop-start").await;
    daemon.client.stop("audit").await.expect("stop is accepted");
    daemon
        .wait_for("audit stopped", |s| {
            s.get("audit").is_some_and(|a| a.state == State::Stopped)
        })
        .await;
    assert_eq!(
        daemon.state_of("quotes").await,
        State::Up,
        "others untouched"
    );

    daemon
        .client
        .start("audit")
        .await
        .expect("start is accepted");
    daemon
        .wait_for("audit up again", |s| {
            s.get("audit").is_some_and(|a| a.state == State::Up)
        })
        .await;
    assert_eq!(daemon.peers[2].stats().accepted, 2, "a second session");
    daemon.stop().await;
}

#[tokio::test]
async fn restart_reconnects_a_connection_that_is_up() {
    let daemon = Daemon::start("control-restart").await;
    let mut events = daemon.client.events().await.expect("the events stream");
    daemon
        .client
        .restart("orders")
        .await
        .expect("restart is accepted");
    let seen = read_until(&mut events, "orders connected again", |l| {
        l.conn == "orders" && matches!(l.what, What::Connected { .. }) && !l.replay
    })
    .await;
    let orders: Vec<&str> = seen
        .iter()
        .filter(|l| l.conn == "orders" && !l.replay)
        .map(|l| l.what.type_name())
        .collect();
    assert_eq!(orders.first(), Some(&"disconnected"), "{orders:?}");
    assert_eq!(orders.last(), Some(&"connected"), "{orders:?}");
    assert_eq!(daemon.peers[1].stats().accepted, 2, "a second session");
    daemon.wait_for("everything up again", |s| s.all_up()).await;
    daemon.stop().await;
}

#[tokio::test]
async fn an_unknown_name_is_404_naming_the_known_connections() {
    let daemon = Daemon::start("control-unknown").await;
    for result in [
        daemon.client.stop("qoutes").await,
        daemon.client.start("qoutes").await,
        daemon.client.restart("qoutes").await,
    ] {
        match result {
            Err(ClientError::Api {
                status,
                message,
                known,
            }) => {
                assert_eq!(status, 404);
                assert!(message.contains("unknown connection `qoutes`"), "{message}");
                assert!(message.contains("did you mean `quotes`?"), "{message}");
                assert!(message.contains("quotes, orders, audit"), "{message}");
                assert_eq!(known, ["quotes", "orders", "audit"]);
            }
            other => panic!("expected a 404, got {other:?}"),
        }
    }
    assert!(daemon.client.status().await.expect("a status").all_up());
    daemon.stop().await;
}

/// A raw HTTP/1.1 exchange, for requests the client never makes.
async fn raw(socket: &std::path::Path, method: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .expect("the daemon listens");
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: linesman\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is written");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("the answer is read");
    answer
}

#[tokio::test]
async fn unknown_actions_and_routes_are_404_with_a_json_message() {
    let daemon = Daemon::start("control-routes").await;
    let socket = daemon.socket();

    let answer = raw(&socket, "POST", "/v1/connections/quotes/explode").await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"unknown action `explode`: use start, stop or restart"}"#),
        "{answer}"
    );

    let answer = raw(&socket, "GET", "/v2/status").await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("no route GET /v2/status"), "{answer}");

    let answer = raw(&socket, "POST", "/v1/status").await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(
        answer.contains("POST is not allowed on /v1/status"),
        "{answer}"
    );

    assert_eq!(
        daemon.state_of("quotes").await,
        State::Up,
        "nothing was done"
    );
    daemon.stop().await;
}

#[tokio::test]
async fn hostile_paths_get_short_json_errors() {
    let daemon = Daemon::start("control-hostile-paths").await;
    let socket = daemon.socket();

    // A long path is repeated cut short, not whole.
    let long = format!("/{}", "x".repeat(5000));
    let answer = raw(&socket, "GET", &long).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(
        answer.contains(&format!("no route GET /{}…", "x".repeat(199))),
        "{answer}"
    );
    assert!(!answer.contains(&"x".repeat(201)), "{answer}");
    assert!(answer.len() < 1000, "{} bytes", answer.len());

    // A name that does not decode to UTF-8 is a JSON 400, as every error.
    let answer = raw(&socket, "POST", "/v1/connections/%FF%FE/start").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"the request path does not decode to UTF-8 text"#),
        "{answer}"
    );

    // An unknown name is repeated with what is hidden in it written out:
    // a C1 CSI and a direction override reached a `curl` user raw.
    let answer = raw(
        &socket,
        "POST",
        "/v1/connections/x%1b%5b31m%c2%9b%e2%80%aey/stop",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        !answer.contains('\u{9b}') && !answer.contains('\u{202e}'),
        "{answer:?}"
    );
    assert!(
        answer.contains(r"unknown connection `x\\u{1b}[31m\\u{9b}\\u{202e}y`"),
        "{answer}"
    );

    assert_eq!(
        daemon.state_of("quotes").await,
        State::Up,
        "nothing was done"
    );
    daemon.stop().await;
}

#[tokio::test]
async fn a_command_past_the_queue_bound_is_429() {
    use linesman_connection::ConnectionSpec;
    use linesman_control::{Client, ControlServer, ControlState};
    use linesman_supervisor::{Spec, Supervisor};
    use linesman_testkit::TempDir;

    // A supervisor that is not run: commands wait in its mailboxes.
    let dir = TempDir::new("control-queue-full").expect("a temp dir");
    let spec = Spec::builder()
        .connection(ConnectionSpec::new(
            "quotes",
            "tcp://127.0.0.1:1".parse().expect("an endpoint"),
        ))
        .build()
        .expect("a valid spec");
    let supervisor = Supervisor::new(spec);
    let socket = dir.join("control.sock");
    let server = ControlServer::bind(&socket, ControlState::new(&supervisor))
        .expect("the control socket binds")
        .spawn();
    let client = Client::new(&socket);
    for i in 0..8u32 {
        let sent = if i.is_multiple_of(2) {
            client.stop("quotes").await
        } else {
            client.start("quotes").await
        };
        sent.unwrap_or_else(|error| panic!("command {i} is accepted: {error}"));
    }
    match client.stop("quotes").await {
        Err(ClientError::Api {
            status, message, ..
        }) => {
            assert_eq!(status, 429);
            assert_eq!(
                message,
                "too many commands queued for connection `quotes` (8 at most): wait until the last one has taken effect, then ask again"
            );
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    server.shutdown().await.expect("the server shuts down");
    drop(supervisor);
}
