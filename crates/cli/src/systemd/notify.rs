//! The sd_notify protocol, by hand: one datagram per message, sent to the
//! Unix socket systemd names in `NOTIFY_SOCKET`, each message lines of
//! `KEY=VALUE`:
//!
//! ```text
//!   NOTIFY_SOCKET=/run/systemd/notify        a path
//!   NOTIFY_SOCKET=@/org/freedesktop/...      an abstract name ('@' → leading NUL)
//!
//!   datagram: "READY=1\nSTATUS=2 up, 0 waiting, 1 in backoff"
//!             52 45 41 44 59 3d 31 0a 53 54 41 54 55 53 3d ...
//! ```
//!
//! Why by hand: the protocol is a `sendto` of text; no dependency is worth
//! it. A notifier never blocks and never fails the daemon: its socket is
//! non-blocking, and a send that fails (systemd gone, queue full) is logged
//! once, at debug, then dropped like every later one.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::{AtomicBool, Ordering};

/// Why `NOTIFY_SOCKET` cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum NotifyError {
    /// The value is neither an absolute path nor an abstract name.
    #[error(
        "NOTIFY_SOCKET={value} is not an absolute path or an abstract name (@name): {why}; \
         systemd sets it for Type=notify services, so unset it when running by hand"
    )]
    Address {
        /// The value, lossily.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// No datagram socket could be made to send from.
    #[error("cannot make a datagram socket to notify systemd: {0}")]
    Socket(#[source] std::io::Error),
}

/// Sends sd_notify messages to one socket; shared by the daemon's tasks.
#[derive(Debug)]
pub(crate) struct Notifier {
    socket: UnixDatagram,
    address: SocketAddr,
    /// Whether a send has failed already (only the first is logged).
    failed: AtomicBool,
}

impl Notifier {
    /// A notifier sending to `value`, a `NOTIFY_SOCKET`: an absolute path,
    /// or `@name` for the abstract name `\0name`.
    pub(crate) fn new(value: &OsStr) -> Result<Notifier, NotifyError> {
        let address = parse_address(value)?;
        let socket = UnixDatagram::unbound().map_err(NotifyError::Socket)?;
        socket.set_nonblocking(true).map_err(NotifyError::Socket)?;
        Ok(Notifier {
            socket,
            address,
            failed: AtomicBool::new(false),
        })
    }

    /// `READY=1` with the current status: startup is done.
    pub(crate) fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    /// `STATUS=…`: one line shown by `systemctl status`.
    pub(crate) fn status(&self, status: &str) {
        self.send(&format!("STATUS={status}"));
    }

    /// `RELOADING=1` with `MONOTONIC_USEC` (required by `Type=notify-reload`);
    /// a [`ready`](Self::ready) ends the reload.
    pub(crate) fn reloading(&self) {
        self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading",
            monotonic_usec()
        ));
    }

    /// `STOPPING=1`: the shutdown began.
    pub(crate) fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=shutting down");
    }

    /// `WATCHDOG=1`: still alive.
    pub(crate) fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Sends `message` as one datagram, without waiting; a failure is
    /// logged the first time only.
    fn send(&self, message: &str) {
        if let Err(error) = self.socket.send_to_addr(message.as_bytes(), &self.address)
            && !self.failed.swap(true, Ordering::Relaxed)
        {
            tracing::debug!(
                %error,
                "cannot notify systemd (NOTIFY_SOCKET); later failures are not logged"
            );
        }
    }
}

/// The address a `NOTIFY_SOCKET` value names.
fn parse_address(value: &OsStr) -> Result<SocketAddr, NotifyError> {
    let bytes = value.as_bytes();
    let invalid = |why| NotifyError::Address {
        value: value.to_string_lossy().into_owned(),
        why,
    };
    match bytes.first() {
        Some(b'@') if bytes.len() > 1 => {
            SocketAddr::from_abstract_name(&bytes[1..]).map_err(|_| invalid("the name is too long"))
        }
        Some(b'@') => Err(invalid("the abstract name is empty")),
        Some(b'/') => SocketAddr::from_pathname(value)
            .map_err(|_| invalid("the path is too long or holds a NUL byte")),
        Some(_) => Err(invalid("it starts with neither '/' nor '@'")),
        None => Err(invalid("it is empty")),
    }
}

/// CLOCK_MONOTONIC in microseconds, as systemd reads it.
fn monotonic_usec() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call's duration;
    // CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut now) };
    if rc != 0 {
        return 0;
    }
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(now.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000).saturating_add(nanos / 1_000)
}

#[cfg(test)]
mod tests;
