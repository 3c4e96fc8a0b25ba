//! [`LogFlood`]: a process-wide cap on the lines about failures, on top of
//! each connection's own [`LogLimit`](crate::LogLimit).
//!
//! Why: a per-connection limit bounds each connection to a few lines a
//! minute, but ten thousand connections to a peer that is down still write
//! ten thousand "connect failed" lines at once and ten thousand "still
//! failing" summaries a minute. The cap is a token bucket shared by every
//! connection: [`burst`](LogFlood::new) lines at once, refilled at
//! `per_minute`; a line past it is counted, not written, and once per
//! `summary_every` one WARN line says how many were held back, across how
//! many connections. Nothing is dropped silently.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// A process-wide token bucket for failure lines; see the module docs.
#[derive(Debug)]
pub struct LogFlood {
    burst: u32,
    per_minute: u32,
    summary_every: Duration,
    state: Mutex<Bucket>,
}

#[derive(Debug, Default)]
struct Bucket {
    /// Lines that may be written now, in thousandths (refilled smoothly).
    milli_tokens: u64,
    refilled_at: Option<Instant>,
    /// Lines held back since the last summary, and by how many sources.
    suppressed: u64,
    sources: HashSet<u64>,
    summarised_at: Option<Instant>,
}

/// What became of one line offered to [`LogFlood::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Write it.
    Write,
    /// Hold it back (counted).
    Hold,
    /// Hold it back, and write this summary of what was held back instead.
    Summary {
        /// Lines held back since the last summary, this one included.
        lines: u64,
        /// By how many connections.
        connections: usize,
        /// Since the last summary (or the first line held back).
        over: Duration,
    },
}

impl LogFlood {
    /// Lines any number of connections may write at once.
    pub const BURST: u32 = 200;
    /// Lines a minute once the burst is spent.
    pub const PER_MINUTE: u32 = 200;
    /// How often a summary of the lines held back is written.
    pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);

    /// A bucket of `burst` lines, refilled at `per_minute`, that summarises
    /// what it held back at most once per `summary_every`.
    pub fn new(burst: u32, per_minute: u32, summary_every: Duration) -> LogFlood {
        LogFlood {
            burst,
            per_minute,
            summary_every,
            state: Mutex::new(Bucket {
                milli_tokens: u64::from(burst) * 1000,
                ..Bucket::default()
            }),
        }
    }

    /// The bucket every connection of the process shares.
    pub fn global() -> &'static LogFlood {
        static GLOBAL: OnceLock<LogFlood> = OnceLock::new();
        GLOBAL.get_or_init(|| LogFlood::new(Self::BURST, Self::PER_MINUTE, Self::SUMMARY_EVERY))
    }

    /// [`admit`](Self::admit) now, for a line about to be written at WARN
    /// or INFO: `true` to write it; `false` to write it at DEBUG instead,
    /// after writing the summary of the lines held back when one is due.
    pub fn allow(&self, source: u64) -> bool {
        match self.admit(source, Instant::now()) {
            Admission::Write => true,
            Admission::Hold => false,
            Admission::Summary {
                lines,
                connections,
                over,
            } => {
                write_summary(lines, connections, over);
                false
            }
        }
    }

    /// Writes the summary of the lines held back since the last one, if
    /// any were: called periodically (every [`SUMMARY_EVERY`](Self::SUMMARY_EVERY)
    /// by the supervisor), since the lines held back may be the last for a
    /// while (each connection's own limit lets the next through a minute
    /// later). Returns whether it wrote one.
    pub fn flush(&self) -> bool {
        let now = Instant::now();
        let summary = {
            let mut bucket = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if bucket.suppressed == 0 {
                return false;
            }
            let over = bucket
                .summarised_at
                .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
            let summary = (
                std::mem::take(&mut bucket.suppressed),
                bucket.sources.len(),
                over,
            );
            bucket.sources.clear();
            bucket.summarised_at = Some(now);
            summary
        };
        let (lines, connections, over) = summary;
        write_summary(lines, connections, over);
        true
    }

    /// Whether a line of `source` (any number that tells connections apart)
    /// may be written at `now`.
    pub fn admit(&self, source: u64, now: Instant) -> Admission {
        let mut bucket = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = bucket
            .refilled_at
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        let refill = u64::try_from(elapsed.as_millis())
            .unwrap_or(u64::MAX)
            .saturating_mul(u64::from(self.per_minute))
            / 60;
        bucket.milli_tokens = bucket
            .milli_tokens
            .saturating_add(refill)
            .min(u64::from(self.burst) * 1000);
        bucket.refilled_at = Some(now);
        if bucket.milli_tokens >= 1000 {
            bucket.milli_tokens -= 1000;
            return Admission::Write;
        }
        bucket.suppressed = bucket.suppressed.saturating_add(1);
        bucket.sources.insert(source);
        let since = *bucket.summarised_at.get_or_insert(now);
        let over = now.saturating_duration_since(since);
        if over < self.summary_every {
            return Admission::Hold;
        }
        let summary = Admission::Summary {
            lines: std::mem::take(&mut bucket.suppressed),
            connections: bucket.sources.len(),
            over,
        };
        bucket.sources.clear();
        bucket.summarised_at = Some(now);
        summary
    }
}

/// The WARN line that says what the cap held back.
fn write_summary(lines: u64, connections: usize, over: Duration) {
    tracing::warn!(
        lines,
        connections,
        "{lines} similar lines suppressed across {connections} connections in the last {}s (process-wide log cap; RUST_LOG=debug shows them)",
        over.as_secs()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crowd_of_sources_is_capped_and_summarised() {
        let flood = LogFlood::new(5, 60, Duration::from_secs(10));
        let start = Instant::now();
        // 1,000 sources at once: the burst, then nothing.
        let written = (0..1000)
            .filter(|&s| flood.admit(s, start) == Admission::Write)
            .count();
        assert_eq!(written, 5);
        // Ten seconds on: ten lines refilled, but never more than the
        // burst; then a summary of what was held back.
        let later = start + Duration::from_secs(10);
        let verdicts: Vec<Admission> = (0..7).map(|s| flood.admit(s, later)).collect();
        assert_eq!(
            verdicts.iter().filter(|v| **v == Admission::Write).count(),
            5
        );
        assert_eq!(
            verdicts[5],
            Admission::Summary {
                lines: 996,
                connections: 995,
                over: Duration::from_secs(10)
            }
        );
        assert_eq!(verdicts[6], Admission::Hold);
    }
}
