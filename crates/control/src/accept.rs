//! What the accept loop does when `accept(2)` fails: [`AcceptErrors`]
//! decides how long to pause and whether to log, so that running out of
//! file descriptors neither spins the loop nor floods the log.
//!
//! A failed accept leaves the connection in the kernel's queue, so
//! retrying at once fails again at once: the loop pauses 10 ms, doubling up
//! to 1 s while the errors go on, and starts over at 10 ms after the next
//! success. It logs the first error, then at most one line per 10 s, with
//! how many errors it did not log in between. Errors that concern one
//! connection only (the client gave up before it was accepted) are not
//! paused for.

use std::io;
use std::time::Duration;

use tokio::time::Instant;

/// The first pause after a failed accept.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause.
const MAX_PAUSE: Duration = Duration::from_secs(1);
/// At most one log line per this long.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The accept loop's memory of recent failures.
#[derive(Debug)]
pub(crate) struct AcceptErrors {
    pause: Duration,
    last_log: Option<Instant>,
    suppressed: u64,
}

/// What to do about one failed accept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// How long to wait before the next accept (zero: at once).
    pub(crate) pause: Duration,
    /// A line to log at warn level, if one is due.
    pub(crate) log: Option<String>,
}

impl Default for AcceptErrors {
    fn default() -> AcceptErrors {
        AcceptErrors {
            pause: FIRST_PAUSE,
            last_log: None,
            suppressed: 0,
        }
    }
}

impl AcceptErrors {
    /// An accept succeeded: the next failure pauses briefly again.
    pub(crate) fn succeeded(&mut self) {
        self.pause = FIRST_PAUSE;
    }

    /// An accept failed with `error` at `now`; `nofile` is the open-file
    /// limit (for the message).
    pub(crate) fn failed(
        &mut self,
        error: &io::Error,
        now: Instant,
        nofile: Option<u64>,
    ) -> Verdict {
        if concerns_one_connection(error) {
            return Verdict {
                pause: Duration::ZERO,
                log: None,
            };
        }
        let pause = self.pause;
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        let due = self
            .last_log
            .is_none_or(|last| now.duration_since(last) >= LOG_EVERY);
        if !due {
            self.suppressed += 1;
            return Verdict { pause, log: None };
        }
        self.last_log = Some(now);
        let mut line = describe(error, nofile);
        let suppressed = std::mem::take(&mut self.suppressed);
        if suppressed > 0 {
            line.push_str(&format!(
                " ({suppressed} more failed accepts since the last warning)"
            ));
        }
        Verdict {
            pause,
            log: Some(line),
        }
    }
}

/// The client went away before its connection was accepted, or a signal
/// interrupted the call: nothing is wrong with the server.
fn concerns_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

fn describe(error: &io::Error, nofile: Option<u64>) -> String {
    match error.raw_os_error() {
        Some(libc::EMFILE) => {
            let limit = nofile.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
            format!(
                "cannot accept a control connection: too many open files (limit {limit}): raise LimitNOFILE (or `ulimit -n`) for the daemon; retrying with a pause"
            )
        }
        Some(libc::ENFILE) => "cannot accept a control connection: the system is out of file descriptors (ENFILE): close files elsewhere or raise fs.file-max; retrying with a pause".to_owned(),
        Some(libc::ENOBUFS | libc::ENOMEM) => format!(
            "cannot accept a control connection: the kernel is out of memory ({error}); retrying with a pause"
        ),
        _ => format!("cannot accept a control connection: {error}; retrying with a pause"),
    }
}

/// This process's soft limit on open files, if it can be read.
pub(crate) fn nofile_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through the valid, exclusive
    // pointer it is given and reads nothing else of ours.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (read == 0).then_some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(libc::EMFILE)
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_double_up_to_a_second_and_start_over_after_a_success() {
        let mut errors = AcceptErrors::default();
        let now = Instant::now();
        let pauses: Vec<u64> = (0..9)
            .map(|_| errors.failed(&emfile(), now, Some(64)).pause.as_millis() as u64)
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        errors.succeeded();
        assert_eq!(
            errors.failed(&emfile(), now, None).pause,
            Duration::from_millis(10)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_line_per_ten_seconds_with_the_count_of_the_rest() {
        let mut errors = AcceptErrors::default();
        let start = Instant::now();
        let mut lines = Vec::new();
        // One failure every 100 ms for 25 s.
        for tick in 0..250 {
            let now = start + Duration::from_millis(100) * tick;
            lines.extend(errors.failed(&emfile(), now, Some(1024)).log);
        }
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert_eq!(
            lines[0],
            "cannot accept a control connection: too many open files (limit 1024): raise LimitNOFILE (or `ulimit -n`) for the daemon; retrying with a pause"
        );
        assert!(
            lines[1].ends_with("(99 more failed accepts since the last warning)"),
            "{}",
            lines[1]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_gave_up_is_neither_paused_for_nor_logged() {
        let mut errors = AcceptErrors::default();
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        let verdict = errors.failed(&aborted, Instant::now(), None);
        assert_eq!(
            verdict,
            Verdict {
                pause: Duration::ZERO,
                log: None
            }
        );
    }

    #[test]
    fn the_limit_is_readable() {
        assert!(nofile_limit().is_some_and(|n| n > 0));
    }
}
