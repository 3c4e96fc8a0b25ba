//! The control socket: binding it safely, and who may talk to it.
//!
//! Why it is bound this way:
//!
//! - **Mode 0600 with no window.** The socket is created with `socket2`,
//!   bound, `chmod`ed to 0600, and only then put in the listening state. A
//!   bound socket that does not listen refuses every `connect`, so nobody can
//!   connect while it still has the mode the umask gave it. The process-wide
//!   umask is left alone (changing it would race with every other thread
//!   that creates files).
//! - **Same uid only.** Every accepted connection's peer credentials
//!   (`SO_PEERCRED`) are read; [`authorize`] refuses another uid with 403.
//!   The mode alone would do on most systems; the check is the second lock.
//! - **A live socket is never stolen.** When the path is taken, the server
//!   connects to it: if someone answers, binding fails with
//!   [`ControlError::AlreadyServing`] (naming the pid from the answering
//!   process's credentials); if the connection is refused, the file is a
//!   stale leftover of a dead daemon and is replaced. Something that is not
//!   a socket is never removed.
//! - **One daemon per socket, even when two start at once.** Before it
//!   touches the socket, the server takes an exclusive lock on
//!   `<socket>.lock` (mode 0600) and holds it while it serves; a second
//!   daemon fails with [`ControlError::Locked`]. The lock file is opened
//!   as if someone else had planted it (the socket may be in a shared
//!   directory): never through a symbolic link (`O_NOFOLLOW`), never
//!   blocking, and it must then be a regular file of ours with one link —
//!   otherwise [`ControlError::UnsafeLock`], and nothing is written. Without it, two daemons
//!   starting at the same time on one stale file could both see it stale,
//!   and the loser would serve a socket nobody can reach. The lock goes with
//!   the process (the kernel drops it on exit, even on a crash); the file
//!   stays, with the pid of its last holder (which a refused daemon's
//!   message gives): removing it on exit would let a starting daemon lock
//!   a file that is no longer the one at that path.
//! - **Removed on exit**, by [`SocketFile`]'s `Drop` (or by a
//!   [`SocketCleanup`] on a forced exit), only if the path still names the
//!   socket this server bound (same device and inode), so a daemon that
//!   replaced ours is never cut off.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener as StdUnixListener, UnixStream as StdUnixStream};
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, Socket, Type};
use tokio::net::UnixStream;

use crate::error::ControlError;
use crate::user;

/// How many connections may wait to be accepted: room for a burst of
/// clients while the server is busy (the kernel caps it at somaxconn).
const BACKLOG: i32 = 1024;

/// Whether a peer running as `peer_uid` may use a control socket owned by
/// `own_uid`: only the same uid may. `None` (credentials unreadable) is
/// refused.
///
/// ```
/// use linesman_control::authorize;
/// assert!(authorize(Some(1000), 1000));
/// assert!(!authorize(Some(0), 1000)); // not even root: run the CLI as the daemon's user
/// assert!(!authorize(None, 1000));
/// ```
pub fn authorize(peer_uid: Option<u32>, own_uid: u32) -> bool {
    peer_uid == Some(own_uid)
}

/// The credentials of the process on the other end of an accepted
/// connection, as the server's handlers see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) uid: Option<u32>,
    pub(crate) pid: Option<i32>,
}

impl Peer {
    /// The credentials of `stream`'s peer, as far as they can be read.
    pub(crate) fn of(stream: &UnixStream) -> Peer {
        match stream.peer_cred() {
            Ok(cred) => Peer {
                uid: Some(cred.uid()),
                pid: cred.pid(),
            },
            Err(error) => {
                tracing::warn!(%error, "cannot read the peer credentials of a control connection");
                Peer {
                    uid: None,
                    pid: None,
                }
            }
        }
    }
}

/// Removes a server's socket file from outside the server — on a forced
/// exit, which skips the server's own cleanup — but only if the path still
/// names the socket that server bound. Made by
/// [`ServerHandle::cleanup`](crate::ServerHandle::cleanup).
#[derive(Debug, Clone)]
pub struct SocketCleanup {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketCleanup {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the path still names the socket bound (not removed, not
    /// replaced by another file or socket).
    pub(crate) fn in_place(&self) -> bool {
        std::fs::symlink_metadata(&self.path)
            .is_ok_and(|meta| meta.dev() == self.dev && meta.ino() == self.ino)
    }

    /// Removes the socket file if it is still the one bound; does nothing
    /// otherwise (it is gone, or another daemon's).
    pub fn remove(&self) {
        if self.in_place()
            && let Err(error) = std::fs::remove_file(&self.path)
        {
            tracing::warn!(socket = %self.path.display(), %error, "cannot remove the control socket");
        }
    }
}

/// The bound socket file: removed on drop if it is still ours.
#[derive(Debug)]
pub(crate) struct SocketFile {
    /// The lock file beside the socket, locked while this exists (set once
    /// the socket is bound).
    lock: Option<File>,
    cleanup: SocketCleanup,
    /// The uid that owns the socket, i.e. this process's effective uid.
    pub(crate) uid: u32,
}

impl SocketFile {
    pub(crate) fn path(&self) -> &Path {
        self.cleanup.path()
    }

