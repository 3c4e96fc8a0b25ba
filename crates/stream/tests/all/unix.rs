//! `connect` to Unix sockets in a temp dir: success with `on_open`, and
//! the errors for a missing socket, a stale one and a full backlog.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use linesman_stream::{
    ConnectError, ConnectOptions, Endpoint, SocketAddress, SocketHooks, connect,
};
use socket2::{Domain, SockAddr, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use crate::common::TempDir;

#[tokio::test]
async fn unix_connects_with_on_open() {
    let dir = TempDir::new();
    let path = dir.path().join("peer.sock");
    let listener = UnixListener::bind(&path).expect("bind unix listener");
    let endpoint = Endpoint::Unix(path.clone());
    let opened = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&opened);
    let hooks = SocketHooks::default().on_open(move |sock| {
        // A Unix socket in on_open: not connected yet.
        assert!(sock.peer_addr().is_err());
        count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    // TCP options are ignored for Unix sockets, not refused.
    let options = ConnectOptions::default().send_buffer_size(Some(1));
    let mut stream = connect(&endpoint, &options, &hooks).await.expect("connect");
    let (mut peer, _) = listener.accept().await.expect("accept");

    assert_eq!(opened.load(Ordering::SeqCst), 1);
    assert!(!stream.is_tcp());
    assert_eq!(stream.endpoint(), &endpoint);
    assert_eq!(
        stream.peer_addr().expect("peer_addr"),
        SocketAddress::Unix(Some(path))
    );
    assert_eq!(
        stream.local_addr().expect("local_addr"),
        SocketAddress::Unix(None)
    );
    stream.write_all(b"hi").await.expect("write");
    let mut buf = [0; 2];
    peer.read_exact(&mut buf).await.expect("peer reads");
    assert_eq!(&buf, b"hi");
}

#[tokio::test]
async fn unix_errors_name_the_path_and_the_os_error() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing.sock");
    let endpoint = Endpoint::Unix(missing.clone());
    let error = connect(
        &endpoint,
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect_err("no such socket");
    assert_eq!(error.kind(), io::ErrorKind::NotFound);
    let message = error.to_string();
    assert!(
        message.contains(&format!("connect to unix://{}", missing.display())),
        "{message}"
    );
    assert!(
        message.contains(&format!("{}: ", missing.display())),
        "{message}"
    );

    // A socket file whose listener is gone: refused.
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
    let error = connect(
        &Endpoint::Unix(stale),
        &ConnectOptions::default(),
        &SocketHooks::default(),
    )
    .await
    .expect_err("nobody listens");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    assert!(error.to_string().contains("refused"), "{error}");

    // A path that is no socket at all: said so, not "refused" (a listener
    // cannot exist there, so there is none to look for).
    let file = dir.path().join("file.sock");
    std::fs::write(&file, b"not a socket").expect("write a file");
    let fifo = dir.path().join("fifo.sock");
    let fifo_path =
        std::ffi::CString::new(fifo.to_str().expect("utf-8").as_bytes()).expect("c path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    let made = unsafe { libc::mkfifo(fifo_path.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo");
    for (path, what) in [
        (file, "a regular file"),
        (dir.path().to_owned(), "a directory"),
        (fifo, "a FIFO"),
    ] {
        let error = connect(
            &Endpoint::Unix(path.clone()),
            &ConnectOptions::default(),
            &SocketHooks::default(),
        )
        .await
        .expect_err("not a socket");
        assert!(
            error
                .to_string()
                .contains(&format!("{}: not a socket but {what}", path.display())),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_full_unix_backlog_is_refused_at_once_with_a_clear_message() {
    // Backlog 0 holds one pending connection; a nonblocking connect beyond
    // that gets EAGAIN from Linux instead of waiting.
    let dir = TempDir::new();
    let path = dir.path().join("full.sock");
    let listener = Socket::new(Domain::UNIX, Type::STREAM, None).expect("socket");
    listener
        .bind(&SockAddr::unix(&path).expect("address"))
        .expect("bind");
    listener.listen(0).expect("listen");
    let endpoint = Endpoint::Unix(path);
    let mut queued = Vec::new();
    let error = loop {
        match connect(
            &endpoint,
            &ConnectOptions::default(),
            &SocketHooks::default(),
        )
        .await
        {
            Ok(stream) => queued.push(stream),
            Err(error) => break error,
        }
        assert!(queued.len() < 8, "the backlog never filled");
    };
    assert!(matches!(error, ConnectError::Connect { .. }), "{error:?}");
    assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    assert!(error.to_string().contains("backlog is full"), "{error}");
}
