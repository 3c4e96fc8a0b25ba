//! One listener's bounded queue (a [`Slot`]): publishers push into it under
//! the bus's publish lock and never wait; the listener's task (or its
//! stream) takes events out in batches.
//!
//! Why a hand-made queue rather than a channel: overflow must not lose events
//! silently *and* must not leave a gap in the listener's view. When the queue
//! is full the slot turns *lagging*: every further event for it is counted
//! as missed and dropped, until the consumer has delivered everything queued
//! before the overflow. Then, under the publish lock, the consumer takes the
//! missed count and a snapshot of the registry at the same `seq`, and the
//! slot accepts live events again — so the listener sees `Lagged`, the
//! current state, then exactly the events after it.
//!
//! A replay is queued as the registry's own events with a flag
//! ([`Queued`]), not as copies flagged `replay`: a subscriber that never
//! reads holds a pointer per connection, however large the events are.

use crate::event::Event;
use crate::interest::Interest;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// The most events a consumer takes out of its queue at once.
pub(crate) const MAX_BATCH: usize = 256;

/// One queued event: the bus's shared event, and whether it is delivered
/// as a replay (a restatement of the connection's current state).
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    event: Arc<Event>,
    replay: bool,
}

impl Queued {
    /// A live event (or a `Lagged` marker).
    pub(crate) fn live(event: Arc<Event>) -> Queued {
        Queued {
            event,
            replay: false,
        }
    }

    /// The registry's latest event of a connection, to be delivered as a
    /// replay.
    pub(crate) fn replay(event: Arc<Event>) -> Queued {
        Queued {
            event,
            replay: true,
        }
    }

    /// The event as delivered: the shared one as it is for a live event,
    /// a copy with [`Event::replay`] set for a replay.
    pub(crate) fn get(&self) -> std::borrow::Cow<'_, Event> {
        if self.replay {
            let mut event = Event::clone(&self.event);
            event.replay = true;
            std::borrow::Cow::Owned(event)
        } else {
            std::borrow::Cow::Borrowed(&self.event)
        }
    }

    /// The event as delivered, owned (cloned unless this was the last
    /// reference).
    pub(crate) fn into_event(self) -> Event {
        let mut event = Arc::unwrap_or_clone(self.event);
        event.replay |= self.replay;
        event
    }

    /// The event's `seq`.
    pub(crate) fn seq(&self) -> u64 {
        self.event.seq
    }
}

/// A registered listener or subscription, shared by the bus and its consumer.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) id: u64,
    pub(crate) name: Arc<str>,
    pub(crate) interest: Interest,
    capacity: usize,
    queue: Mutex<Queue>,
    /// Events taken out of the queue but not yet delivered; they still count
    /// against the capacity. Written only by the consumer, on a cache line of
    /// its own so that its per-event store does not slow the publisher.
    in_flight: CacheLine<AtomicUsize>,
    /// Set when the consumer must stop at once (unsubscribed or removed);
    /// read per event, so kept off the lines that are written per event.
    cancelled: CacheLine<AtomicBool>,
    pub(crate) removed: AtomicBool,
    pub(crate) delivered: AtomicU64,
    pub(crate) missed: AtomicU64,
    pub(crate) panics: AtomicU32,
}

#[derive(Debug, Default)]
struct Queue {
    buf: VecDeque<Queued>,
    /// Overflowed: drop and count until the consumer has caught up.
    lagging: bool,
    /// Events dropped since the queue overflowed.
    missed: u64,
    /// The bus is closed: deliver what is queued, then end.
    closed: bool,
    waker: Option<Waker>,
}

/// A value alone on its cache line (128 bytes covers adjacent-line prefetch).
#[derive(Debug)]
#[repr(align(128))]
struct CacheLine<T>(T);

/// What a push did.
pub(crate) enum Pushed {
    /// Queued; wake this consumer if there is one waiting.
    Queued(Option<Waker>),
    /// The queue is full or still lagging: counted as missed.
    Missed,
    /// The slot is closed or cancelled: nothing to count.
    Gone,
}

