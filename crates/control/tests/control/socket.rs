//! The control socket: mode 0600, a live one never stolen, a stale one
//! replaced, removed on shutdown, and `NoDaemon` when nothing listens.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use linesman_control::{Client, ClientError, ControlError, ControlServer};
use linesman_testkit::TempDir;

use crate::support::{Daemon, idle_state, patiently};

#[tokio::test]
async fn the_socket_is_only_open_to_its_owner() {
    let daemon = Daemon::start("control-mode").await;
    let meta = std::fs::metadata(daemon.socket()).expect("the socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    daemon.stop().await;
}

#[tokio::test]
async fn a_second_bind_on_a_live_socket_fails_and_the_first_keeps_serving() {
    let dir = TempDir::new("control-live").expect("a temp dir");
    let socket = dir.join("control.sock");
    let first = ControlServer::bind(&socket, idle_state())
        .expect("the first binds")
        .spawn();

    let second = ControlServer::bind(&socket, idle_state());
    match second {
        Err(ref error @ ControlError::AlreadyServing { ref socket, pid }) => {
            assert_eq!(socket, &dir.join("control.sock"));
            assert_eq!(pid, i32::try_from(std::process::id()).ok(), "our own pid");
            let message = error.to_string();
            assert!(
                message.starts_with(&format!(
                    "another linesman daemon is already serving on {}",
                    socket.display()
                )),
                "{message}"
            );
            assert!(message.contains("(pid "), "{message}");
        }
        other => panic!("expected AlreadyServing, got {other:?}"),
    }

    let status = Client::new(&socket)
        .status()
        .await
        .expect("the first still serves");
    assert_eq!(status.connections[0].name, "idle");
    assert_eq!(
        status.connections[0].state,
        linesman_control::State::Waiting
    );
    assert_eq!(status.connections[0].detail, "not started yet");
    first.shutdown().await.expect("a clean shutdown");
}

#[tokio::test]
async fn a_daemon_starting_on_the_same_socket_is_refused_by_the_lock() {
    let dir = TempDir::new("control-lock").expect("a temp dir");
    let socket = dir.join("control.sock");
    let first = ControlServer::bind(&socket, idle_state())
        .expect("the first binds")
        .spawn();
    // The window two daemons race in: one of them found the file stale and
    // removed it, and has not bound yet. Nothing is at the path; only the
    // lock tells the second that the first is there.
    std::fs::remove_file(&socket).expect("the socket file is removable");

    let second = ControlServer::bind(&socket, idle_state());
    match second {
        Err(ref error @ ControlError::Locked { ref lock, .. }) => {
            assert_eq!(lock, &dir.join("control.sock.lock"));
            let message = error.to_string();
            assert!(
                message.starts_with(&format!(
                    "another linesman daemon (pid {}) holds",
                    std::process::id()
                )),
                "names the holder: {message}"
            );
            assert!(message.contains("--socket"), "says what to do: {message}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(
        !socket.exists(),
        "the refused daemon created no socket to strand the first's clients on"
    );
    first.shutdown().await.expect("a clean shutdown");

    // With the first gone, its lock went with it.
    let third = ControlServer::bind(&socket, idle_state())
        .expect("binds once the lock is free")
        .spawn();
    third.shutdown().await.expect("a clean shutdown");
}

#[tokio::test]
async fn a_stale_socket_file_is_replaced() {
    let dir = TempDir::new("control-stale").expect("a temp dir");
    let socket = dir.join("control.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).expect("a listener"));
    assert!(socket.exists(), "the dead listener left its file");
    match Client::new(&socket).status().await {
        Err(ClientError::NoDaemon { .. }) => {}
        other => panic!("a stale socket has no daemon, got {other:?}"),
    }

    let server = ControlServer::bind(&socket, idle_state())
        .expect("the stale file is replaced")
        .spawn();
    let status = Client::new(&socket).status().await.expect("it serves");
    assert_eq!(status.connections.len(), 1);
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test]
async fn something_that_is_not_a_socket_is_never_removed() {
    let dir = TempDir::new("control-file").expect("a temp dir");
    let path = dir.join("control.sock");
    std::fs::write(&path, "keep me").expect("a file");
    match ControlServer::bind(&path, idle_state()) {
        Err(ControlError::NotASocket { socket, what }) => {
            assert_eq!((socket, what.as_str()), (path.clone(), "a regular file"));
        }
        other => panic!("expected NotASocket, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(&path).expect("still there"),
        "keep me"
    );
}

#[tokio::test]
async fn a_symbolic_link_at_the_socket_path_is_refused_as_one_even_to_a_socket() {
    // It was refused as "not a socket" (safe, but it may well point at
    // one: the words sent the operator the wrong way; hostile run h22).
    let dir = TempDir::new("control-link").expect("a temp dir");
    let target = dir.join("real.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&target).expect("a socket");
    let path = dir.join("control.sock");
    std::os::unix::fs::symlink(&target, &path).expect("a link");
    let error = ControlServer::bind(&path, idle_state()).expect_err("a link is not served");
    assert!(
        error
            .to_string()
            .contains("is a symbolic link (someone may have planted it)"),
        "{error}"
    );
    assert!(
        std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()),
        "the link stays"
    );
}

#[tokio::test]
async fn the_socket_file_is_removed_after_shutdown() {
    let daemon = Daemon::start("control-cleanup").await;
    let socket = daemon.stop().await;
    assert!(!socket.exists(), "{} is left behind", socket.display());

    // The same with `run` and a shutdown future.
    let dir = TempDir::new("control-run").expect("a temp dir");
    let socket = dir.join("control.sock");
    let server = ControlServer::bind(&socket, idle_state()).expect("binds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Client::new(&socket).status().await.expect("it serves");
    stop.send(()).expect("the server waits for it");
    patiently("run to return", running)
        .await
        .expect("the task ends")
        .expect("a clean run");
    assert!(!socket.exists());
}

#[tokio::test]
async fn no_daemon_when_nothing_listens() {
    let dir = TempDir::new("control-nodaemon").expect("a temp dir");
    let socket = dir.join("absent.sock");
    let client = Client::new(&socket);
    let error = client.status().await.expect_err("nobody there");
    match &error {
        ClientError::NoDaemon { socket: tried, .. } => assert_eq!(tried, &socket),
        other => panic!("expected NoDaemon, got {other:?}"),
    }
    assert!(
        error.to_string().contains(&socket.display().to_string()),
        "the message names the socket: {error}"
    );
    assert!(matches!(
        client.events().await,
        Err(ClientError::NoDaemon { .. })
    ));
    assert!(matches!(
        client.stop("x").await,
        Err(ClientError::NoDaemon { .. })
    ));
}

#[tokio::test]
async fn binding_beside_a_daemon_with_a_full_backlog_fails_instead_of_waiting() {
    let dir = TempDir::new("control-full").expect("a temp dir");
    let socket = dir.join("control.sock");
    // A daemon that stopped accepting (SIGSTOP) with its backlog full.
    let stuck =
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).expect("a socket");
    stuck
        .bind(&socket2::SockAddr::unix(&socket).expect("an address"))
        .expect("bind");
    stuck.listen(0).expect("listen");
    let mut held = Vec::new();
    loop {
        let client = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)
            .expect("a socket");
        client.set_nonblocking(true).expect("nonblocking");
        if client
            .connect(&socket2::SockAddr::unix(&socket).expect("an address"))
            .is_err()
        {
            break;
        }
        held.push(client);
        assert!(held.len() <= 64, "the backlog never filled");
    }
    // Its lock is not held (the lock file is ours to take): only the probe
    // of the socket can tell that someone is there.
    let bound = tokio::task::spawn_blocking(move || ControlServer::bind(&socket, idle_state()));
    let bound = patiently("bind to give up", bound).await.expect("bind ran");
    match bound {
        Err(ControlError::AlreadyServing { pid: None, .. }) => {}
        other => panic!("expected AlreadyServing, got {other:?}"),
    }
}

/// A path in `dir` of exactly `len` bytes.
fn path_of_len(dir: &std::path::Path, len: usize) -> std::path::PathBuf {
    let prefix = format!("{}/", dir.display());
    let name = "s".repeat(len.saturating_sub(prefix.len() + 5));
    let path = std::path::PathBuf::from(format!("{prefix}{name}.sock"));
    assert_eq!(path.as_os_str().len(), len, "{}", path.display());
    path
}

#[tokio::test]
async fn a_socket_path_longer_than_the_unix_limit_says_its_length_and_the_limit() {
    let dir = TempDir::new("control-long").expect("a temp dir");
    let long = path_of_len(dir.path(), 120);
    match ControlServer::bind(&long, idle_state()) {
        Err(ref error @ ControlError::PathTooLong { ref socket, len }) => {
            assert_eq!((socket, len), (&long, 120));
            let message = error.to_string();
            assert!(
                message.contains(
                    "the path is 120 bytes long, and a Unix socket path can be at most 107 bytes (108 with the closing NUL): pick a shorter path"
                ),
                "{message}"
            );
        }
        other => panic!("expected PathTooLong, got {other:?}"),
    }
    // Refused before its lock file was made: nothing is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read dir").collect();
    assert!(left.is_empty(), "{left:?}");

    match Client::new(&long).status().await {
        Err(ref error @ ClientError::PathTooLong { len: 120, .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("a Unix socket path can be at most 107 bytes")
                    && message.contains("shorter path"),
                "{message}"
            );
        }
        other => panic!("expected PathTooLong, got {other:?}"),
    }

    // The longest that fits is bound and served.
    let fits = path_of_len(dir.path(), linesman_control::MAX_SOCKET_PATH);
    let server = ControlServer::bind(&fits, idle_state())
        .expect("107 bytes fit")
        .spawn();
    Client::new(&fits).status().await.expect("it serves");
    server.shutdown().await.expect("a clean shutdown");
}
