//! The control plane against hostile clients and a hostile `/tmp`, driven
//! through the real `linesman` binary: a shutdown that no control client
//! can hold up, a second signal that exits at once, a CLI that gives up on
//! a stopped daemon, an accept loop that survives running out of file
//! descriptors, and a watcher that never reads being dropped. The socket
//! path's defences are in `control_hardening/socket.rs`.
//!
//! A "noisy" daemon supervises connections to a refused port with a 5 ms
//! constant backoff: it publishes events all the time, so a watcher that
//! never reads fills its socket buffer within moments.

mod socket;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use linesman_testkit::{Peer, TempDir};

use crate::cli_harness::{Daemon, Launch, PATIENCE, eventually, path, refused_port, run};

/// The exit code of a daemon whose shutdown a second signal cut short.
const FORCED: i32 = 5;

/// `connections` connections to a refused port, retried every 5 ms.
fn noisy(connections: usize, shutdown_timeout: &str) -> String {
    let port = refused_port();
    let mut yaml = format!(
        "shutdown_timeout: {shutdown_timeout}\n\
         defaults:\n  \
           restart:\n    \
             backoff: {{ initial: 5ms, max: 5ms, multiplier: 1.0, jitter: 0.0 }}\n    \
             intensity: {{ max_restarts: 1000000, window: 1s }}\n\
         connections:\n"
    );
    for i in 0..connections {
        yaml.push_str(&format!(
            "  c{i}: {{ endpoint: 'tcp://127.0.0.1:{port}' }}\n"
        ));
    }
    yaml
}

/// A client that sent half a request head (no final blank line) and waits.
fn half_request(socket: &Path) -> UnixStream {
    let mut stream = UnixStream::connect(socket).expect("connect to the control socket");
    stream
        .write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
        .expect("write half a request");
    stream
}

