//! What every handle of one bus shares: the publish lock and what it
//! guards (sequence numbers, listener slots), the state registry, the
//! counters and the listener tasks; and [`ConnMeta`], what every event of
//! one connection carries. See `bus.rs` for why one short lock.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::SystemTime;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use tokio::task::AbortHandle;
use tokio_util::task::TaskTracker;

use crate::error::BusError;
use crate::event::{Event, Lagged, ListenerRemoved, What};
use crate::history::{History, Missed};
use crate::interest::Interest;
use crate::options::{BusOptions, Counters};
use crate::queue::{Pushed, Queued, Slot};
use crate::state::{ConnState, ConnStatus};

/// What every handle of one bus shares.
pub(crate) struct Shared {
    core: Mutex<Core>,
    /// Boxed records: a map's table has room for more entries than it
    /// holds (a power of two, 7/8 full at most), and a box per slot is 8
    /// bytes where a record is 136.
    pub(crate) registry: DashMap<Arc<str>, Box<ConnStatus>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) options: BusOptions,
    pub(crate) tasks: TaskTracker,
    /// Every listener task with its slot, to abort the ones still running
    /// when a bounded close runs out of time and count what they missed.
    pub(crate) listener_tasks: Mutex<Vec<(Arc<Slot>, AbortHandle)>>,
}

#[derive(Default)]
struct Core {
    seq: u64,
    next_id: u64,
    closed: bool,
    slots: Vec<Arc<Slot>>,
    /// Recent events, once [`Bus::keep_history`](crate::Bus::keep_history)
    /// asked for them.
    history: Option<History>,
}