    /// What removes the file from elsewhere.
    pub(crate) fn cleanup(&self) -> SocketCleanup {
        self.cleanup.clone()
    }

    /// Removes the file now, if it is still ours.
    pub(crate) fn remove(&self) {
        self.cleanup.remove();
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The longest path a Unix socket can be bound at or connected to, in
/// bytes: Linux's `sun_path` holds 108 with the closing NUL (the socket
/// layer's [`MAX_UNIX_PATH`](linesman_stream::MAX_UNIX_PATH)).
pub const MAX_SOCKET_PATH: usize = linesman_stream::MAX_UNIX_PATH;

/// `Some(length)` when `path` is longer than [`MAX_SOCKET_PATH`]: the OS
/// would refuse it with a word that does not give the limit.
pub(crate) fn too_long(path: &Path) -> Option<usize> {
    use std::os::unix::ffi::OsStrExt;
    let len = path.as_os_str().as_bytes().len();
    (len > MAX_SOCKET_PATH).then_some(len)
}

/// Binds `path` as described in the module docs; the listener is
/// non-blocking, ready for tokio.
pub(crate) fn bind(path: &Path) -> Result<(StdUnixListener, SocketFile), ControlError> {
    // Before the lock file beside it is made: nothing is left behind.
    if let Some(len) = too_long(path) {
        return Err(ControlError::PathTooLong {
            socket: path.to_owned(),
            len,
        });
    }
    let lock = match lock(path) {
        Ok(lock) => lock,
        // Held: a daemon that answers is named with its pid; otherwise it
        // is still starting.
        Err(locked @ ControlError::Locked { .. }) => {
            return Err(match check_stale(path) {
                Err(serving @ ControlError::AlreadyServing { .. }) => serving,
                _ => locked,
            });
        }
        Err(other) => return Err(other),
    };
    let (listener, mut file) = bind_unlocked(path)?;
    file.lock = Some(lock);
    Ok((listener, file))
}

/// The socket part of [`bind`], under its lock.
fn bind_unlocked(path: &Path) -> Result<(StdUnixListener, SocketFile), ControlError> {
    match try_bind(path) {
        Err(error) if in_use(&error) => {}
        other => return other,
    }
    // The path is taken: a live daemon, a stale file, or not a socket at all.
    check_stale(path)?;
    tracing::info!(socket = %path.display(), "replacing a stale control socket");
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(ControlError::RemoveStale {
                socket: path.to_owned(),
                source,
            });
        }
    }
    match try_bind(path) {
        Err(error) if in_use(&error) => {
            // Someone bound it between our remove and our bind.
            check_stale(path)?;
            Err(error)
        }
        other => other,
    }
}

/// Takes the exclusive lock on `<path>.lock`, creating the file (mode
/// 0600) if needed; [`ControlError::Locked`] if another process holds it,
/// [`ControlError::UnsafeLock`] if the file is not one we could have made.
fn lock(path: &Path) -> Result<File, ControlError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock = PathBuf::from(name);
    let unsafe_lock = |problem: String| ControlError::UnsafeLock {
        lock: lock.clone(),
        problem,
    };
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(&lock);
    let file = match opened {
        Ok(file) => file,
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            return Err(unsafe_lock("a symbolic link".to_owned()));
        }
        Err(error) if error.raw_os_error() == Some(libc::EISDIR) => {
            return Err(unsafe_lock("not a regular file".to_owned()));
        }
        Err(source) => return Err(ControlError::Lock { lock, source }),
    };
    let meta = file.metadata().map_err(|source| ControlError::Lock {
        lock: lock.clone(),
        source,
    })?;
    let own = user::effective_uid();
    if !meta.file_type().is_file() {
        return Err(unsafe_lock("not a regular file".to_owned()));
    }
    if meta.uid() != own {
        return Err(unsafe_lock(format!(
            "owned by uid {}{}, not by you (uid {own})",
            meta.uid(),
            user::name_text(meta.uid())
        )));
    }
    if meta.nlink() != 1 {
        return Err(unsafe_lock(format!(
            "a file with {} links (a hard link to another file)",
            meta.nlink()
        )));
    }
    match file.try_lock() {
        Ok(()) => {
            // Ours now: our pid in it, for the message of a daemon refused
            // by it (a failure to write only leaves that message without).
            let _ = file
                .set_len(0)
                .and_then(|()| writeln!(&file, "{}", std::process::id()));
            Ok(file)
        }
        Err(TryLockError::WouldBlock) => Err(ControlError::Locked {
            socket: path.to_owned(),
            holder: holder(&file),
            lock,
        }),
        Err(TryLockError::Error(source)) => Err(ControlError::Lock { lock, source }),
    }
}

