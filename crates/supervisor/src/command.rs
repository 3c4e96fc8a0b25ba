//! [`Command`]: what an operator or the application asks of one
//! connection's task, carried by its mailbox.

/// What a connection's task is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Leave `Stopped` or `Failed`: reset the restart tracker and start
    /// (or wait for the start rule). Ignored while running.
    Start,
    /// Stop gracefully and stay `Stopped` until started.
    Stop,
    /// Reconnect now: end the session (or skip the backoff), reset the
    /// restart tracker, connect again once the rule holds.
    Restart,
}
