//! [`ConnectOptions`]: the connect timeout and the TCP socket options that
//! [`connect`](crate::connect) applies before connecting, with defaults that
//! detect a dead peer (half-open TCP) within about 25–30 seconds.

use std::time::Duration;

/// How [`connect`](crate::connect) opens a socket.
///
/// Fields are public; the setters of the same name allow a builder style.
/// `connect_timeout` applies to every endpoint; every other option applies
/// to TCP only and is ignored for Unix sockets.
///
/// ```
/// use std::time::Duration;
/// use linesman_stream::{ConnectOptions, Keepalive};
///
/// let options = ConnectOptions::default()
///     .connect_timeout(Duration::from_millis(500))
///     .keepalive(Some(Keepalive::default().idle(Duration::from_secs(5))))
///     .recv_buffer_size(Some(1 << 20));
/// assert!(options.nodelay);
/// assert_eq!(options.user_timeout, Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// How long each address may take to connect. Default 3 s.
    pub connect_timeout: Duration,
    /// `TCP_NODELAY`: send small writes at once instead of coalescing them.
    /// Default `true`.
    pub nodelay: bool,
    /// TCP keepalive probes, or `None` to leave `SO_KEEPALIVE` off. Default
    /// `Some` with idle 10 s, interval 5 s, 3 probes.
    pub keepalive: Option<Keepalive>,
    /// `TCP_USER_TIMEOUT` (Linux and Android only; ignored elsewhere): how
    /// long written data may stay unacknowledged before the connection is
    /// dropped, or `None` for the kernel default. Default `Some(30 s)`.
    pub user_timeout: Option<Duration>,
    /// `SO_SNDBUF` in bytes, or `None` for the kernel default. Default `None`.
    pub send_buffer_size: Option<usize>,
    /// `SO_RCVBUF` in bytes, or `None` for the kernel default. Default `None`.
    pub recv_buffer_size: Option<usize>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Duration::from_secs(3),
            nodelay: true,
            keepalive: Some(Keepalive::default()),
            user_timeout: Some(Duration::from_secs(30)),
            send_buffer_size: None,
            recv_buffer_size: None,
        }
    }
}

impl ConnectOptions {
    /// Sets how long each address may take to connect. Default 3 s.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets `TCP_NODELAY`. Default `true`.
    #[must_use]
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// Sets the keepalive probes, `None` to turn keepalive off. Default
    /// `Some(Keepalive::default())` (idle 10 s, interval 5 s, 3 probes).
    #[must_use]
    pub fn keepalive(mut self, keepalive: Option<Keepalive>) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Sets `TCP_USER_TIMEOUT` (Linux and Android only). Default `Some(30 s)`.
    #[must_use]
    pub fn user_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.user_timeout = timeout;
        self
    }

    /// Sets `SO_SNDBUF` in bytes. Default `None` (kernel default).
    #[must_use]
    pub fn send_buffer_size(mut self, size: Option<usize>) -> Self {
        self.send_buffer_size = size;
        self
    }

    /// Sets `SO_RCVBUF` in bytes. Default `None` (kernel default).
    #[must_use]
    pub fn recv_buffer_size(mut self, size: Option<usize>) -> Self {
        self.recv_buffer_size = size;
        self
    }
}

/// TCP keepalive: after `idle` without traffic, send a probe every
/// `interval`; after `count` unanswered probes the connection is dropped.
///
/// The defaults (10 s, 5 s, 3) notice a dead peer within about 25 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Time without traffic before the first probe. Default 10 s.
    pub idle: Duration,
    /// Time between probes. Default 5 s.
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped. Default 3. Not
    /// settable on every platform; where it is not, the OS default applies.
    pub count: u32,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            idle: Duration::from_secs(10),
            interval: Duration::from_secs(5),
            count: 3,
        }
    }
}

impl Keepalive {
    /// Sets the time without traffic before the first probe. Default 10 s.
    #[must_use]
    pub fn idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Sets the time between probes. Default 5 s.
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the number of unanswered probes before the connection is
    /// dropped. Default 3.
    #[must_use]
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }
}
