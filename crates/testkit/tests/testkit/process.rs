//! `PeerProcess` and the `linesman-peer` binary: a peer that can be killed.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::Frame;
use linesman_testkit::{Behavior, Listen, PeerProcess, ProcessError};

use crate::{connect, unix, within};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_linesman-peer"))
}

#[tokio::test]
async fn a_killed_peer_process_ends_the_connection_and_refuses_after() {
    let mut peer = PeerProcess::spawn_with(&binary(), &Listen::default(), &Behavior::Echo)
        .expect("peer process starts");
    let endpoint = peer.endpoint().clone();
    let mut client = connect(&endpoint).await.expect("client connects");
    client
        .send(Frame::request(1, 5, "hello"))
        .await
        .expect("send");
    let echoed = within(client.next())
        .await
        .expect("an echo")
        .expect("a valid echo");
    assert_eq!((echoed.id, &echoed.payload[..]), (Some(5), &b"hello"[..]));

    peer.kill().expect("kill the peer");
    match within(client.next()).await {
        None => {}
        Some(Err(linesman_ipc_codec::CodecError::Io(e)))
            if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection to end, got {other:?}"),
    }
    let refused = connect(&endpoint)
        .await
        .err()
        .expect("nothing listens after the kill");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn a_refusing_peer_process_reports_its_address_before_listening() {
    let place = unix();
    let behavior = Behavior::refuse(Duration::from_secs(1));
    let mut peer =
        PeerProcess::spawn_with(&binary(), &place.listen, &behavior).expect("peer process starts");
    assert_eq!(
        peer.endpoint(),
        &linesman_stream::Endpoint::Unix(match &place.listen {
            Listen::Unix(path) => path.clone(),
            Listen::Tcp(_) => unreachable!("unix() gives a unix path"),
        })
    );
    let missing = connect(peer.endpoint()).await.err().expect("no socket yet");
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    peer.wait_listening()
        .expect("the peer process listens after its period");
    let mut client = connect(peer.endpoint()).await.expect("client connects");
    client.send(Frame::new(1, "late")).await.expect("send");
    let echoed = within(client.next())
        .await
        .expect("an echo")
        .expect("a valid echo");
    assert_eq!(echoed.payload, "late");
}

#[test]
fn dropping_the_handle_reaps_the_child() {
    let peer = PeerProcess::spawn_with(&binary(), &Listen::default(), &Behavior::Silent)
        .expect("peer process starts");
    let proc_dir = PathBuf::from(format!("/proc/{}", peer.pid()));
    assert!(proc_dir.exists());
    drop(peer);
    assert!(!proc_dir.exists(), "the child is gone and reaped");
}

#[test]
fn the_binary_exits_cleanly_when_its_stdin_closes() {
    let mut child = Command::new(binary())
        .args([
            "--listen",
            "tcp://127.0.0.1:0",
            "--behavior",
            "send",
            "--count",
            "3",
            "--exit-on-stdin-eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the first line");
    assert!(line.starts_with("listening tcp://127.0.0.1:"), "{line:?}");
    drop(child.stdin.take());
    let status = child.wait().expect("the child ends");
    assert!(status.success(), "{status}");
}

#[test]
fn the_binary_is_found_next_to_the_test_executable() {
    let found = PeerProcess::binary_path().expect("the binary is built for these tests");
    let canonical = |p: &Path| p.canonicalize().expect("the path exists");
    assert_eq!(canonical(&found), canonical(&binary()));
}

#[test]
fn a_missing_binary_is_a_spawn_error() {
    let err = PeerProcess::spawn_with(
        Path::new("/nonexistent/linesman-peer"),
        &Listen::default(),
        &Behavior::Echo,
    )
    .expect_err("there is no such binary");
    assert!(matches!(err, ProcessError::Spawn { .. }), "{err:?}");
}

#[test]
fn a_binary_that_exits_silently_is_reported() {
    let err = PeerProcess::spawn_with(Path::new("/bin/true"), &Listen::default(), &Behavior::Echo)
        .expect_err("true prints nothing");
    assert!(
        matches!(
            err,
            ProcessError::Exited {
                expected: "listening",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_binary_that_prints_something_else_is_reported() {
    let err = PeerProcess::spawn_with(Path::new("/bin/echo"), &Listen::default(), &Behavior::Echo)
        .expect_err("echo prints its arguments");
    match err {
        ProcessError::UnexpectedLine { line, .. } => {
            assert!(line.starts_with("--listen"), "{line:?}")
        }
        other => panic!("expected an unexpected line, got {other:?}"),
    }
}