/// What a consumer finds when it asks for the next events.
pub(crate) enum Next {
    /// Events were moved into the caller's buffer.
    Events,
    /// Nothing is queued and the slot is lagging: resynchronise.
    Lagged,
    /// Nothing more will come.
    End,
}

impl Slot {
    pub(crate) fn new(id: u64, name: Arc<str>, interest: Interest, capacity: usize) -> Slot {
        Slot {
            id,
            name,
            interest,
            capacity: capacity.max(1),
            queue: Mutex::new(Queue::default()),
            in_flight: CacheLine(AtomicUsize::new(0)),
            cancelled: CacheLine(AtomicBool::new(false)),
            removed: AtomicBool::new(false),
            delivered: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            panics: AtomicU32::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // No user code runs under this lock, so a poisoned lock holds
        // consistent data.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a live event. Called under the bus's publish lock.
    pub(crate) fn push(&self, event: &Arc<Event>) -> Pushed {
        let mut q = self.lock();
        if q.closed || self.is_cancelled() {
            return Pushed::Gone;
        }
        // The consumer's batch holds at most `MAX_BATCH`: while the queue is
        // that far from full, the consumer's counter need not be read.
        let full = q.buf.len() + MAX_BATCH >= self.capacity
            && q.buf.len() + self.in_flight.0.load(Ordering::Acquire) >= self.capacity;
        if q.lagging || full {
            q.lagging = true;
            q.missed += 1;
            drop(q);
            self.missed.fetch_add(1, Ordering::Relaxed);
            return Pushed::Missed;
        }
        q.buf.push_back(Queued::live(event.clone()));
        Pushed::Queued(q.waker.take())
    }

    /// Queues the replay of a new registration, whatever the capacity.
    /// Called under the bus's publish lock, before the slot is visible.
    pub(crate) fn push_replay(&self, events: impl IntoIterator<Item = Queued>) {
        self.lock().buf.extend(events);
    }

    /// Closes the slot: what is queued is still delivered, then it ends.
    pub(crate) fn close(&self) -> Option<Waker> {
        let mut q = self.lock();
        q.closed = true;
        q.waker.take()
    }

    /// Stops the consumer at once (unsubscribed or removed).
    pub(crate) fn cancel(&self) {
        self.cancelled.0.store(true, Ordering::Release);
        let waker = self.lock().waker.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.0.load(Ordering::Acquire)
    }

    /// Moves up to `max` queued events into `out` (which the caller has
    /// emptied: the previous batch is done).
    pub(crate) fn poll_next(
        &self,
        cx: &mut Context<'_>,
        out: &mut VecDeque<Queued>,
        max: usize,
    ) -> Poll<Next> {
        if self.is_cancelled() {
            return Poll::Ready(Next::End);
        }
        let mut q = self.lock();
        if !q.buf.is_empty() {
            let n = q.buf.len().min(max);
            out.extend(q.buf.drain(..n));
            self.in_flight.0.store(n, Ordering::Release);
            return Poll::Ready(Next::Events);
        }
        self.in_flight.0.store(0, Ordering::Release);
        if q.lagging {
            Poll::Ready(Next::Lagged)
        } else if q.closed {
            Poll::Ready(Next::End)
        } else {
            if !q.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                q.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        }
    }

    /// Events given to this slot and not delivered yet: those queued and
    /// those of the consumer's batch not handled (the one in hand
    /// included). Exact once the consumer has ended.
    pub(crate) fn undelivered(&self) -> u64 {
        let queued = self.lock().buf.len();
        (queued + self.in_flight.0.load(Ordering::Acquire)) as u64
    }

    /// The consumer has `remaining` events of its batch left to deliver.
    pub(crate) fn set_in_flight(&self, remaining: usize) {
        self.in_flight.0.store(remaining, Ordering::Release);
    }

    /// Ends a lag: returns the number of events missed and accepts live
    /// events again. Called under the bus's publish lock, so the snapshot the
    /// caller takes under the same lock is exactly as of the last event
    /// missed. `None` if the slot is not lagging.
    pub(crate) fn end_lag(&self) -> Option<u64> {
        let mut q = self.lock();
        if !q.lagging {
            return None;
        }
        q.lagging = false;
        Some(std::mem::take(&mut q.missed))
    }
}
