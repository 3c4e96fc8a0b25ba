//! Every error of the crate: why a send failed ([`SendError`]), why a
//! request failed ([`RequestError`]), and the error a handler returns to end
//! its session ([`HandlerError`]).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// Why [`ConnectionHandle::send`](crate::ConnectionHandle::send) (or
/// [`Link::send`](crate::Link::send)) did not write a frame.
///
/// A send that fails never reached the peer whole: it was not written to
/// the socket, or (for [`ConnectionLost`](SendError::ConnectionLost)) only
/// its beginning was, and the session ended there, so the peer saw its
/// input end inside a frame. linesman never retries it; sending it again is
/// safe (the peer cannot have it twice).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No session is up and the connection has no outbox.
    #[error(
        "the connection is not up; wait for it to be up, or configure an outbox so sends wait for the next session"
    )]
    NotConnected,
    /// The session ended before the frame was written whole: the peer never
    /// got it (at most its beginning, cut off by the end of the session).
    #[error(
        "the connection was lost before the frame was written whole; the peer did not get it, send it again"
    )]
    ConnectionLost,
    /// No session is up and the outbox is full.
    #[error(
        "the outbox is full ({max_frames} frames, {max_bytes} bytes); wait for the connection to come up or raise the outbox bounds"
    )]
    OutboxFull {
        /// The outbox's bound on waiting frames.
        max_frames: usize,
        /// The outbox's bound on waiting payload bytes.
        max_bytes: usize,
    },
    /// The connection was closed with [`ConnectionHandle::close`](crate::ConnectionHandle::close).
    #[error("the connection is closed; no more frames can be sent on it")]
    Closed,
    /// The frame does not fit the connection's layout or `max_frame`; it was
    /// not written and the session goes on.
    #[error("the frame cannot be encoded: {0}")]
    Encode(String),
    /// The connection's target is a blocking source, which only receives.
    #[error(
        "the connection reads from a blocking source and cannot send; send on a socket connection"
    )]
    ReceiveOnly,
}

/// Why [`ConnectionHandle::request`](crate::ConnectionHandle::request) did
/// not get its reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request frame could not be sent.
    #[error("the request was not sent: {0}")]
    Send(#[source] SendError),
    /// No reply came within the timeout (counted from the call, so time in
    /// the outbox counts too).
    #[error(
        "no reply within {}; the peer may be slow or may not answer this request, raise the timeout or check the peer",
        humantime::format_duration(*after)
    )]
    TimedOut {
        /// The timeout that ran out.
        after: Duration,
    },
    /// The session ended after the request was sent and before its reply came.
    #[error(
        "the connection was lost before the reply came; the peer may or may not have handled the request"
    )]
    ConnectionLost,
    /// The connection was closed while the request waited.
    #[error("the connection was closed while the request waited for its reply")]
    Closed,
}

/// The error a [`Handler`](crate::Handler) returns to end its session.
///
/// Any error type converts into it with `?`; [`HandlerError::msg`] makes one
/// from a message. It deliberately does not implement [`std::error::Error`]
/// itself (as `anyhow::Error` does not), so that the blanket conversion is
/// possible; [`HandlerError::as_error`] gives the wrapped error.
///
/// ```
/// use linesman_connection::HandlerError;
///
/// fn parse(payload: &[u8]) -> Result<u32, HandlerError> {
///     let text = std::str::from_utf8(payload)?; // any error converts
///     if text.is_empty() {
///         return Err(HandlerError::msg("empty payload"));
///     }
///     Ok(text.parse()?)
/// }
/// assert_eq!(parse(b"42").ok(), Some(42));
/// assert_eq!(parse(b"").unwrap_err().to_string(), "empty payload");
/// ```
pub struct HandlerError {
    inner: Box<dyn StdError + Send + Sync + 'static>,
}

impl HandlerError {
    /// A handler error that says `message`.
    pub fn msg(message: impl fmt::Display) -> HandlerError {
        HandlerError {
            inner: message.to_string().into(),
        }
    }

    /// A handler error that wraps `error`.
    pub fn new(error: impl StdError + Send + Sync + 'static) -> HandlerError {
        HandlerError {
            inner: Box::new(error),
        }
    }

    /// The wrapped error.
    pub fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }

    /// The wrapped error, owned.
    pub fn into_inner(self) -> Box<dyn StdError + Send + Sync + 'static> {
        self.inner
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> HandlerError {
        HandlerError::new(error)
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)?;
        let mut source = self.inner.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
