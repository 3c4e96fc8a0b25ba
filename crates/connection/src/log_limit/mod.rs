//! [`LogLimit`]: never log the same failure faster than a human can read.
//!
//! A connection to a peer that is down fails at every attempt, and a
//! daemon may have thousands of them; a line per failure buries everything
//! else. The rule: a failure is logged the first time and whenever its
//! reason changes; repeats of the same reason are counted, not logged, and
//! summarised once per [`every`](LogLimit::new) ("still failing (connection
//! refused), 12 attempts in the last 1m"). Nothing is dropped silently:
//! every repeat is in a summary, or in the count a changed reason carries
//! ([`Verdict::Log::unreported`]), or is handed to the caller by
//! [`LogLimit::take_unreported`].
//!
//! The limiter only decides; the caller logs (at the level and with the
//! words of its line). It keeps a hash of the last reason, not the reason,
//! and reads time from tokio's clock, so tests run it on paused time.
//!
//! ```
//! use std::time::Duration;
//! use linesman_connection::{LogLimit, Verdict};
//! use tokio::time::Instant;
//!
//! let mut limit = LogLimit::new(Duration::from_secs(60));
//! let start = Instant::now();
//! assert_eq!(limit.check("refused", start), Verdict::Log { unreported: 0 });
//! assert_eq!(limit.check("refused", start + Duration::from_secs(1)), Verdict::Suppress);
//! assert_eq!(
//!     limit.check("refused", start + Duration::from_secs(61)),
//!     Verdict::Summary { repeats: 2, over: Duration::from_secs(61) }
//! );
//! assert_eq!(
//!     limit.check("timed out", start + Duration::from_secs(62)),
//!     Verdict::Log { unreported: 0 }
//! );
//! ```

mod flood;

pub use flood::{Admission, LogFlood};

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use tokio::time::Instant;

/// Decides which repeats of a failure to log; see the module docs.
#[derive(Debug, Clone)]
pub struct LogLimit {
    every: Duration,
    last: Option<Repeat>,
}

/// The reason last logged, when, and its repeats since.
#[derive(Debug, Clone, Copy)]
struct Repeat {
    key: u64,
    logged_at: Instant,
    suppressed: u32,
}

/// What to do with one occurrence of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Log it: the first time, a new reason, or the same one after a quiet
    /// interval. `unreported` repeats of the previous reason were not
    /// logged (0 for none): say so on this line.
    Log {
        /// Repeats of the previous reason that no line reported.
        unreported: u32,
    },
    /// Same reason within the interval: counted, not logged.
    Suppress,
    /// Same reason, and the interval has passed: log one summary line,
    /// "`repeats` times in the last `over`" (this occurrence included).
    Summary {
        /// Occurrences since the last line, this one included.
        repeats: u32,
        /// Time since the last line.
        over: Duration,
    },
}

impl LogLimit {
    /// The default interval between two lines about the same failure.
    pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

    /// A limiter that logs the same failure at most once per `every`.
    pub fn new(every: Duration) -> LogLimit {
        LogLimit { every, last: None }
    }

    /// What to do with a failure with `reason`, happening at `now`.
    pub fn check(&mut self, reason: &str, now: Instant) -> Verdict {
        let key = hash(reason);
        let fresh = Repeat {
            key,
            logged_at: now,
            suppressed: 0,
        };
        let Some(last) = &mut self.last else {
            self.last = Some(fresh);
            return Verdict::Log { unreported: 0 };
        };
        if last.key != key {
            let unreported = last.suppressed;
            *last = fresh;
            return Verdict::Log { unreported };
        }
        let over = now.saturating_duration_since(last.logged_at);
        if over < self.every {
            last.suppressed = last.suppressed.saturating_add(1);
            return Verdict::Suppress;
        }
        let repeats = last.suppressed.saturating_add(1);
        *last = fresh;
        if repeats == 1 {
            Verdict::Log { unreported: 0 }
        } else {
            Verdict::Summary { repeats, over }
        }
    }

    /// The repeats counted and not reported yet, which the caller reports
    /// (e.g. when the failing thing recovers); they are reset to 0. The
    /// reason stays remembered: its next repeat within the interval is
    /// still suppressed.
    pub fn take_unreported(&mut self) -> u32 {
        self.last
            .as_mut()
            .map_or(0, |last| std::mem::take(&mut last.suppressed))
    }

    /// Repeats counted and not reported yet.
    pub fn unreported(&self) -> u32 {
        self.last.map_or(0, |last| last.suppressed)
    }
}

impl Default for LogLimit {
    /// A limiter with [`DEFAULT_EVERY`](Self::DEFAULT_EVERY).
    fn default() -> Self {
        LogLimit::new(Self::DEFAULT_EVERY)
    }
}

fn hash(reason: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    reason.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn a_steady_failure_is_logged_once_then_summarised_once_a_minute() {
        let mut limit = LogLimit::new(MINUTE);
        let start = Instant::now();
        let verdicts: Vec<Verdict> = (0..200)
            .map(|s| limit.check("refused", at(start, s)))
            .collect();
        let logged: Vec<(usize, Verdict)> = verdicts
            .into_iter()
            .enumerate()
            .filter(|(_, v)| *v != Verdict::Suppress)
            .collect();
        let summary = Verdict::Summary {
            repeats: 60,
            over: MINUTE,
        };
        assert_eq!(
            logged,
            [
                (0, Verdict::Log { unreported: 0 }),
                (60, summary),
                (120, summary),
                (180, summary),
            ]
        );
        assert_eq!(limit.take_unreported(), 19, "199 - 180");
        assert_eq!(limit.unreported(), 0);
    }

    #[test]
    fn a_new_reason_is_logged_at_once_with_the_repeats_of_the_old_one() {
        let mut limit = LogLimit::new(MINUTE);
        let start = Instant::now();
        assert_eq!(limit.check("a", start), Verdict::Log { unreported: 0 });
        assert_eq!(limit.check("a", at(start, 1)), Verdict::Suppress);
        assert_eq!(limit.check("a", at(start, 2)), Verdict::Suppress);
        assert_eq!(
            limit.check("b", at(start, 3)),
            Verdict::Log { unreported: 2 }
        );
        assert_eq!(limit.check("b", at(start, 4)), Verdict::Suppress);
        assert_eq!(
            limit.check("a", at(start, 5)),
            Verdict::Log { unreported: 1 },
            "back to the first reason: a change too"
        );
    }

    #[test]
    fn a_repeat_after_a_quiet_interval_is_a_plain_line() {
        let mut limit = LogLimit::new(MINUTE);
        let start = Instant::now();
        assert_eq!(limit.check("a", start), Verdict::Log { unreported: 0 });
        assert_eq!(
            limit.check("a", at(start, 90)),
            Verdict::Log { unreported: 0 }
        );
    }

    #[test]
    fn taking_the_unreported_keeps_suppressing_the_same_reason() {
        let mut limit = LogLimit::new(MINUTE);
        let start = Instant::now();
        limit.check("a", start);
        limit.check("a", at(start, 1));
        assert_eq!(limit.take_unreported(), 1);
        assert_eq!(limit.check("a", at(start, 2)), Verdict::Suppress);
        assert_eq!(
            limit.check("a", at(start, 60)),
            Verdict::Summary {
                repeats: 2,
                over: MINUTE
            }
        );
        assert_eq!(LogLimit::default().take_unreported(), 0);
    }
}
