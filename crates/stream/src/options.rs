//! [`ConnectOptions`]: the connect timeout and the TCP socket options that
//! [`connect`](crate::connect) applies before connecting, with defaults that
//! detect a dead peer (half-open TCP) within 25 seconds: 20 s on Linux,
//! where `TCP_USER_TIMEOUT` decides, 25 s where keepalive's probe count
//! does (see [`ConnectOptions::dead_peer_after`]).

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
/// assert_eq!(options.user_timeout, Some(Duration::from_secs(20)));
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
    /// dropped, or `None` for the kernel default. With keepalive on, it also
    /// replaces the probe count in deciding when an idle connection is dead
    /// (see [`dead_peer_after`](Self::dead_peer_after)). Default `Some(20 s)`.
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
            user_timeout: Some(Duration::from_secs(20)),
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

    /// Sets `TCP_USER_TIMEOUT` (Linux and Android only). Default `Some(20 s)`.
    #[must_use]
    pub fn user_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.user_timeout = timeout;
        self
    }

    /// How long after the last byte received the kernel drops an idle TCP
    /// connection whose peer went silent (a host that vanished, a
    /// blackholed path), with these options; `None` when nothing would
    /// (keepalive off).
    ///
    /// Keepalive probes go out at `idle`, `idle + interval`, … after the
    /// last byte received. Where `TCP_USER_TIMEOUT` applies (Linux, Android)
    /// and is set, it replaces the probe count: the connection is dropped
    /// at the first probe time that is at least `user_timeout`, once one
    /// probe went unanswered:
    /// `idle + interval × max(1, ⌈(user_timeout − idle) / interval⌉)`.
    /// Otherwise it is dropped after `count` unanswered probes:
    /// `idle + count × interval`. The defaults give 10 + 5 × 2 = 20 s on
    /// Linux and 10 + 3 × 5 = 25 s elsewhere.
    ///
    /// While written data waits to be acknowledged, keepalive does not
    /// probe: then `user_timeout` alone decides (the connection is dropped
    /// about `user_timeout` after the data went unanswered), or without it
    /// the kernel's retransmission limit (about 15 minutes on Linux).
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_stream::ConnectOptions;
    ///
    /// let defaults = ConnectOptions::default().dead_peer_after();
    /// assert!(defaults <= Some(Duration::from_secs(25)));
    /// let without = ConnectOptions::default().user_timeout(None).dead_peer_after();
    /// assert_eq!(without, Some(Duration::from_secs(25)));
    /// assert_eq!(ConnectOptions::default().keepalive(None).dead_peer_after(), None);
    /// ```
    pub fn dead_peer_after(&self) -> Option<Duration> {
        let keepalive = self.keepalive?;
        let user_timeout = if cfg!(any(target_os = "linux", target_os = "android")) {
            self.user_timeout.filter(|timeout| !timeout.is_zero())
        } else {
            None
        };
        let probes = match user_timeout {
            Some(timeout) => {
                let after_idle = timeout.saturating_sub(keepalive.idle).as_nanos();
                let interval = keepalive.interval.as_nanos().max(1);
                u32::try_from(after_idle.div_ceil(interval).max(1)).unwrap_or(u32::MAX)
            }
            None => keepalive.count,
        };
        Some(
            keepalive
                .idle
                .saturating_add(keepalive.interval.saturating_mul(probes)),
        )
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
/// `interval`; after `count` unanswered probes the connection is dropped
/// (on Linux with `TCP_USER_TIMEOUT` set, that timeout replaces `count`:
/// see [`ConnectOptions::dead_peer_after`]).
///
/// The defaults (10 s, 5 s, 3) notice a dead peer within 25 s (20 s on
/// Linux with the default `TCP_USER_TIMEOUT` of 20 s).
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
