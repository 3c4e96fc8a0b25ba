//! `before_close` ordering, over TCP and Unix, for the three ways a stream
//! ends: `close()`, drop, and drop after an I/O error. Inside the hook the fd
//! must still be open (`getsockname` succeeds and gives the address seen
//! before) and the peer must not have seen the close yet (a nonblocking peek
//! on the peer's socket finds nothing, not end of input); after it, the peer
//! sees end of input. The hook runs exactly once.

use std::io;
use std::mem::MaybeUninit;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linesman_stream::{ConnectOptions, Endpoint, SocketAddress, SocketHooks, Stream, connect};
use socket2::{SockAddr, SockRef, Socket};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use crate::common::{TempDir, tcp_listener};

/// What the hook saw, once per run.
#[derive(Debug)]
struct Seen {
    local: io::Result<SocketAddress>,
    /// A nonblocking peek on the peer: `WouldBlock` means the peer has seen
    /// neither data nor end of input; `Ok(0)` would mean it saw the close.
    peer_peek: io::Result<usize>,
}

#[derive(Default)]
struct Probe {
    /// A duplicate of the peer's socket (shares its file description).
    peer: Option<Socket>,
    seen: Vec<Seen>,
}

fn to_address(addr: &SockAddr) -> SocketAddress {
    match addr.as_socket() {
        Some(inet) => SocketAddress::Tcp(inet),
        None => SocketAddress::Unix(addr.as_pathname().map(PathBuf::from)),
    }
}

fn probing_hooks(probe: &Arc<Mutex<Probe>>) -> SocketHooks {
    let probe = Arc::clone(probe);
    SocketHooks::default().before_close(move |sock: &SockRef<'_>| {
        let mut probe = probe.lock().expect("probe lock");
        let local = sock.local_addr().map(|a| to_address(&a));
        let peer_peek = match &probe.peer {
            Some(peer) => peer.peek(&mut [MaybeUninit::uninit(); 1]),
            None => Err(io::Error::other("no peer recorded")),
        };
        probe.seen.push(Seen { local, peer_peek });
    })
}

#[derive(Debug, Clone, Copy)]
enum Transport {
    Tcp,
    Unix,
}

#[derive(Debug, Clone, Copy)]
enum Ending {
    Close,
    Drop,
    DropAfterError,
}

type Peer = Box<dyn AsyncRead + Unpin + Send>;

/// Connects through linesman with probing hooks; returns the stream, the
/// peer's end (whose duplicate the probe holds) and the temp dir to keep.
async fn pair(transport: Transport, probe: &Arc<Mutex<Probe>>) -> (Stream, Peer, Option<TempDir>) {
    let hooks = probing_hooks(probe);
    let options = ConnectOptions::default();
    let (stream, peer, dup, dir): (Stream, Peer, Socket, _) = match transport {
        Transport::Tcp => {
            let (listener, _, endpoint) = tcp_listener().await;
            let stream = connect(&endpoint, &options, &hooks)
                .await
                .expect("connect tcp");
            let (peer, _) = listener.accept().await.expect("accept");
            let dup = SockRef::from(&peer).try_clone().expect("dup peer");
            (stream, Box::new(peer), dup, None)
        }
        Transport::Unix => {
            let dir = TempDir::new();
            let path = dir.path().join("peer.sock");
            let listener = UnixListener::bind(&path).expect("bind unix");
            let stream = connect(&Endpoint::Unix(path), &options, &hooks)
                .await
                .expect("connect unix");
            let (peer, _) = listener.accept().await.expect("accept");
            let dup = SockRef::from(&peer).try_clone().expect("dup peer");
            (stream, Box::new(peer), dup, Some(dir))
        }
    };
    probe.lock().expect("probe lock").peer = Some(dup);
    (stream, peer, dir)
}

