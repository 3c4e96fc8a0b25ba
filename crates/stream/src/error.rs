//! The errors of connecting and of starting a blocking source (an
//! endpoint's parse error is [`EndpointError`](crate::EndpointError), beside
//! the parser). Each carries the context needed to act on it
//! (the input, the endpoint, every address tried and what the OS said).

use std::fmt;
use std::io;
use std::time::Duration;

use crate::endpoint::Endpoint;
use crate::stream::SocketAddress;

/// One address that [`connect`](crate::connect) tried, and why it failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectAttempt {
    /// The address tried.
    pub address: SocketAddress,
    /// What the OS said (or a timeout, kind [`io::ErrorKind::TimedOut`]).
    pub error: io::Error,
}

impl fmt::Display for ConnectAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.address, self.error)
    }
}

/// An open-file limit as a message shows it.
struct Limit(Option<u64>);

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(u64::MAX) => f.write_str("unlimited"),
            Some(limit) => write!(f, "{limit}"),
            None => f.write_str("unknown"),
        }
    }
}

/// The attempts of one connect, displayed as `addr: error; addr: error`.
struct Attempts<'a>(&'a [ConnectAttempt]);

impl fmt::Display for Attempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, attempt) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{attempt}")?;
        }
        Ok(())
    }
}

/// Why [`connect`](crate::connect) could not open a [`Stream`](crate::Stream).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The host name could not be resolved (or resolving it timed out).
    #[error("resolve {endpoint} failed: {source}; check the host name and the resolver")]
    Resolve {
        /// The endpoint being connected.
        endpoint: Endpoint,
        /// What the resolver said.
        source: io::Error,
    },
    /// The host name resolved to no address at all.
    #[error("resolve {endpoint} gave no addresses; check the host name")]
    NoAddresses {
        /// The endpoint being connected.
        endpoint: Endpoint,
    },
    /// Every address tried timed out.
    #[error(
        "connect to {endpoint} timed out: {}; check that the peer is reachable or raise connect_timeout",
        Attempts(attempts)
    )]
    Timeout {
        /// The endpoint being connected.
        endpoint: Endpoint,
        /// The connect timeout that each attempt had.
        timeout: Duration,
        /// Every address tried, in order.
        attempts: Vec<ConnectAttempt>,
    },
    /// Every address tried failed, at least one for a reason other than a timeout.
    #[error(
        "connect to {endpoint} failed: {}; check that the peer is up and listening",
        Attempts(attempts)
    )]
    Connect {
        /// The endpoint being connected.
        endpoint: Endpoint,
        /// Every address tried, in order.
        attempts: Vec<ConnectAttempt>,
    },
    /// The process (`EMFILE`) or the system (`ENFILE`) has no file
    /// descriptor left for another socket; no address was tried after it.
    #[error(
        "connect to {endpoint} failed: too many open files (limit {}): raise LimitNOFILE (systemd) or `ulimit -n`, or run fewer connections",
        Limit(*limit)
    )]
    TooManyOpenFiles {
        /// The endpoint being connected.
        endpoint: Endpoint,
        /// The open-file limit (`RLIMIT_NOFILE`) when it failed, if known.
        limit: Option<u64>,
        /// What the OS said.
        source: io::Error,
    },
    /// The `on_open` hook returned an error; the connect was abandoned.
    #[error(
        "on_open hook for {endpoint} (address {address}) failed: {source}; the connect was abandoned"
    )]
    Hook {
        /// The endpoint being connected.
        endpoint: Endpoint,
        /// The address the socket was about to connect to.
        address: SocketAddress,
        /// What the hook returned.
        source: io::Error,
    },
}

impl ConnectError {
    /// The endpoint this error is about.
    pub fn endpoint(&self) -> &Endpoint {
        match self {
            ConnectError::Resolve { endpoint, .. }
            | ConnectError::NoAddresses { endpoint }
            | ConnectError::Timeout { endpoint, .. }
            | ConnectError::Connect { endpoint, .. }
            | ConnectError::TooManyOpenFiles { endpoint, .. }
            | ConnectError::Hook { endpoint, .. } => endpoint,
        }
    }

    /// Every address tried, in order, with what the OS said (empty when no
    /// address was tried, as for a resolve failure or a failed hook).
    pub fn attempts(&self) -> &[ConnectAttempt] {
        match self {
            ConnectError::Timeout { attempts, .. } | ConnectError::Connect { attempts, .. } => {
                attempts
            }
            _ => &[],
        }
    }

    /// The [`io::ErrorKind`] that best describes the failure, so that callers
    /// can tell "refused" from "timed out" without parsing text.
    ///
    /// [`Timeout`](ConnectError::Timeout) gives `TimedOut`;
    /// [`Connect`](ConnectError::Connect) gives the kind of the last attempt
    /// that did not time out; [`NoAddresses`](ConnectError::NoAddresses) gives
    /// `NotFound`; the others give the kind of their source.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            ConnectError::Resolve { source, .. }
            | ConnectError::Hook { source, .. }
            | ConnectError::TooManyOpenFiles { source, .. } => source.kind(),
            ConnectError::NoAddresses { .. } => io::ErrorKind::NotFound,
            ConnectError::Timeout { .. } => io::ErrorKind::TimedOut,
            ConnectError::Connect { attempts, .. } => attempts
                .iter()
                .rev()
                .map(|a| a.error.kind())
                .find(|k| *k != io::ErrorKind::TimedOut)
                .unwrap_or(io::ErrorKind::Other),
        }
    }
}

/// Why a [`BlockingSource`](crate::BlockingSource) could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockingSourceError {
    /// `capacity` was 0; a source needs room for at least one chunk.
    #[error("blocking source `{name}` has capacity 0; set a capacity of at least 1 chunk")]
    ZeroCapacity {
        /// The source's thread name.
        name: String,
    },
    /// `buffer_size` was 0; the driver would have nowhere to write.
    #[error("blocking source `{name}` has buffer_size 0; set a buffer size of at least 1 byte")]
    ZeroBufferSize {
        /// The source's thread name.
        name: String,
    },
    /// The OS refused to start the thread.
    #[error("start thread for blocking source `{name}` failed: {source}")]
    Spawn {
        /// The source's thread name.
        name: String,
        /// What the OS said.
        source: io::Error,
    },
}
