//! The bus's recent events, kept when asked for ([`Bus::keep_history`]) so
//! that a subscriber that was away can resume after the last `seq` it saw
//! ([`Bus::subscribe_since`]): it gets every event it missed, or is told
//! which are gone ([`Missed`]).
//!
//! Why in the bus, under the publish lock: a recorder that subscribes like
//! any listener would fall behind in a burst (its queue overflows) and
//! lose the very events it is for, and a resume would have to wait for it
//! to catch up. Under the lock the ring holds exactly the events published,
//! and a resume takes them and registers its subscription at one `seq`: no
//! gap and no duplicate. The cost per publish is a pointer pushed (and one
//! popped when full).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::bus::Bus;
use crate::delivery::Subscription;
use crate::event::{Event, What};
use crate::interest::Interest;

/// What a [`Bus::subscribe_since`] subscriber missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Missed {
    /// Nothing is lost: the subscription delivers every event after the
    /// given `seq` that its interest admits, then live events, with no
    /// replay.
    Nothing,
    /// Events `from` to `to` (both included) may be missing: not kept any
    /// more, never kept, or (a `seq` ahead of the bus) from before the
    /// process started again. The subscription starts with the current
    /// state (replay events), as [`Bus::subscribe`] does.
    Gone {
        /// The first `seq` that may be missing.
        from: u64,
        /// The last `seq` that may be missing.
        to: u64,
    },
}

/// The ring of recent events.
#[derive(Debug)]
pub(crate) struct History {
    events: VecDeque<(Arc<Event>, usize)>,
    bytes: usize,
    max_events: usize,
    max_bytes: usize,
    /// Events with this `seq` or lower may be missing from the ring.
    floor: u64,
}

impl History {
    /// An empty ring; events up to `floor` were published before it.
    pub(crate) fn new(max_events: usize, max_bytes: usize, floor: u64) -> History {
        History {
            events: VecDeque::new(),
            bytes: 0,
            max_events: max_events.max(1),
            max_bytes,
            floor,
        }
    }

    /// Keeps `event`, evicting the oldest events over either bound.
    pub(crate) fn push(&mut self, event: &Arc<Event>) {
        let size = size_of(event);
        self.events.push_back((Arc::clone(event), size));
        self.bytes += size;
        while self.events.len() > self.max_events || self.bytes > self.max_bytes {
            let Some((old, size)) = self.events.pop_front() else {
                break;
            };
            self.bytes -= size;
            self.floor = self.floor.max(old.seq);
        }
    }

    /// The kept events after `since` that `interest` admits, or what is
    /// gone, when the latest `seq` is `now`.
    pub(crate) fn since(
        &self,
        since: u64,
        now: u64,
        interest: &Interest,
    ) -> Result<Vec<Arc<Event>>, Missed> {
        if since > now {
            return Err(Missed::Gone { from: 1, to: now });
        }
        if since < self.floor {
            return Err(Missed::Gone {
                from: since + 1,
                to: self.floor,
            });
        }
        Ok(self
            .events
            .iter()
            .map(|(event, _)| event)
            .filter(|event| event.seq > since && interest.matches(event))
            .cloned()
            .collect())
    }
}

/// About how many bytes a kept event holds: its struct, its ring slot,
/// its name and the text of its payload.
fn size_of(event: &Event) -> usize {
    let text = match &event.what {
        What::Waiting(w) => w.on.iter().map(String::len).sum(),
        What::Connected(c) => c.peer.len(),
        What::ConnectFailed(c) => c.error.len(),
        What::Disconnected(d) => d.reason.len(),
        What::GaveUp(g) => {
            g.reason.as_ref().map_or(0, String::len) + g.last.as_ref().map_or(0, String::len)
        }
        What::Stopped(s) => s.reason.len(),
        What::ListenerRemoved(r) => r.listener.len(),
        _ => 0,
    };
    std::mem::size_of::<Event>()
        + std::mem::size_of::<(Arc<Event>, usize)>()
        + event.conn.len()
        + text
}

