//! [`ServerOptions`]: the bounds of the control server — how long a client
//! may take, how many may be connected, how far an events watcher may fall
//! behind, how long a shutdown waits for them.
//!
//! Why each exists: the control socket is served by the daemon that keeps
//! the connections alive, so nothing a client does (send half a request,
//! stop reading, open a thousand connections) may stall it, grow its memory
//! without bound, or hold up its shutdown.

use std::time::Duration;

/// The control server's limits; every one has a default, see each setter.
///
/// ```
/// use std::time::Duration;
/// use linesman_control::ServerOptions;
///
/// let options = ServerOptions::default()
///     .max_connections(16)
///     .write_timeout(Duration::from_secs(5));
/// assert_eq!(options.max_connections, 16);
/// assert_eq!(options.header_read_timeout, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOptions {
    /// See [`header_read_timeout`](Self::header_read_timeout).
    pub header_read_timeout: Duration,
    /// See [`write_timeout`](Self::write_timeout).
    pub write_timeout: Duration,
    /// See [`max_connections`](Self::max_connections).
    pub max_connections: usize,
    /// See [`keepalive_interval`](Self::keepalive_interval).
    pub keepalive_interval: Duration,
    /// See [`max_lags`](Self::max_lags).
    pub max_lags: u32,
    /// See [`shutdown_grace`](Self::shutdown_grace).
    pub shutdown_grace: Duration,
    /// See [`event_history`](Self::event_history).
    pub event_history: usize,
    /// See [`event_history_bytes`](Self::event_history_bytes).
    pub event_history_bytes: usize,
    /// See [`answer_budget`](Self::answer_budget).
    pub answer_budget: usize,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            header_read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            max_connections: 64,
            keepalive_interval: Duration::from_secs(5),
            max_lags: 3,
            shutdown_grace: Duration::from_secs(5),
            event_history: 10_000,
            event_history_bytes: 4 << 20,
            answer_budget: 128 << 20,
        }
    }
}

impl ServerOptions {
    /// How long a client may take to send a request's head (request line
    /// and headers), from the moment the server waits for it: a new
    /// connection's first request, and the next request on a kept-alive
    /// connection — so this is also how long an idle connection stays
    /// open. A request's body (no route takes one) must arrive within as
    /// long again, or the request is answered 408 and not acted on.
    /// Default 5 s; zero is taken as 1 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().header_read_timeout, Duration::from_secs(5));
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> ServerOptions {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a write to a client may wait for the client to read: a
    /// client that lets a response (typically `/v1/events`) fill its socket
    /// and reads nothing more for this long is disconnected, which frees
    /// everything held for it. Default 10 s; zero is taken as 1 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().write_timeout, Duration::from_secs(10));
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> ServerOptions {
        self.write_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How many clients may be connected at once. One more gets a `503`
    /// whose [`ErrorBody`](crate::ErrorBody) says so, and is closed; a
    /// quarter as many (at least 1, at most 16) may be getting that `503`
    /// at once, while the next wait in the kernel's backlog. So the server
    /// holds at most `max + max / 4` client descriptors (80 by default).
    /// Default 64; zero is taken as 1.
    ///
    /// ```
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().max_connections, 64);
    /// ```
    pub fn max_connections(mut self, max: usize) -> ServerOptions {
        self.max_connections = max.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        self
    }

    /// How often a quiet `/v1/events` stream gets an empty line, so a client
    /// can tell a quiet daemon from a stopped one (the
    /// [`Client`](crate::Client) gives up after three intervals of
    /// silence). Default 5 s; zero is taken as 1 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().keepalive_interval, Duration::from_secs(5));
    /// ```
    pub fn keepalive_interval(mut self, interval: Duration) -> ServerOptions {
        self.keepalive_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How many times in a row a `/v1/events` watcher may fall behind (its
    /// queue overflows: a `lagged` line, then the current state again)
    /// without catching up in between. One more and its stream ends with an
    /// [`ErrorBody`](crate::ErrorBody) line that says why. Default 3; 0
    /// ends it at the first overflow.
    ///
    /// ```
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().max_lags, 3);
    /// ```
    pub fn max_lags(mut self, lags: u32) -> ServerOptions {
        self.max_lags = lags;
        self
    }

    /// How long [`ServerHandle::shutdown`](crate::ServerHandle::shutdown)
    /// and [`ControlServer::run`](crate::ControlServer::run) let open
    /// connections finish after the shutdown starts; those still open then
    /// are closed. Default 5 s (the supervisor's default shutdown timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().shutdown_grace, Duration::from_secs(5));
    /// ```
    pub fn shutdown_grace(mut self, grace: Duration) -> ServerOptions {
        self.shutdown_grace = grace;
        self
    }

    /// How many recent events the server keeps for watchers that resume
    /// with `/v1/events?since=SEQ`: one that was away for fewer events gets
    /// every one it missed; one away longer gets a `gap` line and the
    /// current state. Default 10,000; zero is taken as 1. See also
    /// [`event_history_bytes`](Self::event_history_bytes): whichever bound
    /// is reached first evicts the oldest events.
    ///
    /// ```
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().event_history, 10_000);
    /// ```
    pub fn event_history(mut self, events: usize) -> ServerOptions {
        self.event_history = events.max(1);
        self
    }

    /// About how many bytes the kept events may take (their structs and
    /// text). Default 4 MiB.
    ///
    /// ```
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().event_history_bytes, 4 << 20);
    /// ```
    pub fn event_history_bytes(mut self, bytes: usize) -> ServerOptions {
        self.event_history_bytes = bytes;
        self
    }

    /// How many bytes of `/v1/status` and `/metrics` answers may wait at
    /// once for their clients to read them. Each answer holds its bytes
    /// until the last of them is written; a request that finds the budget
    /// spent gets a `503` at once, unless no answer is held (one answer
    /// always goes out, whatever its size). Without it, slow readers of a
    /// large daemon's status (2.6 MB at 3,000 connections) held an answer
    /// each, up to every control connection's worth. Default 128 MiB.
    ///
    /// ```
    /// use linesman_control::ServerOptions;
    /// assert_eq!(ServerOptions::default().answer_budget, 128 << 20);
    /// ```
    pub fn answer_budget(mut self, bytes: usize) -> ServerOptions {
        self.answer_budget = bytes;
        self
    }
}
