//! What the supervisor tells the operator about the process as a whole,
//! rather than about one connection: a socket budget too small for the
//! connections, and the process-wide log cap's periodic summary.

use linesman_connection::{LogFlood, SocketBudget};
use tokio::task::JoinHandle;

/// Warns once, at start, when fewer sockets may be open at once than there
/// are connections, naming both numbers and what to raise.
pub(crate) fn warn_if_budget_short(budget: Option<&SocketBudget>, connections: usize) {
    let Some(budget) = budget else { return };
    let max = budget.max();
    if max < connections {
        tracing::warn!(
            connections,
            max_open_sockets = max,
            "only {max} of the {connections} connections can have a socket open at once; \
             the others fail with \"no socket left\" until one closes: raise the \
             open-file limit (LimitNOFILE= in systemd, `ulimit -n`) or run fewer connections"
        );
    }
}

/// Writes the process-wide log cap's summary of the lines it held back
/// every [`LogFlood::SUMMARY_EVERY`], even when no further line comes to
/// trigger it (each connection's own limit lets its next line through only
/// a minute later). Ended by [`end_log_summaries`].
pub(crate) fn spawn_log_summaries() -> JoinHandle<()> {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(LogFlood::SUMMARY_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            LogFlood::global().flush();
        }
    })
}

/// Stops the summaries and writes the last one, if anything was held back.
pub(crate) fn end_log_summaries(task: &JoinHandle<()>) {
    task.abort();
    LogFlood::global().flush();
}
