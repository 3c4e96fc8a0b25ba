//! Guarantee 2: a stuck listener never blocks publishing nor delays other
//! listeners; when its queue overflows it gets `Lagged { missed }` with the
//! exact count, then a fresh snapshot, then the live events — nothing is
//! dropped silently, and lag is counted.

use linesman_observer::{Bus, BusOptions, Connected, Connecting, Event, Lagged, What, listener};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, watch};

const CAPACITY: usize = 64;
const BURST: u64 = 16;
const TOTAL: u64 = 1_024;
const CONNS: [&str; 3] = ["a", "b", "c"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_listener_lags_then_resyncs_without_slowing_the_others() {
    let bus = Bus::new(BusOptions::default().queue_capacity(CAPACITY));

    // Stuck on its first event until `gate` is notified; forwards everything.
    let gate = Arc::new(Notify::new());
    let (stuck_tx, mut stuck_rx) = mpsc::unbounded_channel::<Event>();
    let stuck = bus.listen(listener::from_async_fn({
        let gate = gate.clone();
        move |event: Event| {
            let gate = gate.clone();
            let tx = stuck_tx.clone();
            async move {
                if event.seq == 1 {
                    gate.notified().await;
                }
                let _ = tx.send(event);
            }
        }
    }));

    // Keeps up; tells the test how far it got.
    let (fast_tx, mut fast_rx) = watch::channel(0u64);
    let fast_seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let fast = bus.listen({
        let fast_seen = fast_seen.clone();
        move |event: &Event| {
            fast_seen.lock().expect("not poisoned").push(event.seq);
            fast_tx.send_replace(event.seq);
        }
    });

    let publishers: Vec<_> = CONNS.iter().map(|name| bus.publisher(*name)).collect();
    // Publish in bursts the fast listener can absorb; every publish returns
    // although the stuck listener's queue is full after the first 64.
    let mut seq = 0;
    while seq < TOTAL {
        for _ in 0..BURST {
            let publisher = &publishers[(seq % 3) as usize];
            seq = publisher
                .publish(Connecting {
                    attempt: u32::try_from(seq).expect("small"),
                })
                .expect("the bus is open");
        }
        fast_rx
            .wait_for(|seen| *seen >= seq)
            .await
            .expect("fast listener alive");
    }
    assert_eq!(seq, TOTAL);
    let missed = TOTAL - CAPACITY as u64;
    assert_eq!(bus.metrics().lagged, missed);
    assert_eq!(stuck.stats().missed, missed);
    assert_eq!(fast.stats().missed, 0);

    // Unstick: first the events queued before the overflow, in order…
    gate.notify_one();
    for expected in 1..=CAPACITY as u64 {
        let event = stuck_rx.recv().await.expect("stuck listener alive");
        assert_eq!(event.seq, expected);
        assert!(!event.replay);
    }
    // …then the marker with the exact count, as of the last seq…
    let marker = stuck_rx.recv().await.expect("lag marker");
    assert_eq!(marker.what, What::Lagged(Lagged { missed }));
    assert_eq!(marker.seq, TOTAL);
    // …then the current state of every connection, as in the registry…
    let mut replayed = Vec::new();
    for _ in CONNS {
        let event = stuck_rx.recv().await.expect("replay event");
        assert!(event.replay);
        let state = bus.state(&event.conn).expect("registered");
        assert_eq!(event.seq, state.last_seq());
        assert_eq!(event.what, state.last_event.what);
        replayed.push(event.conn.to_string());
    }
    replayed.sort();
    assert_eq!(replayed, CONNS);
    // …then live events again, with nothing missed.
    let after = publishers[0]
        .publish(Connected {
            peer: "127.0.0.1:1".into(),
        })
        .expect("the bus is open");
    let event = stuck_rx.recv().await.expect("live event after the lag");
    assert_eq!((event.seq, event.replay), (after, false));

    fast_rx
        .wait_for(|seen| *seen >= after)
        .await
        .expect("fast listener alive");
    let fast_seen = fast_seen.lock().expect("not poisoned").clone();
    assert_eq!(fast_seen, (1..=after).collect::<Vec<_>>());
    assert_eq!(bus.metrics().lagged, missed);
    assert_eq!(stuck.stats().missed, missed);
}
