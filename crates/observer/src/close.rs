//! Closing the [`Bus`]: every listener is given what was published before,
//! then its task ends — with [`Bus::close_within`], within a bound, after
//! which the listeners still busy are cut off and what they were not given
//! is counted ([`CutOff`]) and logged.
//!
//! Why a bound of its own ([`BusOptions::listener_drain`](crate::BusOptions::listener_drain))
//! and not the connections' shutdown timeout: a listener that is slow per
//! event has a backlog by the time the connections are down, and one that
//! hangs never finishes. Waiting a whole shutdown timeout again for them
//! doubled the time a shutdown took, and still cut them off unannounced.

use crate::bus::Bus;
use std::fmt;
use std::sync::PoisonError;
use std::time::Duration;

/// A listener cut off by [`Bus::close_within`]: still busy when the bound
/// ran out, so its task was aborted with events it had not handled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CutOff {
    /// The listener's name ([`Listener::name`](crate::Listener::name)).
    pub listener: String,
    /// Events it was given and never finished handling: the one in hand
    /// when it was aborted and every one queued after it.
    pub undelivered: u64,
}

impl fmt::Display for CutOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "listener {} cut off with {} event(s) not delivered",
            self.listener, self.undelivered
        )
    }
}

impl Bus {
    /// Closes the bus: publishing fails from now on with
    /// [`BusError::Closed`](crate::BusError::Closed); every listener is
    /// given everything published before, then its task ends, and every
    /// stream ends after its last event. Resolves when every listener task
    /// has ended (a listener that never returns keeps it waiting: see
    /// [`close_within`](Self::close_within)).
    pub async fn close(&self) {
        self.shared.begin_close();
        self.shared.tasks.wait().await;
    }

    /// [`close`](Self::close), bounded: the listeners still busy after
    /// `limit` (one stuck in `on_event`, or one with a long backlog) are
    /// aborted — the event in hand is dropped, with the rest of their
    /// queue — and returned with how many events each was not given; each
    /// is also logged at warn. What a shutdown should use, with
    /// [`BusOptions::listener_drain`](crate::BusOptions::listener_drain):
    /// one stuck listener cannot keep a process from exiting.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_observer::{Bus, Connecting, Event, Listener};
    ///
    /// struct Stuck;
    /// impl Listener for Stuck {
    ///     async fn on_event(&self, _: &Event) {
    ///         std::future::pending::<()>().await; // never returns
    ///     }
    ///     fn name(&self) -> &str { "stuck" }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bus = Bus::default();
    /// let _stuck = bus.listen(Stuck);
    /// bus.publisher("feed").publish(Connecting { attempt: 1 })?;
    /// bus.publisher("feed").publish(Connecting { attempt: 2 })?;
    /// let cut_off = bus.close_within(Duration::from_secs(1)).await;
    /// assert_eq!(cut_off.len(), 1);
    /// assert_eq!((cut_off[0].listener.as_str(), cut_off[0].undelivered), ("stuck", 2));
    /// # Ok(()) }
    /// ```
    pub async fn close_within(&self, limit: Duration) -> Vec<CutOff> {
        self.shared.begin_close();
        if tokio::time::timeout(limit, self.shared.tasks.wait())
            .await
            .is_ok()
        {
            return Vec::new();
        }
        let aborted: Vec<_> = self
            .shared
            .listener_tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, task)| !task.is_finished())
            .map(|(slot, task)| {
                task.abort();
                slot.clone()
            })
            .collect();
        // An aborted task ends at once: it is dropped where it waits. Only
        // then is what it left undelivered counted, exactly.
        self.shared.tasks.wait().await;
        let cut_off: Vec<CutOff> = aborted
            .into_iter()
            .map(|slot| CutOff {
                listener: slot.name.to_string(),
                undelivered: slot.undelivered(),
            })
            // A task that finished as it was aborted missed nothing.
            .filter(|cut| cut.undelivered > 0)
            .collect();
        for cut in &cut_off {
            tracing::warn!(
                listener = %cut.listener,
                undelivered = cut.undelivered,
                drain = ?limit,
                "listener still busy when the bus closed was cut off: \
                 {} event(s) not delivered",
                cut.undelivered
            );
        }
        cut_off
    }
}
