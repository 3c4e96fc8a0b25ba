//! Every error this crate returns: [`ControlError`] for the server,
//! [`ClientError`] for the [`Client`](crate::Client), [`SocketDirError`]
//! for both when the socket's private directory is not private.
//!
//! Messages are lowercase, name the socket and say what to do, so the CLI can
//! print them as they are.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why the control server could not bind or serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// A daemon answers on the socket already; it is never taken over.
    #[error(
        "another linesman daemon is already serving on {}{}: stop it first, or pick another socket (control.socket, --socket)",
        .socket.display(),
        pid_text(*.pid)
    )]
    AlreadyServing {
        /// The socket path.
        socket: PathBuf,
        /// The serving process, when its credentials could be read.
        pid: Option<i32>,
    },
    /// Another daemon holds the socket's lock file: it is serving on the
    /// socket, or starting to.
    #[error(
        "another linesman daemon{} holds {} for the control socket {} (it is serving or starting): stop it first, or pick another socket (control.socket, --socket)",
        .holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        .lock.display(),
        .socket.display()
    )]
    Locked {
        /// The socket path.
        socket: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
        /// The pid the holder wrote in the lock file, if it did.
        holder: Option<u32>,
    },
    /// The lock file beside the socket could not be opened or locked.
    #[error(
        "cannot lock {} for the control socket: {source}; {}",
        .lock.display(),
        lock_hint(.source)
    )]
    Lock {
        /// The lock file.
        lock: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The lock file beside the socket is not one this daemon could have
    /// made (a symbolic link, a hard link, another user's file): someone
    /// may have planted it, so it is neither used nor touched.
    #[error(
        "{} (the control socket's lock file) is {problem}: someone may have planted it; remove it after checking, or pick another socket (control.socket, --socket)",
        .lock.display()
    )]
    UnsafeLock {
        /// The lock file.
        lock: PathBuf,
        /// What is wrong with it, e.g. `a symbolic link`.
        problem: String,
    },
    /// The private directory of the default socket is not private.
    #[error(transparent)]
    SocketDir(#[from] SocketDirError),
    /// Something that is not a socket is in the way; it is never removed.
    #[error(
        "{} exists and is {what}, not a socket: remove it, or pick another socket path",
        .socket.display()
    )]
    NotASocket {
        /// The path.
        socket: PathBuf,
        /// What is there, e.g. `a regular file`, or `a symbolic link
        /// (someone may have planted it)`.
        what: String,
    },
    /// The path is longer than a Unix socket's address can hold: nothing
    /// could be bound there.
    #[error(
        "cannot bind the control socket {}: the path is {len} bytes long, and a Unix socket path can be at most {} bytes ({} with the closing NUL): pick a shorter path (--socket, LINESMAN_SOCKET or control.socket), e.g. in $XDG_RUNTIME_DIR or /tmp",
        .socket.display(),
        crate::MAX_SOCKET_PATH,
        crate::MAX_SOCKET_PATH + 1
    )]
    PathTooLong {
        /// The socket path.
        socket: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// The socket could not be created, bound or listened on.
    #[error("cannot bind the control socket {}: {source}", .socket.display())]
    Bind {
        /// The socket path.
        socket: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A stale socket file (no daemon behind it) could not be removed.
    #[error(
        "cannot remove the stale control socket {}: {source}; remove it by hand",
        .socket.display()
    )]
    RemoveStale {
        /// The socket path.
        socket: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The socket's mode could not be set to 0600, so it is not served.
    #[error(
        "cannot restrict the control socket {} to its owner (mode 0600): {source}",
        .socket.display()
    )]
    Permissions {
        /// The socket path.
        socket: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Serving failed.
    #[error("the control server on {} failed: {source}", .socket.display())]
    Serve {
        /// The socket path.
        socket: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

fn pid_text(pid: Option<i32>) -> String {
    pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
}

/// Why a [`Client`](crate::Client) call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Nothing listens on the socket: the file is missing, or it is stale.
    #[error(
        "no linesman daemon is listening on {} ({source}): start one with `linesman run -c FILE`, or point --socket (LINESMAN_SOCKET) at the daemon's socket",
        .socket.display()
    )]
    NoDaemon {
        /// The socket path tried.
        socket: PathBuf,
        /// The connect error (not found, or connection refused).
        source: io::Error,
    },
    /// The path is longer than a Unix socket's address can hold: no daemon
    /// can serve there.
    #[error(
        "cannot connect to {}: the path is {len} bytes long, and a Unix socket path can be at most {} bytes ({} with the closing NUL), so no daemon can serve there: point --socket (LINESMAN_SOCKET) or control.socket at a shorter path, e.g. in $XDG_RUNTIME_DIR or /tmp",
        .socket.display(),
        crate::MAX_SOCKET_PATH,
        crate::MAX_SOCKET_PATH + 1
    )]
    PathTooLong {
        /// The socket path tried.
        socket: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// The socket exists but could not be connected to, e.g. permission denied.
    #[error(
        "cannot connect to the linesman daemon on {}: {source}; the socket is only open to the user that runs the daemon",
        .socket.display()
    )]
    Connect {
        /// The socket path tried.
        socket: PathBuf,
        /// The connect error.
        source: io::Error,
    },
    /// The daemon did not accept the connection, or did not answer, in
    /// time: it is stopped, hung or overloaded.
    #[error(
        "the daemon on {} did not answer within {}; is it stopped (SIGSTOP), overloaded, or serving as many control clients as it allows (its log says so)?",
        .socket.display(),
        duration_text(*.after)
    )]
    Timeout {
        /// The socket path.
        socket: PathBuf,
        /// The timeout that passed.
        after: Duration,
    },
    /// An events stream was silent for longer than the server's keep-alive
    /// lines allow: the daemon is stopped, hung or overloaded.
    #[error(
        "the daemon on {} sent nothing on its event stream for {} (it sends a keep-alive line every few seconds); is it stopped (SIGSTOP) or overloaded?",
        .socket.display(),
        duration_text(*.after)
    )]
    Silent {
        /// The socket path.
        socket: PathBuf,
        /// How long it was silent.
        after: Duration,
    },
    /// The daemon ended an events stream early, saying why (its last line
    /// was an [`ErrorBody`](crate::ErrorBody)).
    #[error("the daemon on {} ended the event stream: {message}", .socket.display())]
    Dropped {
        /// The socket path.
        socket: PathBuf,
        /// The daemon's reason.
        message: String,
    },
    /// The process serving the socket runs as another user: whatever it
    /// is, it is not this user's daemon, and nothing is sent to it.
    #[error(
        "the socket {} is served by uid {uid}{user}, not by you (uid {own}); refusing to trust it: point --socket (LINESMAN_SOCKET) at your own daemon, or run the command as the daemon's user",
        .socket.display()
    )]
    ForeignServer {
        /// The socket path.
        socket: PathBuf,
        /// The server's uid.
        uid: u32,
        /// ` (user NAME)` when the uid has a name, else empty.
        user: String,
        /// This process's effective uid.
        own: u32,
    },
    /// The server's credentials could not be read, so it cannot be trusted.
    #[error(
        "cannot tell who serves the socket {}: {source}; refusing to trust it",
        .socket.display()
    )]
    PeerCredentials {
        /// The socket path.
        socket: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The private directory of the default socket is not private.
    #[error(transparent)]
    SocketDir(#[from] SocketDirError),
    /// The HTTP exchange failed (the daemon went away mid-request, or sent
    /// something that is not HTTP).
    #[error("the HTTP exchange with the daemon on {} failed: {source}", .socket.display())]
    Http {
        /// The socket path.
        socket: PathBuf,
        /// What hyper said.
        source: hyper::Error,
    },
    /// The request could not be made (a bug: names are percent-encoded).
    #[error("cannot build the request for {path}: {source}")]
    Request {
        /// The request's path.
        path: String,
        /// What the http crate said.
        source: hyper::http::Error,
    },
    /// The daemon answered with an error status; `message` is its own words.
    #[error("the daemon refused: {message} (HTTP {status})")]
    Api {
        /// The HTTP status code, e.g. 404.
        status: u16,
        /// The daemon's message.
        message: String,
        /// For an unknown connection: the names the daemon knows.
        known: Vec<String>,
    },
    /// The daemon's answer is not the JSON this client expects.
    #[error(
        "cannot read the daemon's answer to {what}: {source}; is the daemon the same version as this client?"
    )]
    Decode {
        /// Which request, e.g. `GET /v1/status`.
        what: &'static str,
        /// What serde_json said.
        source: serde_json::Error,
    },
}

