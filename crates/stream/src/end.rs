//! [`input_end`]: after a read returned end of input, asks the kernel
//! whether the peer really closed the connection.
//!
//! Why it is needed: a TCP connection that the kernel aborts on this side
//! (`TCP_USER_TIMEOUT`, keepalive, retransmissions running out, a reset)
//! holds one pending error, `ETIMEDOUT` or `ECONNRESET`, and is shut down
//! for reading. The first call on the socket takes the error; every later
//! read returns 0, exactly as after the peer's orderly close. When a writer
//! and a reader share the socket, the writer may take the error and the
//! reader then sees a clean end of input. The socket's state tells the two
//! apart: after the peer's FIN it is `CLOSE_WAIT` (or `CLOSING`,
//! `LAST_ACK`, `TIME_WAIT` once this side closed too); after an abort it is
//! `CLOSE`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::SockRef;

/// The error a [`Stream`](crate::Stream) read returns instead of end of
/// input when the connection was aborted on this side and another call on
/// the socket (typically a write) already took the abort's own error. Its
/// [`io::Error`] has kind [`ConnectionAborted`](io::ErrorKind::ConnectionAborted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the connection was aborted on this side (a timeout such as TCP_USER_TIMEOUT or keepalive, or a reset); its error went to another call on the socket"
)]
#[non_exhaustive]
pub struct AbortedElsewhere;

impl AbortedElsewhere {
    /// Whether `error` is an [`AbortedElsewhere`].
    pub fn is(error: &io::Error) -> bool {
        error
            .get_ref()
            .is_some_and(|inner| inner.is::<AbortedElsewhere>())
    }

    /// The end of input of an aborted connection, as a read error: the
    /// abort's error if it is still pending, else an [`AbortedElsewhere`].
    pub(crate) fn error(pending: Option<io::Error>) -> io::Error {
        pending
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::ConnectionAborted, AbortedElsewhere))
    }
}

/// Why reading a socket returned end of input, as far as the kernel can
/// tell; see [`input_end`].
#[derive(Debug)]
#[non_exhaustive]
pub enum InputEnd {
    /// The peer closed its side in an orderly way: its FIN arrived (TCP
    /// state `CLOSE_WAIT`, `CLOSING`, `LAST_ACK` or `TIME_WAIT`).
    PeerClosed,
    /// The connection was aborted on this side (TCP state `CLOSE`): a
    /// timeout (`TCP_USER_TIMEOUT`, keepalive, retransmissions) or a reset.
    /// The error, if it was still pending (`SO_ERROR`); `None` when another
    /// call on the socket (typically a write) already took it.
    Aborted(Option<io::Error>),
    /// The kernel cannot tell: not a TCP socket, not Linux, or the query
    /// failed.
    Unknown,
}

/// Tells why a read on `fd` returned end of input (call it only then): the
/// peer's orderly close, or an abort on this side whose error another call
/// took first. Linux only (`TCP_INFO`); elsewhere, and for Unix
/// sockets, [`InputEnd::Unknown`].
///
/// ```no_run
/// use std::os::fd::AsFd;
/// use linesman_stream::{InputEnd, input_end};
///
/// # fn after_eof(stream: &std::net::TcpStream) {
/// match input_end(stream.as_fd()) {
///     InputEnd::PeerClosed => println!("the peer closed the connection"),
///     InputEnd::Aborted(error) => println!("aborted here: {error:?}"),
///     _ => println!("cannot tell"),
/// }
/// # }
/// ```
pub fn input_end(fd: BorrowedFd<'_>) -> InputEnd {
    match tcp_state(fd) {
        Some(TCP_CLOSE) => {
            let pending = SockRef::from(&fd).take_error().ok().flatten();
            InputEnd::Aborted(pending)
        }
        Some(TCP_CLOSE_WAIT | TCP_CLOSING | TCP_LAST_ACK | TCP_TIME_WAIT) => InputEnd::PeerClosed,
        _ => InputEnd::Unknown,
    }
}

// TCP states of the Linux kernel (include/net/tcp_states.h); libc does not
// name them for Linux.
const TCP_TIME_WAIT: u8 = 6;
const TCP_CLOSE: u8 = 7;
const TCP_CLOSE_WAIT: u8 = 8;
const TCP_LAST_ACK: u8 = 9;
const TCP_CLOSING: u8 = 11;

/// The socket's TCP state (`tcpi_state` of `TCP_INFO`), `None` for a socket
/// that is not TCP or when the query fails.
#[cfg(target_os = "linux")]
fn tcp_state(fd: BorrowedFd<'_>) -> Option<u8> {
    // SAFETY: `tcp_info` is plain old data (integers only), so all-zero
    // bytes are a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `fd` is a live descriptor (borrowed for this call); the kernel
    // writes at most `len` bytes into `info`, a live and aligned local, and
    // stores the length it wrote in `len`; nothing is kept after the call.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    (rc == 0 && len >= 1).then_some(info.tcpi_state)
}

#[cfg(not(target_os = "linux"))]
fn tcp_state(_fd: BorrowedFd<'_>) -> Option<u8> {
    None
}
