//! [`ReasonClass`]: a [`Reason`] in one word from a small closed set, the
//! `reason` label of the daemon's `linesman_connect_failures_total` and
//! `linesman_disconnects_total`; and [`EndCounts`], how many connect
//! failures and disconnects a connection had of each class.
//!
//! Why a closed set: a label takes one series per value, so the free-text
//! reason (which names addresses and OS error numbers) would grow the
//! metrics without bound. The words are stable: an alert rule may name
//! them.

use std::fmt;
use std::io;

use crate::reason::{Reason, StopCause};

/// A [`Reason`] in one word. See [`Reason::class`] for the mapping.
///
/// ```
/// use linesman_connection::{Reason, ReasonClass};
///
/// assert_eq!(Reason::PeerClosed.class(), ReasonClass::PeerClosed);
/// assert_eq!(ReasonClass::PeerClosed.as_str(), "peer_closed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ReasonClass {
    /// `refused`: the peer's host answered that nothing listens there.
    Refused,
    /// `timeout`: a connect, write, frame or idle timeout ran out.
    Timeout,
    /// `dns`: the host name did not resolve (or resolved to no address).
    Dns,
    /// `unreachable`: no route to the host or network, or no local address.
    Unreachable,
    /// `no_socket`: a Unix socket path with no socket file.
    NoSocket,
    /// `denied`: permission denied (a Unix socket's mode, a firewall).
    Denied,
    /// `fd_limit`: no file descriptor (or socket budget) left for a socket.
    FdLimit,
    /// `handshake`: the handler's `on_connect` failed.
    Handshake,
    /// `peer_closed`: the peer closed the connection in an orderly way.
    PeerClosed,
    /// `reset`: the connection was reset or aborted.
    Reset,
    /// `io`: another read, write or connect error.
    Io,
    /// `protocol`: the peer sent bytes that are not a valid frame.
    Protocol,
    /// `handler`: the handler's `on_frame` failed or the handler panicked.
    Handler,
    /// `stopped`: stopped (or restarted) on request.
    Stopped,
    /// `dependency`: stopped or restarted because a dependency went down.
    Dependency,
    /// `shutdown`: the daemon (or supervisor) is shutting down.
    Shutdown,
    /// `finished`: the application ended the session on purpose.
    Finished,
}

impl ReasonClass {
    /// Every class, in this order (the order of [`EndCounts`]' arrays).
    pub const ALL: [ReasonClass; 17] = [
        ReasonClass::Refused,
        ReasonClass::Timeout,
        ReasonClass::Dns,
        ReasonClass::Unreachable,
        ReasonClass::NoSocket,
        ReasonClass::Denied,
        ReasonClass::FdLimit,
        ReasonClass::Handshake,
        ReasonClass::PeerClosed,
        ReasonClass::Reset,
        ReasonClass::Io,
        ReasonClass::Protocol,
        ReasonClass::Handler,
        ReasonClass::Stopped,
        ReasonClass::Dependency,
        ReasonClass::Shutdown,
        ReasonClass::Finished,
    ];