/// The pid the lock's holder wrote in it: a short line of digits, read
/// from the file opened (and checked) above; `None` for anything else.
fn holder(mut file: &File) -> Option<u32> {
    let mut text = [0u8; 16];
    let read = std::io::Read::read(&mut file, &mut text).ok()?;
    std::str::from_utf8(&text[..read]).ok()?.trim().parse().ok()
}

fn in_use(error: &ControlError) -> bool {
    matches!(error, ControlError::Bind { source, .. } if source.kind() == io::ErrorKind::AddrInUse)
}

fn bind_error(path: &Path, source: io::Error) -> ControlError {
    ControlError::Bind {
        socket: path.to_owned(),
        source,
    }
}

/// `Ok` if the file at `path` is a socket nobody listens on.
fn check_stale(path: &Path) -> Result<(), ControlError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            let kind = meta.file_type();
            let what = if kind.is_symlink() {
                // Even to a socket: a link is not followed, whoever made it.
                "a symbolic link (someone may have planted it)"
            } else {
                linesman_stream::file_kind(kind)
            };
            return Err(ControlError::NotASocket {
                socket: path.to_owned(),
                what: what.to_owned(),
            });
        }
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(bind_error(path, source)),
    }
    // Non-blocking: a blocking connect to a listener whose backlog is full
    // (a stopped daemon) would wait for room forever; EAGAIN says someone
    // is there.
    let probe = Socket::new(Domain::UNIX, Type::STREAM, None)
        .and_then(|probe| probe.set_nonblocking(true).map(|()| probe))
        .map_err(|source| bind_error(path, source))?;
    let address = SockAddr::unix(path).map_err(|source| bind_error(path, source))?;
    match probe.connect(&address) {
        Ok(()) => Err(ControlError::AlreadyServing {
            socket: path.to_owned(),
            pid: StdUnixStream::from(std::os::fd::OwnedFd::from(probe)).peer_cred_pid(),
        }),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
            Err(ControlError::AlreadyServing {
                socket: path.to_owned(),
                pid: None,
            })
        }
        Err(source) => Err(bind_error(path, source)),
    }
}

/// The pid of a std `UnixStream`'s peer, read through tokio (std's
/// `peer_cred` is unstable) when a runtime is there to register with.
trait PeerPid {
    fn peer_cred_pid(self) -> Option<i32>;
}

impl PeerPid for StdUnixStream {
    fn peer_cred_pid(self) -> Option<i32> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let _entered = runtime.enter();
        self.set_nonblocking(true).ok()?;
        let stream = tokio::net::UnixStream::from_std(self).ok()?;
        stream.peer_cred().ok()?.pid()
    }
}

/// Creates the socket, binds it, restricts it to 0600, then listens.
fn try_bind(path: &Path) -> Result<(StdUnixListener, SocketFile), ControlError> {
    let fail = |source| bind_error(path, source);
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(fail)?;
    socket
        .bind(&SockAddr::unix(path).map_err(fail)?)
        .map_err(fail)?;
    let meta = std::fs::symlink_metadata(path).map_err(fail)?;
    let file = SocketFile {
        lock: None,
        cleanup: SocketCleanup {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        },
        uid: meta.uid(),
    };
    // From here on, dropping `file` removes the socket if anything fails.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        ControlError::Permissions {
            socket: path.to_owned(),
            source,
        }
    })?;
    socket.listen(BACKLOG).map_err(fail)?;
    socket.set_nonblocking(true).map_err(fail)?;
    let listener = StdUnixListener::from(std::os::fd::OwnedFd::from(socket));
    Ok((listener, file))
}

#[cfg(test)]
mod tests {
    use super::authorize;

    #[test]
    fn only_the_same_uid_is_authorized() {
        assert!(authorize(Some(0), 0));
        assert!(authorize(Some(1000), 1000));
        assert!(!authorize(Some(1001), 1000));
        assert!(!authorize(Some(65534), 0));
        assert!(!authorize(None, 0));
    }
}
