//! The consumers of a listener's queue: the task that calls a [`Listener`]
//! one event at a time (with its [`ListenerHandle`]), and the
//! [`Subscription`] stream.
//!
//! A listener's task is the only caller of that listener, and it awaits each
//! call before taking the next event, so a listener is never run
//! concurrently with itself and needs no lock of its own. Each call runs
//! under `catch_unwind`: a panic is logged with the listener's name and
//! counted, and the task goes on with the next event (or, past
//! [`BusOptions::max_panics`](crate::BusOptions::max_panics), removes the
//! listener and publishes [`ListenerRemoved`](crate::ListenerRemoved)).
//!
//! The task is generic over the listener's type: each `on_event` future is
//! awaited in place, inside the task's own (once-allocated) future, so
//! delivering an event allocates nothing for the listener. Only a
//! listener held as `dyn` [`DynListener`](crate::DynListener) boxes its
//! futures, one per event.

use crate::event::Event;
use crate::listener::Listener;
use crate::options::Counters;
use crate::queue::{MAX_BATCH, Next, Queued, Slot};
use crate::shared::Shared;
use futures_util::FutureExt;
use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::task::{Context, Poll, ready};
use tokio_stream::Stream;
use tracing::Instrument;

/// Spawns the task that delivers `slot`'s events to `listener`.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    slot: Arc<Slot>,
    listener: impl Listener,
) -> ListenerHandle {
    let span = tracing::info_span!("listener", listener = %slot.name, id = slot.id);
    let task = Task {
        shared: Arc::downgrade(shared),
        counters: shared.counters.clone(),
        slot: slot.clone(),
        max_panics: shared.options.max_panics,
    };
    let join = shared.tasks.spawn(task.run(listener).instrument(span));
    let mut tasks = shared
        .listener_tasks
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    // Tasks that ended (their listener unsubscribed) are forgotten here,
    // so the list stays as long as the live listeners.
    tasks.retain(|(_, task)| !task.is_finished());
    tasks.push((slot.clone(), join.abort_handle()));
    drop(tasks);
    ListenerHandle {
        slot,
        shared: Arc::downgrade(shared),
        detached: false,
    }
}

struct Task {
    shared: Weak<Shared>,
    counters: Arc<Counters>,
    slot: Arc<Slot>,
    max_panics: Option<u32>,
}

impl Task {
    async fn run(self, listener: impl Listener) {
        let mut batch = VecDeque::new();
        loop {
            match poll_fn(|cx| self.slot.poll_next(cx, &mut batch, MAX_BATCH)).await {
                Next::Events => {}
                Next::Lagged => match self.shared.upgrade() {
                    Some(shared) => batch.extend(shared.resync(&self.slot)),
                    None => return,
                },
                Next::End => return,
            }
            self.counters
                .delivered
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            self.slot
                .delivered
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            while let Some(queued) = batch.pop_front() {
                if self.slot.is_cancelled() {
                    return;
                }
                let event = queued.get();
                let call = AssertUnwindSafe(listener.on_event(&event)).catch_unwind();
                let outcome = call.await;
                self.slot.set_in_flight(batch.len());
                let goes_on = match outcome {
                    Ok(()) => true,
                    Err(panic) => self.panicked(panic.as_ref()),
                };
                if !goes_on {
                    return;
                }
            }
        }
    }

    /// Logs and counts a panic; `false` if the listener is now removed.
    fn panicked(&self, panic: &(dyn Any + Send)) -> bool {
        let panics = self.slot.panics.fetch_add(1, Ordering::Relaxed) + 1;
        self.counters.panics.fetch_add(1, Ordering::Relaxed);
        let message = panic_message(panic);
        let Some(max) = self.max_panics.filter(|max| panics >= *max) else {
            tracing::error!(
                listener = %self.slot.name,
                panics,
                panic = message,
                "listener panicked; it goes on receiving events"
            );
            return true;
        };
        tracing::error!(
            listener = %self.slot.name,
            panics,
            max_panics = max,
            panic = message,
            "listener panicked too often and is removed from the bus"
        );
        match self.shared.upgrade() {
            Some(shared) => shared.remove_panicking(&self.slot, panics),
            None => {
                self.slot.removed.store(true, Ordering::Release);
                self.slot.cancel();
            }
        }
        false
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "a panic with a payload that is not a string"
    }
}

