//! The protocol against real datagram sockets: a path and an abstract name,
//! what each message says, and a socket that is gone or never read.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use linesman_testkit::TempDir;

use super::{Notifier, NotifyError, monotonic_usec};

/// Every read here is bounded.
const PATIENCE: Duration = Duration::from_secs(10);

fn receive(socket: &UnixDatagram) -> String {
    socket.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut buffer = [0u8; 4096];
    let n = socket.recv(&mut buffer).expect("a datagram arrives");
    String::from_utf8(buffer[..n].to_vec()).expect("utf-8")
}

#[test]
fn messages_reach_a_path_socket() {
    let dir = TempDir::new("notify-path").expect("temp dir");
    let path = dir.join("notify.sock");
    let systemd = UnixDatagram::bind(&path).expect("bind");
    let notifier = Notifier::new(path.as_os_str()).expect("a notifier");

    notifier.ready("1 up, 0 waiting, 0 in backoff");
    notifier.status("0 up, 1 waiting, 0 in backoff");
    notifier.watchdog();
    notifier.stopping();
    assert_eq!(
        [
            receive(&systemd),
            receive(&systemd),
            receive(&systemd),
            receive(&systemd)
        ],
        [
            "READY=1\nSTATUS=1 up, 0 waiting, 0 in backoff",
            "STATUS=0 up, 1 waiting, 0 in backoff",
            "WATCHDOG=1",
            "STOPPING=1\nSTATUS=shutting down",
        ]
    );
}

#[test]
fn messages_reach_an_abstract_socket() {
    let name = format!("linesman-notify-test-{}", std::process::id());
    let address = SocketAddr::from_abstract_name(name.as_bytes()).expect("an abstract name");
    let systemd = UnixDatagram::bind_addr(&address).expect("bind the abstract name");
    let notifier = Notifier::new(OsStr::new(&format!("@{name}"))).expect("a notifier");

    notifier.ready("0 up, 0 waiting, 0 in backoff");
    assert_eq!(
        receive(&systemd),
        "READY=1\nSTATUS=0 up, 0 waiting, 0 in backoff"
    );
}

#[test]
fn reloading_carries_the_monotonic_clock() {
    let dir = TempDir::new("notify-reload").expect("temp dir");
    let path = dir.join("notify.sock");
    let systemd = UnixDatagram::bind(&path).expect("bind");
    let notifier = Notifier::new(path.as_os_str()).expect("a notifier");

    let before = monotonic_usec();
    notifier.reloading();
    let after = monotonic_usec();
    let message = receive(&systemd);
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 3, "{message}");
    assert_eq!(lines[0], "RELOADING=1");
    assert_eq!(lines[2], "STATUS=reloading");
    let usec: u64 = lines[1]
        .strip_prefix("MONOTONIC_USEC=")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("MONOTONIC_USEC=<number>, got {message}"));
    assert!(
        before > 0 && before <= usec && usec <= after,
        "{before} {usec} {after}"
    );
}

#[test]
fn a_bad_address_is_refused_in_words() {
    for (value, why) in [
        ("", "it is empty"),
        ("@", "the abstract name is empty"),
        ("run/notify", "it starts with neither '/' nor '@'"),
        ("vsock:2:1234", "it starts with neither '/' nor '@'"),
    ] {
        match Notifier::new(OsStr::new(value)) {
            Err(error @ NotifyError::Address { why: got, .. }) => {
                assert_eq!(got, why, "{value:?}");
                assert!(error.to_string().contains("unset it"), "{error}");
            }
            other => panic!("{value:?}: expected an address error, got {other:?}"),
        }
    }
    let long = format!("/{}", "x".repeat(200));
    assert!(matches!(
        Notifier::new(OsStr::new(&long)),
        Err(NotifyError::Address { .. })
    ));
}

#[test]
fn a_gone_or_full_socket_neither_blocks_nor_fails() {
    let dir = TempDir::new("notify-gone").expect("temp dir");
    let path = dir.join("notify.sock");
    let systemd = UnixDatagram::bind(&path).expect("bind");
    let notifier = Notifier::new(path.as_os_str()).expect("a notifier");

    // Never read: the receive queue fills and sends would block, but the
    // notifier's socket does not wait.
    for _ in 0..10_000 {
        notifier.status("0 up, 0 waiting, 0 in backoff");
    }
    assert!(notifier.failed.load(std::sync::atomic::Ordering::Relaxed));

    drop(systemd);
    std::fs::remove_file(&path).expect("remove the socket");
    let gone = Notifier::new(path.as_os_str()).expect("a notifier");
    gone.ready("x");
    gone.stopping();
    assert!(gone.failed.load(std::sync::atomic::Ordering::Relaxed));
}
