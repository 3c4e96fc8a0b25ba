//! The places of the control server: how many connections it serves at
//! once, which of them have nothing to finish, and which one gives up its
//! place when a client comes and every place is taken.
//!
//! A connection has nothing to finish while it answers no request, or
//! while every request it has is still receiving its body (no route takes
//! one; a client sends what it sends at once). A client waiting for a
//! place may have the place of the one idle longest, told to close
//! ([`Slot::evicted`]): at once if it is kept alive after an answer (HTTP
//! lets a server close such a connection whenever it likes), after
//! [`MIN_IDLE_TO_EVICT`] if it has had no answer yet (its first request may
//! be on its way). So clients that connect and send nothing, send half a
//! request head, trickle a body, or keep their connection with a cheap
//! request every few milliseconds, however many and however fast they come
//! back, cannot keep `status` out; only requests being answered hold
//! places.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use linesman_connection::{LogLimit, Verdict};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a connection that has had no answer yet must have had nothing
/// to finish to give its place to a client waiting for one: far longer
/// than a client's request takes to arrive once it has connected (it
/// writes at once), short enough that silent clients flooding the accept
/// queue are cleared through a few places quickly (3 places: 30 a second;
/// status answered behind 100 of them in about 3 s).
pub(crate) const MIN_IDLE_TO_EVICT: Duration = Duration::from_millis(100);
/// How long a client that came when every place was taken waits for one
/// (freed, or given by a connection idle long enough) before it is refused.
pub(crate) const EVICT_WAIT: Duration = Duration::from_secs(1);
/// How often that wait looks again for a connection idle long enough.
const EVICT_CHECK: Duration = Duration::from_millis(20);
/// How often the limit and the evictions are logged at most (then with
/// a count of the repeats: `LogLimit`).
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The places of one server, shared by its accept loop and the clients
/// waiting for a place.
pub(crate) struct Places {
    permits: Arc<Semaphore>,
    max: usize,
    /// The connections being served (and some that ended, pruned as it
    /// grows): where the one idle longest is found.
    live: Mutex<Vec<Weak<Slot>>>,
    /// What the slots' times count from.
    epoch: Instant,
    /// The refusals' and the evictions' log lines.
    full_log: Mutex<LogLimit>,
    evict_log: Mutex<LogLimit>,
}

impl Places {
    pub(crate) fn new(max: usize) -> Places {
        Places {
            permits: Arc::new(Semaphore::new(max)),
            max,
            live: Mutex::new(Vec::new()),
            epoch: Instant::now(),
            full_log: Mutex::new(LogLimit::new(LOG_EVERY)),
            evict_log: Mutex::new(LogLimit::new(LOG_EVERY)),
        }
    }

    /// How many connections are served at once at most.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// A free place, if there is one.
    pub(crate) fn try_take(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }

    /// The slot of a connection about to be served: what it tells the
    /// server about itself.
    pub(crate) fn slot(&self) -> Arc<Slot> {
        let slot = Arc::new(Slot::new(self.epoch));
        let mut live = lock(&self.live);
        // Ended connections are dropped from the list as it grows, so it
        // stays within twice the limit.
        if live.len() >= 2 * self.max.max(1) {
            live.retain(|slot| slot.strong_count() > 0);
        }
        live.push(Arc::downgrade(&slot));
        slot
    }

    /// A place for a client that came when every place was taken: one
    /// freed, or the place of the connection idle longest once one has had
    /// nothing to finish for [`MIN_IDLE_TO_EVICT`] (told to close; each
    /// waiting client closes one at most); `None` when neither comes within
    /// [`EVICT_WAIT`].
    pub(crate) async fn wait_for_one(&self) -> Option<OwnedSemaphorePermit> {
        let give_up = Instant::now() + EVICT_WAIT;
        let mut evicted = false;
        loop {
            if !evicted {
                evicted = self.evict_idlest();
            }
            let until = (Instant::now() + EVICT_CHECK).min(give_up);
            tokio::select! {
                permit = Arc::clone(&self.permits).acquire_owned() => return permit.ok(),
                () = tokio::time::sleep_until(until) => {}
            }
            if Instant::now() >= give_up {
                return None;
            }
        }
    }

    /// Tells the connection idle longest (at least [`MIN_IDLE_TO_EVICT`])
    /// to close, so that a waiting client gets its place; `false` when none
    /// is.
    fn evict_idlest(&self) -> bool {
        let now_ms = millis_since(self.epoch);
        let idlest = lock(&self.live)
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|slot| Some((slot.idle_for(now_ms)?, slot)))
            .filter(|(idle, slot)| {
                *idle >= MIN_IDLE_TO_EVICT || slot.answered.load(Ordering::Acquire)
            })
            .max_by_key(|(idle, _)| *idle);
        let Some((idle, slot)) = idlest else {
            return false;
        };
        slot.evict.cancel();
        let max = self.max;
        warn_limited(&self.evict_log, max, || {
            format!(
                "the control server serves its limit of {max} connections at once; closed the one idle longest ({} ms without a request being answered) for a new client",
                idle.as_millis()
            )
        });
        true
    }

    /// Logs (rarely, with a count) that a client is refused.
    pub(crate) fn warn_full(&self) {
        let max = self.max;
        warn_limited(&self.full_log, max, || {
            format!(
                "the control server serves its limit of {max} connections at once, and none had nothing to finish for {} ms within {} s (each answering a request, or new); refusing more with 503",
                MIN_IDLE_TO_EVICT.as_millis(),
                EVICT_WAIT.as_secs()
            )
        });
    }
}