    /// The word: `refused`, `timeout`, `dns`, `unreachable`, `no_socket`,
    /// `denied`, `fd_limit`, `handshake`, `peer_closed`, `reset`, `io`,
    /// `protocol`, `handler`, `stopped`, `dependency`, `shutdown` or
    /// `finished`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonClass::Refused => "refused",
            ReasonClass::Timeout => "timeout",
            ReasonClass::Dns => "dns",
            ReasonClass::Unreachable => "unreachable",
            ReasonClass::NoSocket => "no_socket",
            ReasonClass::Denied => "denied",
            ReasonClass::FdLimit => "fd_limit",
            ReasonClass::Handshake => "handshake",
            ReasonClass::PeerClosed => "peer_closed",
            ReasonClass::Reset => "reset",
            ReasonClass::Io => "io",
            ReasonClass::Protocol => "protocol",
            ReasonClass::Handler => "handler",
            ReasonClass::Stopped => "stopped",
            ReasonClass::Dependency => "dependency",
            ReasonClass::Shutdown => "shutdown",
            ReasonClass::Finished => "finished",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ReasonClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Reason {
    /// This reason in one word (see [`ReasonClass`]). A connect failure is
    /// classed by its OS error kind: refused, timed out, unreachable, no
    /// socket file, denied, out of descriptors; a resolver failure is
    /// `dns`; anything else `io`. Timeouts of a session (write, frame,
    /// idle) are `timeout`, a heartbeat that could not be written `io`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_connection::{Reason, ReasonClass, StopCause};
    ///
    /// let refused = Reason::ConnectFailed {
    ///     error: "connect to tcp://127.0.0.1:1 failed: …".into(),
    ///     kind: std::io::ErrorKind::ConnectionRefused,
    /// };
    /// assert_eq!(refused.class(), ReasonClass::Refused);
    /// let idle = Reason::IdleTimeout { after: Duration::from_secs(5) };
    /// assert_eq!(idle.class(), ReasonClass::Timeout);
    /// assert_eq!(Reason::Stopped(StopCause::Shutdown).class(), ReasonClass::Shutdown);
    /// ```
    pub fn class(&self) -> ReasonClass {
        match self {
            Reason::ConnectFailed { error, kind } => connect_class(error, *kind),
            Reason::HandshakeFailed(_) => ReasonClass::Handshake,
            Reason::PeerClosed => ReasonClass::PeerClosed,
            Reason::Reset | Reason::Aborted => ReasonClass::Reset,
            Reason::Io(_) | Reason::HeartbeatFailed(_) => ReasonClass::Io,
            Reason::WriteTimeout { .. }
            | Reason::FrameTimeout { .. }
            | Reason::IdleTimeout { .. } => ReasonClass::Timeout,
            Reason::Protocol(_) => ReasonClass::Protocol,
            Reason::Handler(_) | Reason::HandlerPanic(_) => ReasonClass::Handler,
            Reason::Stopped(StopCause::Shutdown) => ReasonClass::Shutdown,
            Reason::Stopped(StopCause::DependencyDown { .. } | StopCause::DependencyBack) => {
                ReasonClass::Dependency
            }
            Reason::Stopped(_) => ReasonClass::Stopped,
            Reason::Finished => ReasonClass::Finished,
        }
    }
}

/// The class of a connect failure: by the text of the stream crate's
/// `ConnectError` where the kind cannot tell (a resolver error, the
/// socket budget), else by the OS error kind.
fn connect_class(error: &str, kind: io::ErrorKind) -> ReasonClass {
    // `ConnectError::Resolve` and `::NoAddresses` both start so.
    if error.starts_with("resolve ") {
        return ReasonClass::Dns;
    }
    if error.contains("too many open files") || error.starts_with("no socket left") {
        return ReasonClass::FdLimit;
    }
    match kind {
        io::ErrorKind::ConnectionRefused => ReasonClass::Refused,
        io::ErrorKind::TimedOut => ReasonClass::Timeout,
        io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkDown
        | io::ErrorKind::AddrNotAvailable => ReasonClass::Unreachable,
        io::ErrorKind::NotFound => ReasonClass::NoSocket,
        io::ErrorKind::PermissionDenied => ReasonClass::Denied,
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => ReasonClass::Reset,
        _ => ReasonClass::Io,
    }
}

/// How many connect failures and disconnects of each [`ReasonClass`] a
/// connection had, over all its sessions; never reset.
///
/// ```
/// use linesman_connection::{EndCounts, ReasonClass};
///
/// let counts = EndCounts::default();
/// assert_eq!(counts.connect_failures(ReasonClass::Refused), 0);
/// assert_eq!(counts.iter_connect_failures().count(), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndCounts {
    connect_failures: [u64; ReasonClass::ALL.len()],
    disconnects: [u64; ReasonClass::ALL.len()],
}

impl EndCounts {
    /// Connect attempts that failed for `class`.
    pub fn connect_failures(&self, class: ReasonClass) -> u64 {
        self.connect_failures[class.index()]
    }

    /// Sessions that were up and ended for `class`.
    pub fn disconnects(&self, class: ReasonClass) -> u64 {
        self.disconnects[class.index()]
    }

    /// The classes with at least one connect failure, with their counts.
    pub fn iter_connect_failures(&self) -> impl Iterator<Item = (ReasonClass, u64)> + '_ {
        nonzero(&self.connect_failures)
    }

    /// The classes with at least one disconnect, with their counts.
    pub fn iter_disconnects(&self) -> impl Iterator<Item = (ReasonClass, u64)> + '_ {
        nonzero(&self.disconnects)
    }

    pub(crate) fn add_connect_failure(&mut self, class: ReasonClass) {
        let n = &mut self.connect_failures[class.index()];
        *n = n.saturating_add(1);
    }

    pub(crate) fn add_disconnect(&mut self, class: ReasonClass) {
        let n = &mut self.disconnects[class.index()];
        *n = n.saturating_add(1);
    }
}

