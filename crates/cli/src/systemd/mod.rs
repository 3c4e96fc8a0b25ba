//! systemd integration for `linesman run` as a `Type=notify` service: the
//! sd_notify protocol (`notify.rs`), and what the daemon tells systemd and
//! when (`service.rs`): `READY=1` once the control socket serves and every
//! connection's start rule has been evaluated, `STATUS=` on changes (at
//! most once a second), `STOPPING=1` at the shutdown, `WATCHDOG=1` every
//! half `WATCHDOG_USEC`.
//!
//! [`Env::take`] reads systemd's variables and removes them, so no child
//! of the daemon inherits them; it must run before any other thread exists.
//! Without `NOTIFY_SOCKET` nothing is sent, and a bad one is a warning:
//! systemd integration never keeps the daemon from running.

mod notify;
mod service;

use std::ffi::OsStr;
use std::time::Duration;

pub(crate) use notify::Notifier;
pub(crate) use service::{Service, status_line};

/// The variables systemd set for the daemon, taken out of its environment.
#[derive(Debug, Default)]
pub(crate) struct Env {
    /// Where to notify (`NOTIFY_SOCKET`), if set and usable.
    pub(crate) notifier: Option<std::sync::Arc<Notifier>>,
    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, when it is
    /// set and `WATCHDOG_PID` is unset or this process.
    pub(crate) watchdog: Option<Duration>,
    /// A `NOTIFY_SOCKET` that could not be used, logged once logging runs.
    pub(crate) problem: Option<String>,
}

impl Env {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` and removes
    /// them from the environment.
    ///
    /// Call it while the process has one thread (before the runtime is
    /// built): removing a variable races with any other thread reading the
    /// environment.
    pub(crate) fn take() -> Env {
        let names = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];
        let [socket, usec, pid] = names.map(std::env::var_os);
        for name in names {
            // SAFETY: called from `commands::dispatch` before the runtime
            // (or anything else) starts a thread, so nothing reads the
            // environment concurrently.
            unsafe { std::env::remove_var(name) };
        }
        let mut env = Env {
            watchdog: watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id()),
            ..Env::default()
        };
        if let Some(socket) = socket {
            match Notifier::new(&socket) {
                Ok(notifier) => env.notifier = Some(std::sync::Arc::new(notifier)),
                Err(error) => env.problem = Some(error.to_string()),
            }
        }
        env
    }
}

/// Half of `WATCHDOG_USEC` if it is a positive number of microseconds and
/// `WATCHDOG_PID` is unset or `own`; otherwise no watchdog.
fn watchdog_interval(usec: Option<&OsStr>, pid: Option<&OsStr>, own: u32) -> Option<Duration> {
    if let Some(pid) = pid {
        let pid: u32 = pid.to_str()?.trim().parse().ok()?;
        if pid != own {
            return None;
        }
    }
    let usec: u64 = usec?.to_str()?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::time::Duration;

    use super::watchdog_interval;

    #[test]
    fn the_watchdog_pings_at_half_its_timeout_for_this_process_only() {
        let os = |s| Some(OsStr::new(s));
        let half = Some(Duration::from_millis(100));
        assert_eq!(watchdog_interval(os("200000"), None, 7), half);
        assert_eq!(watchdog_interval(os("200000"), os("7"), 7), half);
        assert_eq!(watchdog_interval(os("200000"), os("8"), 7), None);
        assert_eq!(watchdog_interval(os("200000"), os("x"), 7), None);
        assert_eq!(watchdog_interval(os("0"), None, 7), None);
        assert_eq!(watchdog_interval(os("-5"), None, 7), None);
        assert_eq!(watchdog_interval(os("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, os("7"), 7), None);
        assert_eq!(
            watchdog_interval(os("1"), None, 7),
            Some(Duration::from_millis(1))
        );
    }
}