/// What the server knows of a connection it serves: how many requests it
/// has and how many of those still receive their body, since when it has
/// had nothing to finish, and how to close it.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Requests whose answer is not fully written yet.
    in_service: AtomicUsize,
    /// Of those, the ones whose body has not been received whole.
    receiving: AtomicUsize,
    /// When it last had no request (accepted, or its last answer written),
    /// and when a body it waits for began, in milliseconds since `epoch`.
    idle_since_ms: AtomicU64,
    receiving_since_ms: AtomicU64,
    /// A request of it was answered: idle now, it is a kept-alive
    /// connection, which may be closed for a waiting client at once.
    answered: AtomicBool,
    epoch: Instant,
    /// Cancelled to close it for a waiting client.
    evict: CancellationToken,
}

impl Slot {
    fn new(epoch: Instant) -> Slot {
        Slot {
            in_service: AtomicUsize::new(0),
            receiving: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(millis_since(epoch)),
            receiving_since_ms: AtomicU64::new(0),
            answered: AtomicBool::new(false),
            epoch,
            evict: CancellationToken::new(),
        }
    }

    /// Whether closing it now loses nothing: no request, or only requests
    /// still receiving their body.
    pub(crate) fn nothing_to_finish(&self) -> bool {
        let receiving = self.receiving.load(Ordering::Acquire);
        self.in_service.load(Ordering::Acquire) <= receiving
    }

    /// Resolves when a waiting client needs its place.
    pub(crate) async fn evicted(&self) {
        self.evict.cancelled().await;
    }

    /// How long it has had nothing to finish at `now_ms`; `None` while it
    /// answers a request, or once it was told to close.
    fn idle_for(&self, now_ms: u64) -> Option<Duration> {
        if self.evict.is_cancelled() {
            return None;
        }
        let since = if self.in_service.load(Ordering::Acquire) == 0 {
            &self.idle_since_ms
        } else if self.nothing_to_finish() {
            &self.receiving_since_ms
        } else {
            return None;
        };
        let since = since.load(Ordering::Acquire);
        Some(Duration::from_millis(now_ms.saturating_sub(since)))
    }
}

/// One request of a connection whose answer is not fully written yet:
/// counted while it lives; the connection has nothing to finish from when
/// the last one ends.
pub(crate) struct InService(Arc<Slot>);

impl InService {
    pub(crate) fn enter(slot: &Arc<Slot>) -> InService {
        slot.in_service.fetch_add(1, Ordering::AcqRel);
        InService(Arc::clone(slot))
    }
}

impl Drop for InService {
    fn drop(&mut self) {
        let slot = &self.0;
        slot.answered.store(true, Ordering::Release);
        if slot.in_service.fetch_sub(1, Ordering::AcqRel) == 1 {
            slot.idle_since_ms
                .store(millis_since(slot.epoch), Ordering::Release);
        }
    }
}

/// Carried by a request (in its extensions) until its body has been
/// received whole, or the route answered without it: while it waits, the
/// request does not count as one being answered (see the module docs).
#[derive(Clone)]
pub(crate) struct BodyArrival(Arc<Arrival>);

struct Arrival {
    slot: Arc<Slot>,
    received: AtomicBool,
}

impl BodyArrival {
    /// A request of `slot` whose body is awaited from now.
    pub(crate) fn awaited(slot: &Arc<Slot>) -> BodyArrival {
        if slot.receiving.fetch_add(1, Ordering::AcqRel) == 0 {
            slot.receiving_since_ms
                .store(millis_since(slot.epoch), Ordering::Release);
        }
        BodyArrival(Arc::new(Arrival {
            slot: Arc::clone(slot),
            received: AtomicBool::new(false),
        }))
    }

    /// The body is received (or no longer awaited); once only.
    pub(crate) fn received(&self) {
        if !self.0.received.swap(true, Ordering::AcqRel) {
            self.0.slot.receiving.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Arrival {
    fn drop(&mut self) {
        if !*self.received.get_mut() {
            self.slot.receiving.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Logs the `line` of an occurrence as `limit` decides: the first, then
/// once every [`LOG_EVERY`] with how many there were since.
fn warn_limited(limit: &Mutex<LogLimit>, max: usize, line: impl FnOnce() -> String) {
    let verdict = lock(limit).check("", Instant::now());
    match verdict {
        Verdict::Suppress => {}
        Verdict::Summary { repeats, over } => tracing::warn!(
            limit = max,
            "{} ({repeats} times in the last {} s)",
            line(),
            over.as_secs()
        ),
        _ => tracing::warn!(limit = max, "{}", line()),
    }
}
