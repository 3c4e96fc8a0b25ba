//! What delivering an event to a listener allocates: nothing for a
//! listener of a known type (its `on_event` future lives in its task),
//! one boxed future for a `Box<dyn DynListener>` — never more than the
//! one box per call `async-trait` made for every listener.
//!
//! A counting global allocator, so this file is a test binary of its own
//! with one test: nothing else allocates while it counts.

use linesman_observer::{Bus, Connecting, DynListener, Event, Listener};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator, which
// upholds `GlobalAlloc`'s contract; counting touches no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Events per measured round; fewer than a queue holds, so none lags.
const EVENTS: usize = 512;

/// Counts the events it is given; its `on_event` awaits, so its future
/// has a state across a suspension point, as a real listener's does.
struct Tally {
    seen: Arc<AtomicUsize>,
}

impl Listener for Tally {
    async fn on_event(&self, _event: &Event) {
        tokio::task::yield_now().await;
        self.seen.fetch_add(1, Ordering::Relaxed);
    }
}

/// Publishes `EVENTS` events on `bus` and waits until `seen` reaches
/// `target`; the allocations made meanwhile, on any thread.
async fn round(bus: &Bus, seen: &AtomicUsize, target: usize) -> u64 {
    let publisher = bus.publisher("feed");
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for attempt in 0..EVENTS {
        publisher
            .publish(Connecting {
                attempt: u32::try_from(attempt).expect("small"),
            })
            .expect("the bus is open");
    }
    // A current-thread runtime: the listener's task runs when this yields.
    for _ in 0..1_000_000 {
        if seen.load(Ordering::SeqCst) >= target {
            break;
        }
        tokio::task::yield_now().await;
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(seen.load(Ordering::SeqCst), target, "every event delivered");
    after - before
}

/// The allocations of one round of `EVENTS` events on a bus with the
/// listener `make` returns (none: publishing alone), after a warm-up
/// round that lets queues and buffers grow to their size.
async fn measure<L: Listener>(make: impl FnOnce(Arc<AtomicUsize>) -> Option<L>) -> u64 {
    let bus = Bus::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let listener = make(seen.clone());
    let per_round = if listener.is_some() { EVENTS } else { 0 };
    let _handle = listener.map(|listener| bus.listen(listener));
    round(&bus, &seen, per_round).await;
    let measured = round(&bus, &seen, 2 * per_round).await;
    bus.close().await;
    measured
}

#[tokio::test(flavor = "current_thread")]
async fn a_listener_of_a_known_type_costs_no_allocation_per_event() {
    let publishing = measure(|_| None::<Tally>).await;
    let typed = measure(|seen| Some(Tally { seen })).await;
    let closure = measure(|seen: Arc<AtomicUsize>| {
        Some(move |_: &Event| {
            seen.fetch_add(1, Ordering::Relaxed);
        })
    })
    .await;
    let boxed = measure(|seen| Some(Box::new(Tally { seen }) as Box<dyn DynListener>)).await;
    println!(
        "allocations for {EVENTS} events: publishing {publishing}, typed listener {typed}, \
         closure {closure}, Box<dyn DynListener> {boxed}"
    );
    // Per event, rounded: a buffer that grows once in a round (the
    // runtime's list of yielded tasks) is not a cost per event.
    let per_event = |allocations: u64| {
        let events = EVENTS as u64;
        (allocations.saturating_sub(publishing) + events / 2) / events
    };
    assert_eq!(
        per_event(typed),
        0,
        "a typed listener allocates nothing per event"
    );
    assert_eq!(
        per_event(closure),
        0,
        "a closure listener allocates nothing per event"
    );
    assert_eq!(
        per_event(boxed),
        1,
        "a boxed listener allocates one future per event"
    );
}