/// A client that asked for `/v1/events` and never reads a byte.
fn deaf_watcher(socket: &Path) -> UnixStream {
    let mut stream = UnixStream::connect(socket).expect("connect to the control socket");
    stream
        .write_all(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write the request");
    stream
}

/// The start of the answer a control client gets (`HTTP/1.1 200`), within
/// 10 s.
fn status_line(client: &mut UnixStream) -> [u8; 12] {
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    let mut head = [0; 12];
    std::io::Read::read_exact(client, &mut head).expect("an answer");
    head
}

/// `places` deaf watchers, each served, then one more, refused for want of
/// a stream place (503): the watchers and the refused one.
fn every_stream_place_taken(socket: &Path, places: usize) -> (Vec<UnixStream>, UnixStream) {
    let held: Vec<UnixStream> = (0..places)
        .map(|_| {
            let mut watcher = deaf_watcher(socket);
            assert_eq!(&status_line(&mut watcher), b"HTTP/1.1 200", "served");
            watcher
        })
        .collect();
    let mut one_more = deaf_watcher(socket);
    assert_eq!(
        &status_line(&mut one_more),
        b"HTTP/1.1 503",
        "no place left for a stream"
    );
    (held, one_more)
}

/// A daemon (in a temp dir named after `name`) with one steady connection,
/// `c0`, to an echo peer, under `open_files` if given, logging at info;
/// returned once `c0` is up. Nothing but the control plane opens sockets,
/// and watchers get their replay, then silence.
async fn steady(name: &str, open_files: Option<u64>) -> (Daemon, Peer) {
    let dir = TempDir::new(name).expect("temp dir");
    let peer = Peer::echo().await.expect("an echo peer");
    let yaml = format!(
        "connections:\n  c0: {{ endpoint: '{}' }}\n",
        peer.endpoint()
    );
    let launch = Launch {
        open_files,
        rust_log: Some("info"),
        ..Launch::default()
    };
    let daemon = Daemon::launch(dir, &yaml, launch).await;
    daemon
        .wait_status("c0 up", |status| status["connections"][0]["state"] == "up")
        .await;
    (daemon, peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_whatever_control_clients_do() {
    let dir = TempDir::new("hard-shutdown").expect("temp dir");
    let mut daemon = Daemon::start(dir, &noisy(20, "2s")).await;
    let _half = half_request(&daemon.socket);
    let _deaf = deaf_watcher(&daemon.socket);
    // Both were accepted before this status was (the accept queue is FIFO).
    let status = daemon.cli(&["status", "-o", "json"]).await;
    assert_eq!(status.code, 3, "{}", status.stderr);

    daemon.signal("TERM").await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "a clean shutdown despite the clients:\n{stderr}");
    assert!(!daemon.socket.exists(), "the socket file is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once_while_a_client_holds_the_shutdown() {
    let dir = TempDir::new("hard-forced").expect("temp dir");
    // A minute of grace: only the second signal can end it within PATIENCE.
    let mut daemon = Daemon::start(dir, &noisy(20, "60s")).await;
    let _deaf = deaf_watcher(&daemon.socket);
    let status = daemon.cli(&["status", "-o", "json"]).await;
    assert_eq!(status.code, 3, "{}", status.stderr);
    // The watcher's socket fills within a fraction of a second (thousands
    // of events a second), and then a write to it waits: the shutdown
    // waits for it, until its write timeout (10 s) drops it. (A half-sent
    // request no longer holds a shutdown: nothing is waited for it.)
    tokio::time::sleep(Duration::from_secs(2)).await;

    daemon.signal("TERM").await;
    // The connections are stopped and the control server no longer accepts,
    // but the deaf watcher keeps it draining: the daemon is still there.
    eventually("the control server to stop accepting", || {
        UnixStream::connect(&daemon.socket).is_err()
    })
    .await;
    assert!(daemon.is_running(), "the first signal alone did not end it");
    daemon.signal("INT").await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, FORCED, "{stderr}");
    assert!(stderr.contains("forcing"), "{stderr}");
    assert!(!daemon.socket.exists(), "the socket file is removed first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_wait_give_up_on_a_stopped_daemon() {
    let dir = TempDir::new("hard-stopped").expect("temp dir");
    let mut daemon = Daemon::start(dir, &noisy(1, "2s")).await;
    daemon.signal("STOP").await;
    let socket = path(&daemon.socket).to_owned();

    let status = run(&["status", "--socket", &socket]).await;
    let wait = run(&["wait", "--up", "c0", "--timeout", "2s", "--socket", &socket]).await;
    daemon.signal("CONT").await;

    assert_eq!(status.code, 1, "{}", status.stderr);
    assert!(
        status.stderr.contains(&format!(
            "the daemon on {socket} did not answer within 10s; is it stopped (SIGSTOP), overloaded, or serving as many control clients as it allows (its log says so)?"
        )),
        "{}",
        status.stderr
    );
    assert_eq!(wait.code, 1, "{}", wait.stderr);
    assert!(
        wait.stderr.contains(&format!(
            "the daemon on {socket} did not answer within 2s; is it stopped (SIGSTOP), overloaded, or serving as many control clients as it allows (its log says so)?"
        )),
        "{}",
        wait.stderr
    );
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_never_reads_is_dropped_and_its_subscription_freed() {
    let dir = TempDir::new("hard-deaf").expect("temp dir");
    let mut daemon = Daemon::start(dir, &noisy(20, "2s")).await;
    let receivers = |daemon: &Daemon| daemon.metric("linesman_bus_receivers");
    let before = receivers(&daemon);
    let _deaf = deaf_watcher(&daemon.socket);
    eventually("the watcher to subscribe", || receivers(&daemon) > before).await;
    // It fills its socket buffer, stops every write, and is dropped after
    // the write timeout, with its subscription (replay and queue).
    eventually("the deaf watcher to be dropped", || {
        receivers(&daemon) == before
    })
    .await;
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_control_clients_cannot_take_the_descriptors_of_the_daemon() {
    const LIMIT: u64 = 32;
    let (mut daemon, _peer) = steady("hard-emfile", Some(LIMIT)).await;
    // More clients than the daemon has descriptors, each with half a
    // request: the control plane serves as many as its share of the limit
    // allows, and the rest wait in the kernel's queue.
    let clients: Vec<UnixStream> = (0..LIMIT + 8)
        .map(|_| half_request(&daemon.socket))
        .collect();
    daemon
        .wait_logged(
            "the daemon to log that it serves its limit",
            "the control server serves its limit of 3 connections at once",
        )
        .await;
    for _ in 0..20 {
        let open = std::fs::read_dir(format!("/proc/{}/fd", daemon.pid()))
            .map_or(0, |fds| fds.count() as u64);
        assert!(
            open < LIMIT,
            "{open} descriptors open under a limit of {LIMIT}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(clients);
    // The server notices the closed clients as it reaches them: until
    // then a status may still be told the daemon is busy, nothing else.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let status: serde_json::Value = loop {
        let ran = daemon.cli(&["status", "-o", "json"]).await;
        if ran.code == 0 {
            break serde_json::from_str(&ran.stdout).expect("status -o json prints JSON");
        }
        assert!(
            ran.stderr.contains("daemon busy"),
            "({}) {}",
            ran.code,
            ran.stderr
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "status never answered: {}",
            ran.stderr
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status["connections"][0]["state"], "up", "{status:#}");
    assert_eq!(status["connections"][0]["restarts"], 0, "{status:#}");
    daemon.signal("TERM").await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.to_lowercase().contains("too many open files"),
        "the daemon never ran out of descriptors:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_does_not_hold_the_shutdown() {
    let dir = TempDir::new("hard-half").expect("temp dir");
    // A grace shorter than the header timeout: a connection still waited
    // for would be cut at the deadline, with a warning.
    let mut daemon = Daemon::start(dir, &noisy(2, "1s")).await;
    let _half = half_request(&daemon.socket);
    let _idle = {
        // A client whose request was answered, kept open (keep-alive).
        let mut idle = UnixStream::connect(&daemon.socket).expect("connect");
        idle.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write a request");
        let mut head = [0; 12];
        std::io::Read::read_exact(&mut idle, &mut head).expect("an answer");
        idle
    };
    let status = daemon.cli(&["status", "-o", "json"]).await;
    assert_eq!(status.code, 3, "{}", status.stderr);
    daemon.signal("TERM").await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains("still open at the shutdown deadline"),
        "nothing to finish, nothing waited for:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_low_fd_limit_deaf_watchers_still_leave_status_a_connection() {
    // Under `ulimit -n 40` the control plane has 3 connections: 3 deaf
    // watchers held them all, and `status` got 503s for as long as they
    // stayed (found attacking the release binary).
    let (mut daemon, _peer) = steady("hard-low-deaf", Some(40)).await;
    let (held, mut third) = every_stream_place_taken(&daemon.socket, 2);
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut third, &mut rest).expect("closed after its answer");
    let status = daemon.cli(&["status", "-o", "json"]).await;
    assert!(
        status.stdout.contains("\"c0\"") && !status.stderr.contains("busy"),
        "status gets the place kept for it: {}",
        status.stderr
    );
    drop(held);
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_beside_a_crowd_of_watchers_waits_for_its_stream() {
    // `status --watch` failed at once with the stream's 503 while every
    // stream place was taken (hostile run h21). It now waits, showing the
    // status, and follows the events once a place frees.
    const STREAMS: usize = 48;
    let (mut daemon, _peer) = steady("hard-watch-crowd", None).await;
    let (held, _one_more) = every_stream_place_taken(&daemon.socket, STREAMS);
    let mut watch = daemon.follow_keeping_stderr(&["status", "--watch"]);
    let told = watch.error_line().await;
    assert!(
        told.contains("no event stream yet")
            && told.contains("every place for an events stream is taken"),
        "the watch says why it waits: {told}"
    );
    // Meanwhile a change, which the stream's replay will show.
    let stop = daemon.cli(&["stop", "c0", "--timeout", "10s"]).await;
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    drop(held);
    let replayed = watch.line().await;
    assert!(
        replayed.contains("c0") && replayed.contains("stopped") && replayed.ends_with("(current)"),
        "once a place frees, the stream starts with the current state: {replayed}"
    );
    let start = daemon.cli(&["start", "c0", "--timeout", "10s"]).await;
    assert_eq!(start.code, 0, "{}", start.stderr);
    loop {
        let line = watch.line().await;
        assert!(!line.ends_with("(current)"), "live events now: {line}");
        if line.contains("c0") && line.contains(" up ") {
            break;
        }
    }
    watch.stop().await;
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deaf_watchers_cannot_take_the_connections_status_needs() {
    // A quiet stream sends a byte per keep-alive: one nobody reads never
    // fills its socket, so the write timeout never cuts it. 64 of them
    // held every control connection, and every command got a 503 (the
    // connection limit's own 503 is tested in `control` `bounds.rs`).
    const STREAMS: usize = 48; // of 64: a quarter is kept for requests
    // Watchers of a steady connection get their replay and then silence,
    // so none of them is dropped for not reading.
    let (mut daemon, _peer) = steady("hard-busy", None).await;
    let (held, _one_more) = every_stream_place_taken(&daemon.socket, STREAMS);
    for _ in 0..3 {
        let status = daemon.cli(&["status", "-o", "json"]).await;
        assert!(
            !status.stderr.contains("busy") && status.stdout.contains("\"c0\""),
            "status keeps its places: {}",
            status.stderr
        );
    }
    let events = daemon.cli(&["events", "--since", "0"]).await;
    assert!(
        events
            .stderr
            .contains("every place for an events stream is taken"),
        "a stream over the places is told why: {}",
        events.stderr
    );
    // The commands that wait for their result follow it on the status
    // instead: they opened a stream first, and failed at once with that
    // 503 (hostile run, F3).
    for (args, said) in [
        (vec!["stop", "c0", "--timeout", "10s"], "c0: stopped"),
        (vec!["start", "c0", "--timeout", "10s"], "c0: up"),
        (vec!["restart", "c0", "--timeout", "10s"], "c0: up"),
        (vec!["wait", "--up", "c0", "--timeout", "10s"], "up: c0"),
    ] {
        let ran = daemon.cli(&args).await;
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        assert!(ran.stdout.contains(said), "{args:?}: {}", ran.stdout);
    }
    drop(held);
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}

/// `clients` control clients that each connect, send `request`, then (if
/// `trickle`) one more byte every 60 ms, until the daemon closes them, and
/// come straight back: they hold places without ever being answered.
fn hold_places(
    socket: &Path,
    clients: usize,
    request: &'static [u8],
    trickle: bool,
) -> tokio::task::JoinSet<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut held = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let socket = socket.to_path_buf();
        held.spawn(async move {
            loop {
                let Ok(mut stream) = tokio::net::UnixStream::connect(&socket).await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if stream.write_all(request).await.is_err() {
                    continue;
                }
                let mut byte = [0; 1];
                // Until the daemon closes it (or answers); then straight back.
                loop {
                    tokio::select! {
                        _ = stream.read(&mut byte) => break,
                        () = tokio::time::sleep(Duration::from_millis(60)), if trickle => {
                            if stream.write_all(b"x").await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        });
    }
    held
}

/// Runs `linesman status` `times` times at once; each must answer.
async fn status_answers(daemon: &Daemon, times: usize) {
    let runs = (0..times).map(|_| daemon.cli(&["status", "-o", "json"]));
    for status in futures_util::future::join_all(runs).await {
        assert_eq!(status.code, 0, "status answered: {}", status.stderr);
        assert!(status.stdout.contains("\"c0\""), "{}", status.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_clients_that_keep_coming_back_do_not_keep_status_out() {
    // Under `ulimit -n 40` (3 control connections), 100 clients that
    // connect, send nothing and reconnect as soon as they are closed made
    // every `status` fail at its 10 s timeout for as long as they came;
    // once they could be closed for a newcomer, 290 of them still queued
    // ahead of it in the backlog (found attacking the release binary).
    let (mut daemon, _peer) = steady("hard-silent", Some(40)).await;
    let mut silent = hold_places(&daemon.socket, 300, b"", false);
    daemon
        .wait_logged(
            "the daemon to reach its limit",
            "the control server serves its limit of 3 connections at once",
        )
        .await;
    for _ in 0..3 {
        status_answers(&daemon, 1).await;
    }
    silent.shutdown().await;
    daemon.signal("TERM").await;
    let (code, stderr) = daemon.exit().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("closed the one idle longest"),
        "the evictions are logged: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_trickling_bodies_do_not_keep_status_out() {
    // A body trickled a byte every 60 ms held its place as a request being
    // answered until the 5 s body timeout: 80 such clients, back after
    // each 408, kept every `status` out with 503s (hostile run, F1), and
    // the clients waiting for a place waited one after the other (F2).
    let (mut daemon, _peer) = steady("hard-trickle", None).await;
    let mut trickling = hold_places(
        &daemon.socket,
        80,
        b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
        true,
    );
    daemon
        .wait_logged(
            "the daemon to reach its limit",
            "the control server serves its limit of 64 connections at once",
        )
        .await;
    // Five at once, twice.
    status_answers(&daemon, 5).await;
    status_answers(&daemon, 5).await;
    trickling.shutdown().await;
    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
}
