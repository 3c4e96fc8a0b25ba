//! Guarantee 4: a listener that panics is isolated — the panic is caught,
//! the bus and the other listeners go on, and the panicking listener keeps
//! receiving, or is removed after `max_panics` with an event saying so.

use linesman_observer::{Bus, BusOptions, Event, ListenerRemoved, Started, listener};
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_listener_keeps_receiving_and_others_go_on() {
    let bus = Bus::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let flaky = bus.listen(listener::named("flaky", {
        let seen = seen.clone();
        move |event: &Event| {
            seen.lock().expect("not poisoned").push(event.seq);
            if event.seq & 1 == 0 {
                panic!("flaky listener fails on even seq {}", event.seq);
            }
        }
    }));
    let other_seen = Arc::new(Mutex::new(Vec::new()));
    let _other = bus.listen({
        let other_seen = other_seen.clone();
        move |event: &Event| other_seen.lock().expect("not poisoned").push(event.seq)
    });
    let publisher = bus.publisher("conn");
    for _ in 0..10 {
        publisher.publish(Started {}).expect("the bus is open");
    }
    bus.close().await;

    let all: Vec<u64> = (1..=10).collect();
    assert_eq!(*seen.lock().expect("not poisoned"), all);
    assert_eq!(*other_seen.lock().expect("not poisoned"), all);
    assert_eq!(flaky.stats().panics, 5);
    assert!(!flaky.is_removed());
    assert_eq!(bus.metrics().panics, 5);
    assert_eq!(bus.metrics().listeners_removed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_is_removed_after_max_panics_and_the_bus_says_so() {
    let bus = Bus::new(BusOptions::default().max_panics(3));
    let calls = Arc::new(Mutex::new(0u32));
    let broken = bus.listen(listener::named("broken", {
        let calls = calls.clone();
        move |_: &Event| {
            *calls.lock().expect("not poisoned") += 1;
            panic!("broken listener always fails");
        }
    }));
    let (removed_tx, mut removed_rx) = tokio::sync::mpsc::unbounded_channel();
    let _watcher = bus.on::<ListenerRemoved>(move |event, removed| {
        let _ = removed_tx.send((event.seq, removed.clone()));
    });
    let publisher = bus.publisher("conn");
    for _ in 0..10 {
        publisher.publish(Started {}).expect("the bus is open");
    }
    let (seq, removed) = removed_rx.recv().await.expect("removal announced");
    assert_eq!(
        removed,
        ListenerRemoved {
            listener: "broken".into(),
            panics: 3
        }
    );
    assert!(seq > 3, "announced after the third panic, as a bus event");
    for _ in 0..10 {
        publisher.publish(Started {}).expect("the bus is open");
    }
    bus.close().await;

    assert_eq!(*calls.lock().expect("not poisoned"), 3);
    assert!(broken.is_removed());
    assert_eq!(broken.stats().panics, 3);
    let metrics = bus.metrics();
    assert_eq!((metrics.panics, metrics.listeners_removed), (3, 1));
    // Removed listeners are not counted as receivers any more.
    assert_eq!(metrics.published, 21);
}