fn nonzero(counts: &[u64]) -> impl Iterator<Item = (ReasonClass, u64)> + '_ {
    ReasonClass::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(class, n)| (*class, *n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_its_own_word_at_its_own_index() {
        for (i, class) in ReasonClass::ALL.iter().enumerate() {
            assert_eq!(class.index(), i, "{class}");
            let word = class.as_str();
            assert!(
                word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{word}"
            );
        }
        let mut words: Vec<_> = ReasonClass::ALL.iter().map(|c| c.as_str()).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), ReasonClass::ALL.len());
    }

    #[test]
    fn connect_failures_are_classed_by_the_stream_crates_errors() {
        let failed = |error: &str, kind| Reason::ConnectFailed {
            error: error.to_owned(),
            kind,
        };
        let cases = [
            (
                "connect to tcp://127.0.0.1:1 failed: 127.0.0.1:1: Connection refused (os error 111); check that the peer is up and listening",
                io::ErrorKind::ConnectionRefused,
                ReasonClass::Refused,
            ),
            (
                "resolve tcp://nosuch.invalid:1 failed: failed to lookup address information; check the host name and the resolver",
                io::ErrorKind::Other,
                ReasonClass::Dns,
            ),
            (
                "resolve tcp://empty.example:1 gave no addresses; check the host name",
                io::ErrorKind::NotFound,
                ReasonClass::Dns,
            ),
            (
                "connect to unix:///run/x.sock failed: /run/x.sock: No such file or directory (os error 2); check that the peer is up and listening",
                io::ErrorKind::NotFound,
                ReasonClass::NoSocket,
            ),
            (
                "connect to tcp://10.0.0.1:1 timed out: …",
                io::ErrorKind::TimedOut,
                ReasonClass::Timeout,
            ),
            (
                "connect to tcp://127.0.0.1:1 failed: too many open files (limit 1024): raise LimitNOFILE",
                io::ErrorKind::Other,
                ReasonClass::FdLimit,
            ),
            (
                "connect to tcp://10.9.9.9:1 failed: 10.9.9.9:1: No route to host (os error 113)",
                io::ErrorKind::HostUnreachable,
                ReasonClass::Unreachable,
            ),
            ("a hook said no", io::ErrorKind::Other, ReasonClass::Io),
        ];
        for (error, kind, class) in cases {
            assert_eq!(failed(error, kind).class(), class, "{error}");
        }
    }

    #[test]
    fn session_ends_are_classed_by_their_variant() {
        let cases = [
            (Reason::PeerClosed, ReasonClass::PeerClosed),
            (Reason::Reset, ReasonClass::Reset),
            (Reason::Aborted, ReasonClass::Reset),
            (Reason::Io("x".into()), ReasonClass::Io),
            (Reason::Protocol("x".into()), ReasonClass::Protocol),
            (Reason::HandshakeFailed("x".into()), ReasonClass::Handshake),
            (Reason::HandlerPanic("x".into()), ReasonClass::Handler),
            (Reason::Stopped(StopCause::Requested), ReasonClass::Stopped),
            (Reason::Stopped(StopCause::Restart), ReasonClass::Stopped),
            (
                Reason::Stopped(StopCause::DependencyBack),
                ReasonClass::Dependency,
            ),
            (Reason::Finished, ReasonClass::Finished),
        ];
        for (reason, class) in cases {
            assert_eq!(reason.class(), class, "{reason}");
        }
    }

    #[test]
    fn counts_add_up_per_class_and_list_only_what_happened() {
        let mut counts = EndCounts::default();
        counts.add_connect_failure(ReasonClass::Refused);
        counts.add_connect_failure(ReasonClass::Refused);
        counts.add_disconnect(ReasonClass::PeerClosed);
        assert_eq!(
            counts.iter_connect_failures().collect::<Vec<_>>(),
            [(ReasonClass::Refused, 2)]
        );
        assert_eq!(
            counts.iter_disconnects().collect::<Vec<_>>(),
            [(ReasonClass::PeerClosed, 1)]
        );
    }
}
