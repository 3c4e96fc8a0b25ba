//! What one connection's sessions log when they end or come up, limited so
//! that a peer that is down, or one that keeps dropping the connection,
//! writes a few lines a minute, not one per attempt (see [`LogLimit`]).
//!
//! - A connect failure is logged at WARN the first time and whenever its
//!   reason changes; its repeats at DEBUG, and once a minute a WARN summary
//!   ("still failing (connection refused), 12 attempts in the last 1m").
//! - A disconnect likewise (WARN for a failure, INFO for the peer's
//!   orderly close), with its own limiter: "down 30 times in the last 1m".
//! - `up` at INFO, except right after a disconnect that was not logged (a
//!   connection that keeps flapping: the disconnect summary counts those
//!   ups too), then at DEBUG. An `up` after connect failures is the one
//!   recovery line: "up after 12 failed attempts in 1m 1s".
//!
//! The state is boxed and made at the first end: a connection that never
//! fails pays one pointer.

use std::io;
use std::time::Duration;

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

use crate::log_limit::{LogFlood, LogLimit, Verdict};
use crate::reason::Reason;

/// The log state of one connection's session ends.
#[derive(Debug, Default)]
pub(crate) struct SessionLog(Option<Box<Ends>>);

#[derive(Debug)]
struct Ends {
    connect: LogLimit,
    disconnect: LogLimit,
    /// The last end was a disconnect that was not logged.
    flapping: bool,
    /// Connect failures since the last session that came up, and when the
    /// first of them was.
    failed: u32,
    failing_since: Option<Instant>,
    /// Tells this connection apart in the process-wide cap's count.
    source: u64,
}

impl Default for Ends {
    fn default() -> Ends {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Ends {
            connect: LogLimit::default(),
            disconnect: LogLimit::default(),
            flapping: false,
            failed: 0,
            failing_since: None,
            source: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// Whether a failure line of `source` may be written under the
/// process-wide cap (a line held back is written at DEBUG by the caller).
fn admitted(source: u64) -> bool {
    LogFlood::global().allow(source)
}

/// How the `up` line of a session is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpLine {
    /// At INFO; after `failed` connect failures, the first `over` ago.
    Info {
        failed: u32,
        failing_since: Option<Instant>,
    },
    /// At DEBUG: the connection keeps flapping.
    Debug,
}

impl UpLine {
    /// Logs that attempt `attempt` is up.
    pub(crate) fn log(self, attempt: u32) {
        match self {
            UpLine::Info {
                failing_since: Some(since),
                failed,
            } if failed > 0 => {
                tracing::info!(
                    attempt,
                    failed_attempts = failed,
                    "up after {failed} failed attempts in {}",
                    millis(since.elapsed())
                );
            }
            UpLine::Info { .. } => tracing::info!(attempt, "up"),
            UpLine::Debug => tracing::debug!(attempt, "up"),
        }
    }
}

impl SessionLog {
    fn ends(&mut self) -> &mut Ends {
        self.0.get_or_insert_with(Box::default)
    }

    /// How the next session's `up` is to be logged.
    pub(crate) fn up_line(&self) -> UpLine {
        match &self.0 {
            Some(ends) if ends.flapping && ends.connect.unreported() == 0 => UpLine::Debug,
            Some(ends) => UpLine::Info {
                failed: ends.failed,
                failing_since: ends.failing_since,
            },
            None => UpLine::Info {
                failed: 0,
                failing_since: None,
            },
        }
    }

    /// A session that came up ended: the connect failures its `up` line
    /// ([`up_line`](Self::up_line), unchanged since) reported are reported.
    pub(crate) fn came_up(&mut self) {
        if let UpLine::Info { .. } = self.up_line()
            && let Some(ends) = &mut self.0
        {
            ends.connect.take_unreported();
        }
        if let Some(ends) = &mut self.0 {
            ends.failed = 0;
            ends.failing_since = None;
        }
    }

    /// Logs that attempt `attempt` never came up, for `reason`.
    pub(crate) fn connect_failed(&mut self, attempt: u32, reason: &Reason) {
        let ends = self.ends();
        ends.flapping = false;
        ends.failed = ends.failed.saturating_add(1);
        ends.failing_since.get_or_insert_with(Instant::now);
        let text = reason.to_string();
        let verdict = match ends.connect.check(&text, Instant::now()) {
            Verdict::Suppress => Verdict::Suppress,
            verdict if admitted(ends.source) => verdict,
            _ => Verdict::Suppress,
        };
        match verdict {
            Verdict::Log { unreported: 0 } => {
                tracing::warn!(attempt, reason = %text, "connect failed");
            }
            Verdict::Log { unreported } => tracing::warn!(
                attempt,
                reason = %text,
                previous_reason_not_logged = unreported,
                "connect failed"
            ),
            Verdict::Summary { repeats, over } => tracing::warn!(
                attempt,
                reason = %text,
                attempts = repeats,
                "still failing ({}), {repeats} attempts in the last {}",
                cause(reason),
                seconds(over)
            ),
            Verdict::Suppress => tracing::debug!(attempt, reason = %text, "connect failed"),
        }
    }

    /// Logs that attempt `attempt`, which was up, ended for `reason`.
    pub(crate) fn disconnected(&mut self, attempt: u32, reason: &Reason) {
        let ends = self.ends();
        let text = reason.to_string();
        let verdict = ends.disconnect.check(&text, Instant::now());
        ends.flapping = verdict == Verdict::Suppress;
        let verdict = match verdict {
            Verdict::Suppress => Verdict::Suppress,
            verdict if admitted(ends.source) => verdict,
            _ => Verdict::Suppress,
        };
        // A failure at WARN; the peer's orderly close at INFO.
        macro_rules! line {
            ($($arg:tt)+) => {
                if reason.is_failure() {
                    tracing::warn!($($arg)+)
                } else {
                    tracing::info!($($arg)+)
                }
            };
        }
        match verdict {
            Verdict::Log { unreported: 0 } => line!(attempt, reason = %text, "down"),
            Verdict::Log { unreported } => line!(
                attempt,
                reason = %text,
                previous_reason_not_logged = unreported,
                "down"
            ),
            Verdict::Summary { repeats, over } => line!(
                attempt,
                reason = %text,
                times = repeats,
                "down {repeats} times in the last {} ({text})",
                seconds(over)
            ),
            Verdict::Suppress => tracing::debug!(attempt, reason = %text, "down"),
        }
    }
}

/// A connect failure's cause in a few words (`connection refused`), or the
/// whole reason when it has none.
fn cause(reason: &Reason) -> String {
    match reason {
        Reason::ConnectFailed { kind, .. } => match kind {
            // A Unix socket path without a socket: "entity not found" says less.
            io::ErrorKind::NotFound => "no such socket file".to_owned(),
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::TimedOut
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::AddrNotAvailable => kind.to_string(),
            _ => reason.to_string(),
        },
        other => other.to_string(),
    }
}

/// `over` to the millisecond (`250ms`, `1m 1s 20ms`).
fn millis(over: Duration) -> humantime::FormattedDuration {
    let ms = u64::try_from(over.as_millis()).unwrap_or(u64::MAX);
    humantime::format_duration(Duration::from_millis(ms))
}

/// `over` to the second, as people write it (`1m`, `1m 30s`).
fn seconds(over: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(over.as_secs()))
}
