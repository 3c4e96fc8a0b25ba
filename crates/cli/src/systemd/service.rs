//! What the daemon tells systemd, and when: a [`Service`] runs two tasks
//! beside the supervisor.
//!
//! - The report: woken by every bus event, it reads the registry. `READY=1`
//!   goes out once every connection has published a state past `starting`
//!   (its start rule evaluated: waiting, or connecting); the control socket
//!   is bound and served before the service starts, so by then `linesman
//!   status` answers. After that a `STATUS=` line goes out when the counts
//!   change, at most once a second (a flapping connection costs systemd
//!   one datagram a second, not one per event).
//! - The watchdog: `WATCHDOG=1` every half `WATCHDOG_USEC`, from a task on
//!   the daemon's runtime, so a wedged runtime stops the pings and systemd
//!   restarts the daemon.
//!
//! `STOPPING=1` goes out at the first SIGINT or SIGTERM (or when the run
//! ends for another reason), once; nothing but watchdog pings follows it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use linesman_observer::Interest;
use linesman_supervisor::SupervisorHandle;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, sleep_until};

use super::{Env, Notifier};

/// The least time between two `STATUS=` lines.
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// The daemon's conversation with systemd; its tasks end when it is dropped.
#[derive(Debug)]
pub(crate) struct Service {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

/// The notifier, and whether `STOPPING=1` was sent (after which the report
/// sends nothing): one lock, so no `READY=1` can follow it.
#[derive(Debug)]
struct Shared {
    notifier: Arc<Notifier>,
    stopping: Mutex<bool>,
}

impl Shared {
    /// Sends with `send` unless the shutdown was announced.
    fn unless_stopping(&self, send: impl FnOnce(&Notifier)) -> bool {
        let stopping = self.stopping.lock().unwrap_or_else(PoisonError::into_inner);
        if !*stopping {
            send(&self.notifier);
        }
        !*stopping
    }

    fn stopping(&self) {
        let mut stopping = self.stopping.lock().unwrap_or_else(PoisonError::into_inner);
        if !*stopping {
            *stopping = true;
            self.notifier.stopping();
        }
    }
}

impl Service {
    /// Starts telling systemd about the supervisor `control` steers, if
    /// `env` has a notifier (logs why not if `NOTIFY_SOCKET` was unusable).
    /// Call it once the control socket is bound. Must be called on a tokio
    /// runtime.
    pub(crate) fn start(env: Env, control: SupervisorHandle) -> Option<Service> {
        if let Some(problem) = env.problem {
            tracing::warn!(%problem, "not notifying systemd");
        }
        let shared = Arc::new(Shared {
            notifier: env.notifier?,
            stopping: Mutex::new(false),
        });
        let mut tasks = vec![tokio::spawn(report(Arc::clone(&shared), control))];
        if let Some(every) = env.watchdog {
            tracing::debug!(?every, "pinging the systemd watchdog");
            tasks.push(tokio::spawn(watchdog(Arc::clone(&shared), every)));
        }
        match on_first_signal(Arc::clone(&shared)) {
            Ok(task) => tasks.push(task),
            Err(error) => {
                tracing::debug!(%error, "STOPPING=1 will be sent when the run ends");
            }
        }
        Some(Service { shared, tasks })
    }

    /// Sends `STOPPING=1`, unless it was sent already.
    pub(crate) fn stopping(&self) {
        self.shared.stopping();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A task sending `STOPPING=1` at the first SIGINT or SIGTERM (the daemon's
/// own watcher starts the shutdown; tokio tells every listener).
fn on_first_signal(shared: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        shared.stopping();
    }))
}

/// `READY=1` once every connection's start rule was evaluated, then
/// `STATUS=` on changes, at most every [`STATUS_EVERY`]; ends with the bus
/// or at `STOPPING=1`.
async fn report(shared: Arc<Shared>, control: SupervisorHandle) {
    let mut events = control.bus().subscribe(Interest::all());
    let mut ready = false;
    let mut shown = String::new();
    let mut sent_at = Instant::now();
    loop {
        let counts = Counts::of(&control);
        let text = counts.to_string();
        if !ready {
            if counts.starting == 0 {
                if !shared.unless_stopping(|n| n.ready(&text)) {
                    return;
                }
                tracing::debug!(status = %text, "told systemd the daemon is ready");
                (ready, shown, sent_at) = (true, text, Instant::now());
            }
        } else if text != shown {
            let due = sent_at + STATUS_EVERY;
            if Instant::now() < due {
                // Counted again when the second is over, with every event
                // that came meanwhile.
                sleep_until(due).await;
                continue;
            }
            if !shared.unless_stopping(|n| n.status(&text)) {
                return;
            }
            (shown, sent_at) = (text, Instant::now());
        }
        // The next event, and every one already queued: one count for all.
        if events.next().await.is_none() {
            return;
        }
        while let Some(Some(_)) = events.next().now_or_never() {}
    }
}

/// `WATCHDOG=1` every `every`, as long as the runtime runs this task.
async fn watchdog(shared: Arc<Shared>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        shared.notifier.watchdog();
    }
}

/// The `STATUS=` line for the connections of `control` now: what a reload
/// sends with its `READY=1`, so `systemctl status` shows the counts again.
pub(crate) fn status_line(control: &SupervisorHandle) -> String {
    Counts::of(control).to_string()
}

/// How many connections are in which state, for `STATUS=`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    /// No state yet, or `starting`: the start rule not evaluated yet.
    starting: usize,
    up: usize,
    waiting: usize,
    backoff: usize,
    /// `connecting`, or `down` on the way to backoff.
    connecting: usize,
    failed: usize,
    /// `stopping` or `stopped`.
    stopped: usize,
}

impl Counts {
    /// The counts of every connection `control` supervises, from the registry.
    fn of(control: &SupervisorHandle) -> Counts {
        let mut counts = Counts::default();
        let bus = control.bus();
        for name in control.names() {
            let state = bus
                .with_state(&name, |s| s.state.name())
                .unwrap_or("starting");
            *counts.slot(state) += 1;
        }
        counts
    }

    fn slot(&mut self, state: &str) -> &mut usize {
        match state {
            "up" => &mut self.up,
            "waiting" => &mut self.waiting,
            "backoff" => &mut self.backoff,
            "connecting" | "down" => &mut self.connecting,
            "failed" => &mut self.failed,
            "stopping" | "stopped" => &mut self.stopped,
            _ => &mut self.starting,
        }
    }
}

/// `N up, M waiting, K in backoff`, then the connecting, failed and
/// stopped ones when there are any.
impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} up, {} waiting, {} in backoff",
            self.up, self.waiting, self.backoff
        )?;
        for (n, what) in [
            (self.connecting + self.starting, "connecting"),
            (self.failed, "failed"),
            (self.stopped, "stopped"),
        ] {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn the_status_line_names_the_three_counts_and_any_others() {
        let mut counts = Counts::default();
        assert_eq!(counts.to_string(), "0 up, 0 waiting, 0 in backoff");
        for state in [
            "up", "up", "waiting", "backoff", "down", "failed", "stopped", "stopping",
        ] {
            *counts.slot(state) += 1;
        }
        assert_eq!(
            counts.to_string(),
            "2 up, 1 waiting, 1 in backoff, 1 connecting, 1 failed, 2 stopped"
        );
        *counts.slot("starting") += 1;
        assert_eq!(counts.starting, 1);
    }
}