thread_local! {
    /// Wakers collected under the publish lock, woken after it is released.
    static WAKERS: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

impl Shared {
    /// The state of a new bus with these settings.
    pub(crate) fn new(options: BusOptions) -> Shared {
        Shared {
            core: Mutex::new(Core::default()),
            registry: DashMap::new(),
            counters: Arc::default(),
            options,
            tasks: TaskTracker::new(),
            listener_tasks: Mutex::default(),
        }
    }

    /// Whether the bus was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        // No user code runs under this lock and the registry is updated
        // before anything else can fail, so a poisoned lock is consistent.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the bus closed and tells every listener and stream so; the
    /// listener tasks end once they have delivered what is queued.
    pub(crate) fn begin_close(&self) {
        let wakers: Vec<Waker> = {
            let mut core = self.lock();
            core.closed = true;
            core.slots
                .drain(..)
                .filter_map(|slot| slot.close())
                .collect()
        };
        self.counters.receivers.store(0, Ordering::Relaxed);
        wakers.into_iter().for_each(Waker::wake);
        self.tasks.close();
    }

    /// Removes `name`'s record, under the publish lock so that no snapshot
    /// taken for a replay sees it half gone.
    pub(crate) fn forget(&self, name: &str) -> bool {
        let _core = self.lock();
        self.registry.remove(name).is_some()
    }

    /// Publishes `what` for the connection `meta` (or for the bus itself
    /// when `meta` is `None`). Returns the event's `seq`.
    pub(crate) fn publish(&self, meta: Option<&ConnMeta>, what: What) -> Result<u64, BusError> {
        let state = ConnState::after(&what);
        let mut core = self.lock();
        if core.closed {
            return Err(BusError::Closed {
                event: what.event_type(),
            });
        }
        core.seq += 1;
        let seq = core.seq;
        let at = SystemTime::now();
        let event = match (meta, state) {
            (Some(meta), Some(state)) => match self.registry.entry(meta.name.clone()) {
                Entry::Occupied(mut entry) => {
                    let conn_seq = entry.get().last_event.conn_seq + 1;
                    let state = match &state {
                        // The one transition that depends on the state before.
                        ConnState::Down { .. } => {
                            ConnState::after_from(Some(&entry.get().state), &what).unwrap_or(state)
                        }
                        _ => state,
                    };
                    let event = Arc::new(meta.event(seq, conn_seq, at, what));
                    entry.get_mut().apply(event.clone(), state);
                    event
                }
                Entry::Vacant(entry) => {
                    let event = Arc::new(meta.event(seq, 1, at, what));
                    entry.insert(Box::new(ConnStatus::new(event.clone(), state)));
                    event
                }
            },
            _ => Arc::new(bus_event(seq, at, what)),
        };
        if let Some(history) = &mut core.history {
            history.push(&event);
        }
        // Taken out of the thread-local, so that a waker that publishes
        // (another executor's) cannot find it borrowed.
        let mut wakers = WAKERS.take();
        for slot in &core.slots {
            if !slot.interest.matches(&event) {
                continue;
            }
            match slot.push(&event) {
                Pushed::Queued(waker) => wakers.extend(waker),
                Pushed::Missed => {
                    self.counters.lagged.fetch_add(1, Ordering::Relaxed);
                }
                Pushed::Gone => {}
            }
        }
        self.counters.published.store(seq, Ordering::Relaxed);
        drop(core);
        wakers.drain(..).for_each(Waker::wake);
        WAKERS.set(wakers);
        Ok(seq)
    }

    /// Creates a slot for `interest`, queues the current state of every
    /// connection it is interested in, and makes it visible to publishers —
    /// all under the publish lock, so the replay and the live events that
    /// follow have no gap and no duplicate.
    pub(crate) fn register(&self, name: Arc<str>, interest: Interest) -> Arc<Slot> {
        let mut core = self.lock();
        core.next_id += 1;
        let slot = Arc::new(Slot::new(
            core.next_id,
            name,
            interest,
            self.options.queue_capacity,
        ));
        slot.push_replay(self.replay(&slot.interest));
        if core.closed {
            // Nothing more will be published: deliver the replay, then end.
            let _ = slot.close();
        } else {
            core.slots.push(slot.clone());
            self.counters.receivers.fetch_add(1, Ordering::Relaxed);
        }
        slot
    }

    /// Keeps recent events from now on, within these bounds.
    pub(crate) fn keep_history(&self, max_events: usize, max_bytes: usize) {
        let mut core = self.lock();
        let now = core.seq;
        core.history = Some(History::new(max_events, max_bytes, now));
    }

    /// As [`register`](Self::register), resumed after `since`: the kept
    /// events after it instead of the replay when the history holds them,
    /// else the replay and what is gone — under the publish lock, so the
    /// kept events and the live ones that follow have no gap and no
    /// duplicate.
    pub(crate) fn register_since(
        &self,
        name: Arc<str>,
        interest: Interest,
        since: u64,
    ) -> (Arc<Slot>, Missed) {
        let mut core = self.lock();
        let kept = match &core.history {
            Some(history) => history.since(since, core.seq, &interest),
            None if since >= core.seq => Ok(Vec::new()),
            None => Err(Missed::Gone {
                from: since + 1,
                to: core.seq,
            }),
        };
        core.next_id += 1;
        let slot = Arc::new(Slot::new(
            core.next_id,
            name,
            interest,
            self.options.queue_capacity,
        ));
        let missed = match kept {
            Ok(events) => {
                slot.push_replay(events.into_iter().map(Queued::live));
                Missed::Nothing
            }
            Err(missed) => {
                slot.push_replay(self.replay(&slot.interest));
                missed
            }
        };
        if core.closed {
            let _ = slot.close();
        } else {
            core.slots.push(slot.clone());
            self.counters.receivers.fetch_add(1, Ordering::Relaxed);
        }
        (slot, missed)
    }

    /// The latest event of every connection `interest` is interested in,
    /// to be delivered as replay, in `seq` order: the registry's own
    /// events, shared, not copies. Call under the publish lock.
    fn replay(&self, interest: &Interest) -> Vec<Queued> {
        let mut events: Vec<Queued> = self
            .registry
            .iter()
            .filter(|entry| interest.matches_connection(&entry.value().last_event))
            .map(|entry| Queued::replay(entry.value().last_event.clone()))
            .collect();
        events.sort_by_key(Queued::seq);
        events
    }

    /// Ends `slot`'s lag: the `Lagged { missed }` marker followed by the
    /// current state of every connection it is interested in, both as of the
    /// same `seq`. Empty if the slot was not lagging.
    pub(crate) fn resync(&self, slot: &Slot) -> Vec<Queued> {
        let core = self.lock();
        let Some(missed) = slot.end_lag() else {
            return Vec::new();
        };
        let marker = Queued::live(Arc::new(bus_event(
            core.seq,
            SystemTime::now(),
            What::Lagged(Lagged { missed }),
        )));
        let mut events = vec![marker];
        events.extend(self.replay(&slot.interest));
        events
    }

    /// Removes `slot` from the bus; `true` if it was registered.
    pub(crate) fn unregister(&self, slot: &Slot) -> bool {
        let mut core = self.lock();
        let before = core.slots.len();
        core.slots.retain(|s| s.id != slot.id);
        let removed = core.slots.len() != before;
        if removed {
            self.counters.receivers.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Removes a listener that panicked too often and says so on the bus.
    pub(crate) fn remove_panicking(&self, slot: &Slot, panics: u32) {
        slot.removed.store(true, Ordering::Release);
        slot.cancel();
        self.unregister(slot);
        self.counters
            .listeners_removed
            .fetch_add(1, Ordering::Relaxed);
        let what = What::ListenerRemoved(ListenerRemoved {
            listener: slot.name.to_string(),
            panics,
        });
        // A closed bus cannot say it; the error log and the handle still do.
        let _ = self.publish(None, what);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone: nothing more can be published, so let
        // every consumer drain and end.
        let core = self.core.get_mut().unwrap_or_else(PoisonError::into_inner);
        for waker in core.slots.drain(..).filter_map(|slot| slot.close()) {
            waker.wake();
        }
    }
}

/// An event that concerns the bus, not a connection.
fn bus_event(seq: u64, at: SystemTime, what: What) -> Event {
    Event {
        seq,
        conn_seq: 0,
        at,
        conn: Arc::default(),
        kind: None,
        tags: Arc::default(),
        replay: false,
        what,
    }
}

/// What every event of one connection carries besides its payload.
#[derive(Debug, Clone)]
pub(crate) struct ConnMeta {
    pub(crate) name: Arc<str>,
    pub(crate) kind: Option<Arc<str>>,
    pub(crate) tags: Arc<[Arc<str>]>,
}

impl ConnMeta {
    pub(crate) fn event(&self, seq: u64, conn_seq: u64, at: SystemTime, what: What) -> Event {
        Event {
            seq,
            conn_seq,
            at,
            conn: self.name.clone(),
            kind: self.kind.clone(),
            tags: self.tags.clone(),
            replay: false,
            what,
        }
    }
}
