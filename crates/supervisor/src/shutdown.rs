//! Shutdown: stop the connection tasks in waves, dependents before their
//! dependencies, each within a bounded time, or all at once when forced.
//!
//! Each task stops itself gracefully when its mailbox says shut down:
//! it ends its session (handler's `on_disconnect`, queued sends flushed,
//! `before_close` while the fd is open) and publishes `Stopping` then
//! `Stopped`, dropping the session if it takes longer than the shutdown
//! timeout. This coordinator only tells the mailboxes wave by wave and waits;
//! the waves share one deadline (the timeout plus [`BACKSTOP`]), a task
//! still running at it is aborted, the waves not reached by then are told
//! all at once, and every task is aborted once the shutdown is forced.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use linesman_connection::{ConnectionHandle, SessionControl};
use linesman_observer::{Bus, ConnState, Stopped};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use crate::graph::DependencyGraph;
use crate::mailbox::Mailbox;

/// How long past the shutdown timeout a task may take before it is aborted.
const BACKSTOP: Duration = Duration::from_millis(250);

/// How long an aborted task may take to be dropped (its socket closed).
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// A connection task as the coordinator sees it.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) name: Arc<str>,
    pub(crate) join: Option<JoinHandle<()>>,
    pub(crate) mailbox: Arc<Mailbox>,
    pub(crate) control: SessionControl,
    pub(crate) handle: ConnectionHandle,
}

/// Stops every task: wave by wave (see [`DependencyGraph::shutdown_waves`]),
/// or by aborting all that remain once `forced` is cancelled.
///
/// The whole shutdown is bounded by `limit` (plus [`BACKSTOP`] twice),
/// however deep the graph: the waves share one deadline, and once it has
/// passed every connection not yet told is told at once and given
/// [`BACKSTOP`] more, so a chain of hundreds of dependents does not cost
/// hundreds of timeouts.
pub(crate) async fn shut_down(
    graph: &DependencyGraph,
    running: &mut [Running],
    limit: Duration,
    forced: &CancellationToken,
    bus: &Bus,
) {
    let tell = |task: &Running| task.mailbox.shut_down();
    stop_in_waves(graph, running, limit, forced, bus, (&tell, "shutdown")).await;
}

/// How to tell a task to end, and the word for it in the reason of a task
/// aborted at the deadline (`shutdown`, `removed by reload`).
pub(crate) type Tell<'a> = (&'a (dyn Fn(&Running) + Sync), &'a str);

/// Stops the tasks of `running` (any of `graph`'s connections, in any
/// order) as [`shut_down`] does, telling each with `tell`: for a shutdown,
/// and for the connections a reload removes or replaces.
pub(crate) async fn stop_in_waves(
    graph: &DependencyGraph,
    running: &mut [Running],
    limit: Duration,
    forced: &CancellationToken,
    bus: &Bus,
    (tell, what): Tell<'_>,
) {
    let names: Vec<Arc<str>> = running.iter().map(|task| Arc::clone(&task.name)).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (&**n, i)).collect();
    // A "never" given in code as `Duration::MAX` must not overflow the
    // clock (a panic here would abort the shutdown).
    let limit = limit.min(linesman_connection::FAR_FUTURE);
    let deadline = Instant::now() + limit + BACKSTOP;
    let mut waves = graph
        .shutdown_waves()
        .into_iter()
        .map(|wave| -> Vec<usize> { wave.iter().filter_map(|n| index.get(n).copied()).collect() });
    for members in waves.by_ref() {
        for &i in &members {
            tell(&running[i]);
        }
        if !stop_within(running, &members, deadline, limit, forced, bus, what).await {
            return;
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    let rest: Vec<usize> = waves.flatten().collect();
    if rest.is_empty() {
        return;
    }
    tracing::warn!(
        remaining = rest.len(),
        timeout = ?limit,
        "the shutdown timeout ran out before every dependent had stopped; \
         stopping the remaining connections together"
    );
    for &i in &rest {
        tell(&running[i]);
    }
    stop_within(
        running,
        &rest,
        Instant::now() + BACKSTOP,
        limit,
        forced,
        bus,
        what,
    )
    .await;
}

/// Waits for the tasks of `members` to end, aborting those still running at
/// `deadline`; once `forced` is cancelled, aborts every task and returns
/// `false`.
async fn stop_within(
    running: &mut [Running],
    members: &[usize],
    deadline: Instant,
    limit: Duration,
    forced: &CancellationToken,
    bus: &Bus,
    what: &str,
) -> bool {
    for &i in members {
        let Some(join) = running[i].join.as_mut() else {
            continue;
        };
        tokio::select! {
            biased;
            () = forced.cancelled() => {
                tracing::warn!("shutdown forced: aborting every connection task");
                for task in running.iter_mut() {
                    abort(task, bus, "shutdown forced").await;
                }
                return false;
            }
            _ = join => running[i].join = None,
            () = sleep_until(deadline) => {
                let reason = format!("{what}: aborted, not stopped within {limit:?}");
                abort(&mut running[i], bus, &reason).await;
            }
        }
    }
    true
}

/// Aborts `task` if it still runs, waits (bounded) until it is dropped, and
/// says `Stopped` for it unless it already ended stopped or failed.
async fn abort(task: &mut Running, bus: &Bus, reason: &str) {
    let Some(join) = task.join.take() else {
        return;
    };
    join.abort();
    if timeout(ABORT_GRACE, join).await.is_err() {
        tracing::warn!(connection = %task.name, "aborted task did not end in time");
    }
    task.handle.close();
    let terminal = bus.state(&task.name).is_some_and(|status| {
        matches!(
            status.state,
            ConnState::Stopped { .. } | ConnState::Failed { .. }
        )
    });
    if !terminal {
        // Refused only by a closed bus, which is closed after this.
        task.control.publish(Stopped {
            reason: reason.into(),
        });
    }
}