/// How a listener or subscription is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListenerStats {
    /// Events handed to it (replay and `Lagged` markers included).
    pub delivered: u64,
    /// Events it missed because its queue was full.
    pub missed: u64,
    /// Times it panicked.
    pub panics: u32,
    /// Whether it was removed for panicking too often.
    pub removed: bool,
}

fn stats(slot: &Slot) -> ListenerStats {
    ListenerStats {
        delivered: slot.delivered.load(Ordering::Relaxed),
        missed: slot.missed.load(Ordering::Relaxed),
        panics: slot.panics.load(Ordering::Relaxed),
        removed: slot.removed.load(Ordering::Acquire),
    }
}

fn unsubscribe(shared: &Weak<Shared>, slot: &Slot) {
    if let Some(shared) = shared.upgrade() {
        shared.unregister(slot);
    }
    slot.cancel();
}

/// A registered listener. Dropping it unsubscribes the listener (it gets
/// nothing more, even what is already queued); [`detach`](Self::detach)
/// keeps it registered for the bus's lifetime instead.
#[must_use = "dropping the handle unsubscribes the listener at once"]
pub struct ListenerHandle {
    slot: Arc<Slot>,
    shared: Weak<Shared>,
    detached: bool,
}

impl fmt::Debug for ListenerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenerHandle")
            .field("name", &self.slot.name)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ListenerHandle {
    /// The listener's name, as in logs.
    pub fn name(&self) -> &str {
        &self.slot.name
    }

    /// How the listener is doing.
    pub fn stats(&self) -> ListenerStats {
        stats(&self.slot)
    }

    /// Whether the listener was removed for panicking too often.
    pub fn is_removed(&self) -> bool {
        self.slot.removed.load(Ordering::Acquire)
    }

    /// Keeps the listener registered until the bus closes, without a handle.
    pub fn detach(mut self) {
        self.detached = true;
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        if !self.detached {
            unsubscribe(&self.shared, &self.slot);
        }
    }
}

/// A stream of events; see [`Bus::subscribe`](crate::Bus::subscribe).
/// Dropping it unsubscribes.
pub struct Subscription {
    slot: Arc<Slot>,
    shared: Weak<Shared>,
    counters: Arc<Counters>,
    batch: VecDeque<Queued>,
    ended: bool,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("stats", &self.stats())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub(crate) fn new(shared: &Arc<Shared>, slot: Arc<Slot>) -> Subscription {
        Subscription {
            slot,
            shared: Arc::downgrade(shared),
            counters: shared.counters.clone(),
            batch: VecDeque::new(),
            ended: false,
        }
    }

    /// How the subscription is doing.
    pub fn stats(&self) -> ListenerStats {
        stats(&self.slot)
    }

    /// The next event, or `None` once the bus is closed and everything
    /// published before is taken. No extra crate needed: this is the
    /// subscription's own method (it is also a [`Stream`], for
    /// `tokio_stream::StreamExt` or `futures::StreamExt` combinators).
    /// Cancel safe: an event is taken only when the future resolves.
    ///
    /// ```
    /// use linesman_observer::{Bus, Connecting, EventType, Interest};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), linesman_observer::BusError> {
    /// let bus = Bus::default();
    /// let mut events = bus.subscribe(Interest::all());
    /// bus.publisher("quotes").publish(Connecting { attempt: 1 })?;
    /// bus.close().await;
    /// let first = events.next().await.map(|event| event.event_type());
    /// assert_eq!(first, Some(EventType::Connecting));
    /// assert!(events.next().await.is_none(), "ends after the close");
    /// # Ok(()) }
    /// ```
    pub async fn next(&mut self) -> Option<Event> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = self.get_mut();
        loop {
            if let Some(queued) = this.batch.pop_front() {
                this.slot.set_in_flight(this.batch.len());
                this.counters.delivered.fetch_add(1, Ordering::Relaxed);
                this.slot.delivered.fetch_add(1, Ordering::Relaxed);
                return Poll::Ready(Some(queued.into_event()));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match ready!(this.slot.poll_next(cx, &mut this.batch, MAX_BATCH)) {
                Next::Events => {}
                Next::Lagged => match this.shared.upgrade() {
                    Some(shared) => this.batch.extend(shared.resync(&this.slot)),
                    None => this.ended = true,
                },
                Next::End => this.ended = true,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        unsubscribe(&self.shared, &self.slot);
    }
}
