//! [`Reason`]: why a session ended, one variant per detection, and
//! [`SessionOutcome`]: what [`run_session`](crate::Connection::run_session)
//! returns to whoever decides what happens next.

use std::fmt;
use std::io;
use std::time::Duration;

use linesman_ipc_codec::CodecError;
use linesman_stream::AbortedElsewhere;

/// Why a session ended.
///
/// Its [`Display`](fmt::Display) is lowercase and says which detection
/// fired; it is the `reason` of the `Disconnected` event (or the `error` of
/// `ConnectFailed` when the session never came up).
///
/// Only two ends are clean: [`Stopped`](Reason::Stopped) (the supervisor
/// or the stop token asked for it) and [`Finished`](Reason::Finished) (the
/// application asked for it with [`Link::finish`](crate::Link::finish)).
/// Every other end is a failure, the peer's orderly close included: a
/// long-lived connection that the peer ends unasked has to come back.
///
/// ```
/// use std::time::Duration;
/// use linesman_connection::{Reason, StopCause};
///
/// let idle = Reason::IdleTimeout { after: Duration::from_secs(5) };
/// assert_eq!(idle.to_string(), "idle timeout: no bytes received for 5s");
/// assert!(idle.is_failure());
/// assert!(Reason::PeerClosed.is_failure());
/// assert!(!Reason::Finished.is_failure());
/// assert!(!Reason::Stopped(StopCause::Requested).is_failure());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The socket could not be connected (or the blocking source not
    /// opened); the session never started.
    ConnectFailed {
        /// What the connect said.
        error: String,
        /// Its kind: tells "refused" from "timed out".
        kind: io::ErrorKind,
    },
    /// The handler's `on_connect` returned an error; the session never came up.
    HandshakeFailed(String),
    /// The peer closed the connection in an orderly way (end of input
    /// between frames, and the kernel saw the peer's FIN), or the blocking
    /// source ended. A failure: the application did not ask for it.
    PeerClosed,
    /// The peer reset the connection (`ECONNRESET`, `ECONNABORTED`, `EPIPE`).
    Reset,
    /// The kernel aborted the connection on this side (a timeout such as
    /// `TCP_USER_TIMEOUT` or keepalive, or a reset) and its error went
    /// elsewhere; when the writer met it, the writer's reason is given
    /// instead.
    Aborted,
    /// Reading or writing failed for another reason (this includes a dead
    /// path detected by TCP keepalive or `TCP_USER_TIMEOUT`: "connection
    /// timed out").
    Io(String),
    /// A frame write made no progress for `after` (the `write_timeout`):
    /// the peer does not read.
    WriteTimeout {
        /// The write timeout that ran out.
        after: Duration,
    },
    /// A frame the peer began was not complete `after` (the
    /// `frame_timeout`) since the session first waited for its rest.
    FrameTimeout {
        /// The frame timeout that ran out.
        after: Duration,
    },
    /// The peer sent bytes that are not a valid frame (the codec's error,
    /// naming the bad value), or the input ended inside a frame.
    Protocol(String),
    /// No byte was received for `after` (the `idle_timeout`).
    IdleTimeout {
        /// The idle timeout that ran out.
        after: Duration,
    },
    /// Writing a heartbeat frame failed.
    HeartbeatFailed(String),
    /// The handler's `on_frame` returned an error.
    Handler(String),
    /// The handler panicked (in `on_connect` or `on_frame`); the panic was
    /// caught and only this session ended.
    HandlerPanic(String),
    /// The session was stopped from outside, for the [`StopCause`] its
    /// stopper gave (a plain [`SessionControl::stop`](crate::SessionControl::stop)
    /// or a closed handle is [`StopCause::Requested`]).
    Stopped(StopCause),
    /// The application ended the session on purpose with
    /// [`Link::finish`](crate::Link::finish) or
    /// [`ConnectionHandle::finish`](crate::ConnectionHandle::finish).
    Finished,
}

impl Reason {
    /// Whether the session ended without being asked to: every reason but
    /// `Stopped` and `Finished` is a failure, `PeerClosed` included.
    pub fn is_failure(&self) -> bool {
        !matches!(self, Reason::Stopped(_) | Reason::Finished)
    }

    /// Whether the end came from the input side ending (the peer's close,
    /// an abort whose error went elsewhere): a writer that failed meanwhile
    /// knows better why.
    pub(crate) fn is_end_of_input(&self) -> bool {
        matches!(self, Reason::PeerClosed | Reason::Aborted)
    }

