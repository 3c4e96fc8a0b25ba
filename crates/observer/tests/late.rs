//! Guarantee 3: a listener registered late first receives the current state
//! of every connection it is interested in, atomically with the live events
//! that follow — no gap, no duplicate — while a publisher keeps publishing.

use linesman_observer::{Bus, BusOptions, Connecting, Event, Interest, Started};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_stream::StreamExt;

const CONNS: usize = 5;
const TOTAL: u32 = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_subscriber_gets_the_state_then_every_later_event() {
    let bus = Bus::new(BusOptions::default().queue_capacity(100_000));
    let (warm_tx, warm_rx) = std::sync::mpsc::channel();
    // The publisher does not finish before the subscriber is registered.
    let (registered_tx, registered_rx) = std::sync::mpsc::channel::<()>();
    let publisher = std::thread::spawn({
        let publishers: Vec<_> = (0..CONNS).map(|i| bus.publisher(format!("c{i}"))).collect();
        move || {
            for n in 0..TOTAL {
                let publisher = &publishers[n as usize % CONNS];
                publisher
                    .publish(Connecting { attempt: n })
                    .expect("the bus is open");
                if n == 1_000 {
                    warm_tx.send(()).expect("test alive");
                }
                if n == TOTAL / 2 {
                    registered_rx.recv().expect("test alive");
                }
            }
        }
    });
    // Register while the publisher is running.
    warm_rx.recv().expect("publisher warmed up");
    let mut late = bus.subscribe(Interest::all());
    let only_c1 = bus.subscribe(Interest::all().conn("c1"));
    registered_tx.send(()).expect("publisher alive");
    publisher.join().expect("publisher finished");
    bus.close().await;

    let mut events = Vec::new();
    while let Some(event) = late.next().await {
        events.push(event);
    }
    let replay: Vec<&Event> = events.iter().take_while(|e| e.replay).collect();
    let live = &events[replay.len()..];
    assert_eq!(replay.len(), CONNS, "one replay event per connection");
    assert!(live.iter().all(|e| !e.replay), "replay comes first, only");
    assert!(!live.is_empty() && live.len() < TOTAL as usize);

    // Replay in seq order; the snapshot is as of the last replayed seq and
    // the live events are exactly every event after it.
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq strictly increasing"
    );
    let as_of = replay.last().expect("replay").seq;
    let live_seqs: Vec<u64> = live.iter().map(|e| e.seq).collect();
    assert_eq!(
        live_seqs,
        (as_of + 1..=u64::from(TOTAL)).collect::<Vec<_>>()
    );

    // Per connection: the live events continue the replayed one exactly.
    let mut next: HashMap<Arc<str>, u64> = replay
        .iter()
        .map(|e| (e.conn.clone(), e.conn_seq + 1))
        .collect();
    for event in live {
        let expected = next.get_mut(&event.conn).expect("replayed connection");
        assert_eq!(
            event.conn_seq, *expected,
            "gap or duplicate in {}",
            event.conn
        );
        *expected += 1;
    }

    // A filtered late subscriber gets only its connection's state and events.
    let c1: Vec<Event> = only_c1.collect().await;
    assert!(c1[0].replay && c1[1..].iter().all(|e| !e.replay));
    assert!(c1.iter().all(|e| &*e.conn == "c1"));
    let conn_seqs: Vec<u64> = c1.iter().map(|e| e.conn_seq).collect();
    let first = conn_seqs[0];
    assert_eq!(
        conn_seqs,
        (first..first + conn_seqs.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(bus.metrics().lagged, 0);
}

#[tokio::test]
async fn a_late_listener_learns_the_current_state_first() {
    let bus = Bus::default();
    bus.publisher("up")
        .publish(Started {})
        .expect("the bus is open");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _handle = bus.listen(move |event: &Event| {
        let _ = tx.send(event.clone());
    });
    let live = bus
        .publisher("other")
        .publish(Started {})
        .expect("the bus is open");
    let first = rx.recv().await.expect("replay");
    assert!(first.replay);
    assert_eq!((&*first.conn, first.seq), ("up", 1));
    let second = rx.recv().await.expect("live");
    assert_eq!((second.seq, second.replay), (live, false));
}

/// A replay restates the registry's own events: each subscriber holds a
/// reference to them, not a copy, so a subscriber that never reads costs a
/// pointer per connection however large the events are (a daemon of 5,000
/// connections used to copy all 5,000 for every `/v1/events` watcher).
#[tokio::test]
async fn a_replay_shares_the_registrys_events_instead_of_copying_them() {
    let bus = Bus::default();
    let publishers: Vec<_> = (0..CONNS).map(|i| bus.publisher(format!("c{i}"))).collect();
    for publisher in &publishers {
        publisher.publish(Started {}).expect("the bus is open");
    }
    let held = |bus: &Bus| -> Vec<usize> {
        bus.snapshot()
            .into_iter()
            // Minus the snapshot's own clone and the registry's reference.
            .map(|status| Arc::strong_count(&status.last_event) - 2)
            .collect()
    };
    assert_eq!(held(&bus), vec![0; CONNS]);
    let watchers: Vec<_> = (0..3).map(|_| bus.subscribe(Interest::all())).collect();
    assert_eq!(
        held(&bus),
        vec![3; CONNS],
        "each unread replay holds the registry's event itself"
    );

    // What a subscriber reads is still flagged as a replay, and the next
    // live event is not.
    let mut first = watchers.into_iter().next().expect("a watcher");
    for _ in 0..CONNS {
        let event = first.next().await.expect("a replay event");
        assert!(event.replay, "{event:?}");
    }
    publishers[0]
        .publish(Connecting { attempt: 1 })
        .expect("the bus is open");
    let live = first.next().await.expect("a live event");
    assert!(!live.replay);
    assert!(
        !bus.state("c0").expect("c0").last_event.replay,
        "the registry's own event is never flagged"
    );
}