/// Why the directory of the default control socket cannot be used: it is
/// not a directory private to this user. It is refused, never repaired.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketDirError {
    /// A symbolic link where the directory should be.
    #[error(
        "{} (the directory of the control socket) is a symbolic link, not a directory: someone may have planted it; remove it, or choose another socket (--socket, LINESMAN_SOCKET, XDG_RUNTIME_DIR)",
        .dir.display()
    )]
    Symlink {
        /// The directory's path.
        dir: PathBuf,
    },
    /// Something that is not a directory.
    #[error(
        "{} (the directory of the control socket) is not a directory: remove it, or choose another socket (--socket, LINESMAN_SOCKET, XDG_RUNTIME_DIR)",
        .dir.display()
    )]
    NotADirectory {
        /// The path.
        dir: PathBuf,
    },
    /// Another user's directory.
    #[error(
        "{} (the directory of the control socket) is owned by uid {uid}{user}, not by you (uid {own}): someone else may have planted it; remove it after checking what it holds, or choose another socket (--socket, LINESMAN_SOCKET, XDG_RUNTIME_DIR)",
        .dir.display()
    )]
    Owner {
        /// The directory.
        dir: PathBuf,
        /// Its owner.
        uid: u32,
        /// ` (user NAME)` when the owner has a name, else empty.
        user: String,
        /// This process's effective uid.
        own: u32,
    },
    /// Ours, but open to group or others.
    #[error(
        "{} (the directory of the control socket) has mode {mode:04o}; it must be private to you: chmod 700 {}",
        .dir.display(),
        .dir.display()
    )]
    Mode {
        /// The directory.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// It could not be created or inspected.
    #[error(
        "cannot create or inspect {}, the directory of the control socket: {source}",
        .dir.display()
    )]
    Io {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// `10s`, `1.5s`, `250ms`.
pub(crate) fn duration_text(duration: Duration) -> String {
    if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
        format!("{}s", duration.as_secs())
    } else if duration.as_secs() > 0 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// What to do about a lock file that could not be opened, by why.
fn lock_hint(source: &io::Error) -> &'static str {
    match source.kind() {
        io::ErrorKind::NotFound => {
            "its directory does not exist: create it (RuntimeDirectory= in a systemd unit), or pick another socket (control.socket, --socket)"
        }
        io::ErrorKind::PermissionDenied => {
            "this user may not write in its directory: fix the directory's owner or mode, or pick another socket (control.socket, --socket)"
        }
        _ => "check the directory, or pick another socket (control.socket, --socket)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration_text(Duration::from_secs(10)), "10s");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1.5s");
        assert_eq!(duration_text(Duration::from_millis(250)), "250ms");
    }
}
