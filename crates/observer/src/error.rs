//! The bus's errors.

use crate::event::EventType;

/// What can go wrong on the bus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// An event was published after [`Bus::close`](crate::Bus::close).
    #[error(
        "cannot publish a `{event}` event: the bus is closed; publish before calling `Bus::close`, or use a new bus"
    )]
    Closed {
        /// The type of the event that was not published.
        event: EventType,
    },
}
