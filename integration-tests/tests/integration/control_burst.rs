//! A burst of restarts through the real daemon's HTTP API: every POST gets
//! an answer, and the connection reconnects a bounded number of times, not
//! once per POST.

use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::time::Instant;

use crate::cli_harness::{Daemon, PATIENCE, state};

/// POSTs to `path` on the control socket, one connection per request as
/// the CLI does, and returns the answer's status code.
async fn post(socket: &std::path::Path, path: &str) -> u16 {
    let exchange = async {
        let mut stream = UnixStream::connect(socket).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: linesman\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(PATIENCE, exchange)
        .await
        .unwrap_or_else(|_| panic!("POST {path} got no answer"))
        .unwrap_or_else(|error| panic!("POST {path} failed: {error}"));
    let head = String::from_utf8_lossy(&answer[..answer.len().min(64)]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("POST {path}: not an HTTP answer: {head:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_posted_restarts_reconnect_a_bounded_number_of_times() {
    let quotes = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let yaml = format!(
        "connections:\n  quotes: {{ endpoint: {} }}\n",
        quotes.endpoint()
    );
    let daemon = Daemon::start(TempDir::new("control-burst").expect("temp dir"), &yaml).await;
    daemon
        .wait_status("quotes up", |s| state(s, "quotes") == "up")
        .await;
    assert_eq!(quotes.stats().accepted, 1);

    // 500 POSTs from ten clients at once, fifty each in a loop.
    let began = Instant::now();
    let clients: Vec<_> = (0..10)
        .map(|_| {
            let socket = daemon.socket.clone();
            tokio::spawn(async move {
                let mut codes = Vec::new();
                for _ in 0..50 {
                    codes.push(post(&socket, "/v1/connections/quotes/restart").await);
                }
                codes
            })
        })
        .collect();
    let mut codes = Vec::new();
    for client in clients {
        codes.extend(client.await.expect("a client does not panic"));
    }
    assert_eq!(codes.len(), 500, "every POST got an answer");
    let accepted_posts = codes.iter().filter(|c| **c == 200).count();
    assert!(
        codes.iter().all(|c| *c == 200 || *c == 429),
        "only 200 (accepted) or 429 (too many queued): {codes:?}"
    );
    assert!(accepted_posts >= 1);

    daemon
        .wait_status("quotes up again", |s| state(s, "quotes") == "up")
        .await;
    // At most one reconnect at once, then one per second of restarts held
    // (and one for the last hold): bounded by the time the burst took,
    // not by the number of POSTs.
    let seconds = began.elapsed().as_secs();
    let accepted = quotes.stats().accepted;
    assert!(
        accepted <= 3 + seconds,
        "{accepted} connections accepted for 500 restarts in {seconds} s"
    );
    assert!(accepted >= 2, "the restart was carried out");
}
