//! Guarantee 5: `close()` delivers everything already published to every
//! listener and stream, then ends them; and dropping a handle or stream
//! unsubscribes.

use linesman_observer::{Bus, BusError, Connecting, Event, EventType, Interest, listener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_stream::StreamExt;

const EVENTS: u32 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_delivers_everything_published_then_ends_every_receiver() {
    let bus = Bus::default();
    let counts: Vec<Arc<AtomicU64>> = (0..3).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let _handles: Vec<_> = counts
        .iter()
        .map(|count| {
            let count = count.clone();
            bus.listen(listener::from_async_fn(move |_event: Event| {
                let count = count.clone();
                async move {
                    // Slower than the publisher: events are still queued at close.
                    tokio::task::yield_now().await;
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }))
        })
        .collect();
    let mut stream = bus.subscribe(Interest::all());
    let publisher = bus.publisher("conn");
    for attempt in 0..EVENTS {
        publisher
            .publish(Connecting { attempt })
            .expect("the bus is open");
    }
    bus.close().await;

    // Every listener task has finished its queue by the time close resolves.
    for count in &counts {
        assert_eq!(count.load(Ordering::SeqCst), u64::from(EVENTS));
    }
    let mut received = 0;
    while let Some(event) = stream.next().await {
        received += 1;
        assert_eq!(event.seq, received);
    }
    assert_eq!(received, u64::from(EVENTS));
    assert!(stream.next().await.is_none(), "an ended stream stays ended");

    // Nothing is published after close, and the caller is told.
    assert_eq!(
        publisher.publish(Connecting { attempt: 0 }),
        Err(BusError::Closed {
            event: EventType::Connecting
        })
    );
    // A stream opened after close gets the state, then ends.
    let late: Vec<Event> = bus.subscribe(Interest::all()).collect().await;
    assert_eq!(late.len(), 1);
    assert!(late[0].replay && late[0].seq == u64::from(EVENTS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_handle_or_stream_unsubscribes() {
    let bus = Bus::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = bus.listen(move |event: &Event| {
        let _ = tx.send(event.seq);
    });
    let stream = bus.subscribe(Interest::all());
    assert_eq!(bus.metrics().receivers, 2);
    let publisher = bus.publisher("conn");
    let first = publisher
        .publish(Connecting { attempt: 1 })
        .expect("the bus is open");
    assert_eq!(rx.recv().await, Some(first));

    drop(handle);
    drop(stream);
    assert_eq!(bus.metrics().receivers, 0);
    publisher
        .publish(Connecting { attempt: 2 })
        .expect("the bus is open");
    bus.close().await;
    // The listener's task ended (dropping its sender) without the second event.
    assert_eq!(rx.recv().await, None);
    assert_eq!(
        bus.metrics().delivered,
        1,
        "only the first, to the listener"
    );
}

/// A listener that never returns from its first event.
struct Stuck {
    entered: Arc<tokio::sync::Notify>,
}

impl linesman_observer::Listener for Stuck {
    async fn on_event(&self, _event: &Event) {
        self.entered.notify_one();
        std::future::pending::<()>().await;
    }

    fn name(&self) -> &str {
        "stuck"
    }
}

#[tokio::test(start_paused = true)]
async fn a_bounded_close_aborts_only_the_listener_that_is_stuck() {
    let bus = Bus::default();
    let entered = Arc::new(tokio::sync::Notify::new());
    let _stuck = bus.listen(Stuck {
        entered: Arc::clone(&entered),
    });
    let count = Arc::new(AtomicU64::new(0));
    let _counting = bus.listen(listener::named("counting", {
        let count = Arc::clone(&count);
        move |_: &Event| {
            count.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let publisher = bus.publisher("conn");
    for attempt in 0..EVENTS {
        publisher
            .publish(Connecting { attempt })
            .expect("the bus is open");
    }
    entered.notified().await;

    let cut_off = bus.close_within(std::time::Duration::from_secs(5)).await;

    let named: Vec<_> = cut_off
        .iter()
        .map(|cut| (cut.listener.as_str(), cut.undelivered))
        .collect();
    // It never finished its first event: every event is undelivered.
    assert_eq!(
        named,
        [("stuck", u64::from(EVENTS))],
        "only the stuck listener is cut off"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        u64::from(EVENTS),
        "the healthy listener got everything published before the close"
    );
    assert!(bus.is_closed());
    // Nothing is left to wait for: an unbounded close returns at once.
    bus.close().await;
}

#[tokio::test(start_paused = true)]
async fn a_bounded_close_of_healthy_listeners_aborts_nothing() {
    let bus = Bus::default();
    let count = Arc::new(AtomicU64::new(0));
    let _counting = bus.listen({
        let count = Arc::clone(&count);
        move |_: &Event| {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    let publisher = bus.publisher("conn");
    for attempt in 0..EVENTS {
        publisher
            .publish(Connecting { attempt })
            .expect("the bus is open");
    }
    let cut_off = bus.close_within(std::time::Duration::from_secs(5)).await;
    assert!(cut_off.is_empty(), "{cut_off:?}");
    assert_eq!(count.load(Ordering::SeqCst), u64::from(EVENTS));
}

/// What the issue saw: a listener taking 250 ms per event, with a backlog
/// at the close. The bound cuts it off, and what it was not given is
/// counted exactly: handled and undelivered add up to what it was given.
#[tokio::test(start_paused = true)]
async fn a_slow_listener_cut_off_by_the_bound_is_counted_exactly() {
    const GIVEN: u32 = 39;
    let bus = Bus::default();
    let handled = Arc::new(AtomicU64::new(0));
    let _slow = bus.listen(listener::named(
        "slow",
        listener::from_async_fn({
            let handled = Arc::clone(&handled);
            move |_: Event| {
                let handled = Arc::clone(&handled);
                async move {
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    handled.fetch_add(1, Ordering::SeqCst);
                }
            }
        }),
    ));
    let publisher = bus.publisher("conn");
    for attempt in 0..GIVEN {
        publisher
            .publish(Connecting { attempt })
            .expect("the bus is open");
    }

    let cut_off = bus.close_within(std::time::Duration::from_secs(1)).await;

    let handled = handled.load(Ordering::SeqCst);
    assert!(handled > 0 && handled < u64::from(GIVEN), "{handled}");
    assert_eq!(cut_off.len(), 1, "{cut_off:?}");
    assert_eq!(cut_off[0].listener, "slow");
    assert_eq!(cut_off[0].undelivered + handled, u64::from(GIVEN));
    assert_eq!(
        cut_off[0].to_string(),
        format!(
            "listener slow cut off with {} event(s) not delivered",
            cut_off[0].undelivered
        )
    );
}