/// Writes until the OS reports the broken connection.
async fn write_until_error(stream: &mut Stream) -> io::Error {
    for _ in 0..500 {
        if let Err(error) = stream.write_all(b"are you there").await {
            return error;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("writes to a reset connection kept succeeding");
}

async fn check(transport: Transport, ending: Ending) {
    let probe = Arc::new(Mutex::new(Probe::default()));
    let (mut stream, mut peer, _dir) = pair(transport, &probe).await;
    let local = stream.local_addr().expect("local_addr");

    match ending {
        Ending::Close => stream.close().await.expect("close"),
        Ending::Drop => drop(stream),
        Ending::DropAfterError => {
            // The peer goes away abruptly (RST for TCP), so our I/O fails.
            let dup = probe
                .lock()
                .expect("probe lock")
                .peer
                .take()
                .expect("peer dup");
            dup.set_linger(Some(Duration::ZERO)).expect("SO_LINGER 0");
            drop(dup);
            drop(peer);
            let error = write_until_error(&mut stream).await;
            assert!(
                matches!(
                    error.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ),
                "{transport:?}: {error}"
            );
            drop(stream);
            let seen = &probe.lock().expect("probe lock").seen;
            assert_eq!(
                seen.len(),
                1,
                "{transport:?}: before_close runs exactly once"
            );
            assert_eq!(
                seen[0].local.as_ref().expect("getsockname in the hook"),
                &local
            );
            return;
        }
    }

    let seen = std::mem::take(&mut probe.lock().expect("probe lock").seen);
    assert_eq!(
        seen.len(),
        1,
        "{transport:?} {ending:?}: before_close runs exactly once"
    );
    let seen = &seen[0];
    assert_eq!(
        seen.local
            .as_ref()
            .expect("getsockname succeeds inside before_close"),
        &local,
        "{transport:?} {ending:?}"
    );
    assert_eq!(
        seen.peer_peek.as_ref().map_err(io::Error::kind).err(),
        Some(io::ErrorKind::WouldBlock),
        "{transport:?} {ending:?}: the peer saw the close before the hook ran: {:?}",
        seen.peer_peek
    );
    // After the hook, the peer sees end of input.
    let mut buf = [0; 16];
    assert_eq!(
        peer.read(&mut buf).await.expect("peer read"),
        0,
        "{transport:?} {ending:?}"
    );
}

#[tokio::test]
async fn tcp_close_runs_before_close_first() {
    check(Transport::Tcp, Ending::Close).await;
}

#[tokio::test]
async fn tcp_drop_runs_before_close_first() {
    check(Transport::Tcp, Ending::Drop).await;
}

#[tokio::test]
async fn tcp_drop_after_error_runs_before_close_first() {
    check(Transport::Tcp, Ending::DropAfterError).await;
}

#[tokio::test]
async fn unix_close_runs_before_close_first() {
    check(Transport::Unix, Ending::Close).await;
}

#[tokio::test]
async fn unix_drop_runs_before_close_first() {
    check(Transport::Unix, Ending::Drop).await;
}

#[tokio::test]
async fn unix_drop_after_error_runs_before_close_first() {
    check(Transport::Unix, Ending::DropAfterError).await;
}

#[tokio::test]
async fn close_still_runs_the_hook_when_shutdown_fails() {
    let probe = Arc::new(Mutex::new(Probe::default()));
    let (mut stream, peer, _dir) = pair(Transport::Tcp, &probe).await;
    let dup = probe
        .lock()
        .expect("probe lock")
        .peer
        .take()
        .expect("peer dup");
    dup.set_linger(Some(Duration::ZERO)).expect("SO_LINGER 0");
    drop((dup, peer));
    let _ = write_until_error(&mut stream).await;
    let result = stream.close().await;
    let error = result.expect_err("shutdown of a reset connection fails");
    assert_eq!(error.kind(), io::ErrorKind::NotConnected, "{error}");
    assert_eq!(
        probe.lock().expect("probe lock").seen.len(),
        1,
        "the hook ran, once"
    );
}

#[tokio::test]
async fn a_panicking_before_close_does_not_abort_and_still_closes() {
    let (listener, _, endpoint) = tcp_listener().await;
    let hooks = SocketHooks::default().before_close(|_| panic!("hook bug"));
    let stream = connect(&endpoint, &ConnectOptions::default(), &hooks)
        .await
        .expect("connect");
    let (mut peer, _) = listener.accept().await.expect("accept");
    drop(stream);
    let mut buf = [0; 1];
    assert_eq!(
        peer.read(&mut buf).await.expect("peer read"),
        0,
        "the socket was closed"
    );
}