    /// The reason for a failed read or write through the codec.
    pub(crate) fn from_codec(error: CodecError) -> Reason {
        match error {
            CodecError::Io(error) => Reason::from_io(&error),
            other => Reason::Protocol(other.to_string()),
        }
    }

    /// The reason for a failed read or write on the socket.
    pub(crate) fn from_io(error: &io::Error) -> Reason {
        if AbortedElsewhere::is(error) {
            return Reason::Aborted;
        }
        match error.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Reason::Reset,
            _ => Reason::Io(error.to_string()),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ConnectFailed { error, .. } => write!(f, "connect failed: {error}"),
            Reason::HandshakeFailed(error) => {
                write!(f, "handshake failed: on_connect returned an error: {error}")
            }
            Reason::PeerClosed => f.write_str("peer closed the connection"),
            Reason::Reset => f.write_str("connection reset by peer"),
            Reason::Aborted => f.write_str(
                "connection aborted on this side: a timeout (TCP_USER_TIMEOUT, keepalive) or a reset ended it",
            ),
            Reason::Io(error) => write!(f, "i/o error: {error}"),
            Reason::WriteTimeout { after } => write!(
                f,
                "write timeout: no progress writing to the peer for {} (it is not reading)",
                humantime::format_duration(*after)
            ),
            Reason::FrameTimeout { after } => write!(
                f,
                "frame timeout: a frame the peer began was not complete within {}",
                humantime::format_duration(*after)
            ),
            Reason::Protocol(error) => write!(f, "protocol error: {error}"),
            Reason::IdleTimeout { after } => write!(
                f,
                "idle timeout: no bytes received for {}",
                humantime::format_duration(*after)
            ),
            Reason::HeartbeatFailed(error) => {
                write!(
                    f,
                    "heartbeat failed: writing the heartbeat frame failed: {error}"
                )
            }
            Reason::Handler(error) => {
                write!(f, "handler error: on_frame returned an error: {error}")
            }
            Reason::HandlerPanic(message) => write!(f, "handler panicked: {message}"),
            Reason::Stopped(cause) => cause.fmt(f),
            Reason::Finished => f.write_str("finished by the application"),
        }
    }
}

/// Why a session was stopped from outside: the [`Reason::Stopped`] of its
/// end, so that its `Disconnected` event says the truth.
///
/// ```
/// use linesman_connection::StopCause;
///
/// assert_eq!(StopCause::Requested.to_string(), "stopped on request");
/// assert_eq!(StopCause::Shutdown.to_string(), "shutdown");
/// let down = StopCause::DependencyDown { on: vec!["orders".into()] };
/// assert_eq!(down.to_string(), "dependency `orders` went down");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopCause {
    /// Someone asked for it: a `stop` command, a closed handle, a plain
    /// [`SessionControl::stop`](crate::SessionControl::stop).
    Requested,
    /// The supervisor (or the daemon) is shutting down.
    Shutdown,
    /// A `restart` was asked for: the connection connects again at once.
    Restart,
    /// The connection's start rule stopped holding because these
    /// connections went down (`on_dependency_down: stop`).
    DependencyDown {
        /// What the start rule now waits on (empty if that is not known).
        on: Vec<String>,
    },
    /// A dependency went down and came back (`on_dependency_down:
    /// restart`): the connection reconnects.
    DependencyBack,
    /// A reload of the configuration removed the connection.
    Removed,
    /// A reload of the configuration changed the connection's settings: it
    /// reconnects with the new ones.
    Reconfigured,
}

impl fmt::Display for StopCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopCause::Requested => f.write_str("stopped on request"),
            StopCause::Shutdown => f.write_str("shutdown"),
            StopCause::Restart => f.write_str("restart requested"),
            StopCause::DependencyDown { on } => match on.as_slice() {
                [] => f.write_str("a dependency went down"),
                [one] => write!(f, "dependency `{one}` went down"),
                many => {
                    f.write_str("dependencies ")?;
                    for (i, name) in many.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "`{name}`")?;
                    }
                    f.write_str(" went down")
                }
            },
            StopCause::DependencyBack => {
                f.write_str("reconnecting: a dependency went down and came back")
            }
            StopCause::Removed => f.write_str("removed by reload"),
            StopCause::Reconfigured => {
                f.write_str("settings changed by reload: reconnecting with the new ones")
            }
        }
    }
}

/// What one session came to: returned by
/// [`Connection::run_session`](crate::Connection::run_session).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOutcome {
    /// Why it ended.
    pub reason: Reason,
    /// Whether it came up (connected and `on_connect` succeeded), that is,
    /// whether `Connected` was published.
    pub was_up: bool,
    /// How long it was up; zero when it never came up.
    pub uptime: Duration,
}