impl Bus {
    /// Keeps the most recent events for
    /// [`subscribe_since`](Self::subscribe_since): at most `max_events`
    /// (zero is taken as one) and about `max_bytes` bytes. Events published
    /// before this call are not kept. Called again, it sets new bounds and
    /// forgets what was kept. Off until called.
    ///
    /// ```
    /// use linesman_observer::{Bus, Connecting, Interest, Missed};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), linesman_observer::BusError> {
    /// let bus = Bus::default();
    /// bus.keep_history(1000, 1 << 20);
    /// let db = bus.publisher("db");
    /// for attempt in 1..=3 {
    ///     db.publish(Connecting { attempt })?;
    /// }
    /// // A watcher that saw seq 1 comes back: it gets 2 and 3, no replay.
    /// let (mut events, missed) = bus.subscribe_since(Interest::all(), 1);
    /// assert_eq!(missed, Missed::Nothing);
    /// bus.close().await;
    /// let mut seqs = Vec::new();
    /// while let Some(event) = events.next().await {
    ///     seqs.push(event.seq);
    /// }
    /// assert_eq!(seqs, [2, 3]);
    /// # Ok(()) }
    /// ```
    pub fn keep_history(&self, max_events: usize, max_bytes: usize) {
        self.shared.keep_history(max_events, max_bytes);
    }

    /// A stream of the events `interest` admits, resumed after `since`
    /// (the `seq` of the last event the caller saw): the kept events after
    /// it, then live events, with no gap and no duplicate, when the
    /// history still holds them ([`Missed::Nothing`]); otherwise (or
    /// without [`keep_history`](Self::keep_history)) what is gone and a
    /// subscription as [`subscribe`](Self::subscribe) makes it, the current
    /// state first. Needs no runtime to be created.
    pub fn subscribe_since(&self, interest: Interest, since: u64) -> (Subscription, Missed) {
        let (slot, missed) = self
            .shared
            .register_since(Arc::from("subscription"), interest, since);
        (Subscription::new(&self.shared, slot), missed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Connecting;

    fn ring(max_events: usize, max_bytes: usize, events: u64) -> History {
        let bus = Bus::default();
        let mut sub = bus.subscribe(Interest::all());
        let db = bus.publisher("db");
        let mut history = History::new(max_events, max_bytes, 0);
        for attempt in 1..=events {
            db.publish(Connecting {
                attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
            })
            .expect("open");
        }
        drop(db);
        drop(bus);
        while let Some(event) = futures_util::FutureExt::now_or_never(sub.next()).flatten() {
            history.push(&Arc::new(event));
        }
        history
    }

    #[test]
    fn a_resume_within_the_ring_gets_exactly_the_events_after_since() {
        let history = ring(100, usize::MAX, 10);
        let seqs: Vec<u64> = history
            .since(4, 10, &Interest::all())
            .expect("kept")
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, (5..=10).collect::<Vec<_>>());
    }

    #[test]
    fn a_resume_before_the_ring_or_ahead_of_the_bus_is_gone() {
        let history = ring(5, usize::MAX, 12);
        assert_eq!(
            history.since(2, 12, &Interest::all()).map(|e| e.len()),
            Err(Missed::Gone { from: 3, to: 7 })
        );
        assert_eq!(
            history.since(7, 12, &Interest::all()).map(|e| e.len()),
            Ok(5)
        );
        assert_eq!(
            history.since(99, 12, &Interest::all()).map(|e| e.len()),
            Err(Missed::Gone { from: 1, to: 12 })
        );
    }

    #[test]
    fn the_byte_bound_evicts_too() {
        let one = std::mem::size_of::<Event>() + std::mem::size_of::<(Arc<Event>, usize)>() + 2;
        let history = ring(1000, 3 * one, 10);
        assert_eq!(history.events.len(), 3);
        assert_eq!(history.bytes, 3 * one);
        assert_eq!(history.floor, 7);
    }
}
