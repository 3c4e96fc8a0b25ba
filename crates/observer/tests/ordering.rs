//! Guarantee 1: every listener receives its events in `seq` order, one at a
//! time, never concurrently with itself, while many threads and tasks
//! publish; and the registry is updated before an event is delivered.

use linesman_observer::{Bus, BusOptions, Connecting, Event, Interest, Listener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const THREADS: usize = 4;
const TASKS: usize = 4;
const PER_PUBLISHER: u32 = 1_500;

/// Records every event, and how many calls were ever running at once.
struct Recorder {
    bus: Bus,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    seen: Mutex<Vec<(u64, Arc<str>, u64)>>,
    stale_registry: AtomicUsize,
}

impl Listener for Recorder {
    async fn on_event(&self, event: &Event) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        // The registry must already reflect this event (or something newer).
        let registered = self.bus.state(&event.conn).map_or(0, |s| s.last_seq());
        if registered < event.seq {
            self.stale_registry.fetch_add(1, Ordering::SeqCst);
        }
        self.seen.lock().expect("no panic while held").push((
            event.seq,
            event.conn.clone(),
            event.conn_seq,
        ));
        // Give another worker thread every chance to re-enter us.
        tokio::task::yield_now().await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_listener_sees_every_event_in_seq_order_one_at_a_time() {
    let bus = Bus::new(BusOptions::default().queue_capacity(100_000));
    let recorders: Vec<Arc<Recorder>> = (0..3)
        .map(|_| {
            Arc::new(Recorder {
                bus: bus.clone(),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                seen: Mutex::new(Vec::new()),
                stale_registry: AtomicUsize::new(0),
            })
        })
        .collect();
    let handles: Vec<_> = recorders
        .iter()
        .map(|r| bus.listen_with(Interest::all(), r.clone()))
        .collect();

    let start = Arc::new(std::sync::Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let publisher = bus.publisher(format!("thread-{i}"));
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                for attempt in 1..=PER_PUBLISHER {
                    publisher
                        .publish(Connecting { attempt })
                        .expect("the bus is open");
                }
            })
        })
        .collect();
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let publisher = bus.publisher(format!("task-{i}"));
            tokio::spawn(async move {
                for attempt in 1..=PER_PUBLISHER {
                    publisher
                        .publish(Connecting { attempt })
                        .expect("the bus is open");
                    if attempt % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    start.wait();
    for thread in threads {
        thread.join().expect("publisher thread finished");
    }
    for task in tasks {
        task.await.expect("publisher task finished");
    }
    bus.close().await;

    let total = ((THREADS + TASKS) as u64) * u64::from(PER_PUBLISHER);
    assert_eq!(bus.metrics().published, total);
    assert_eq!(bus.metrics().lagged, 0);
    for recorder in &recorders {
        let seen = recorder.seen.lock().expect("no panic while held");
        let seqs: Vec<u64> = seen.iter().map(|(seq, _, _)| *seq).collect();
        let expected: Vec<u64> = (1..=total).collect();
        assert!(seqs == expected, "events out of seq order or missing");
        // Per connection, conn_seq counts 1, 2, 3, … in delivery order.
        let mut next = std::collections::HashMap::<Arc<str>, u64>::new();
        for (_, conn, conn_seq) in seen.iter() {
            let expected = next.entry(conn.clone()).or_insert(1);
            assert_eq!(*conn_seq, *expected, "conn_seq of {conn}");
            *expected += 1;
        }
        assert_eq!(recorder.max_in_flight.load(Ordering::SeqCst), 1);
        assert_eq!(recorder.stale_registry.load(Ordering::SeqCst), 0);
    }
    drop(handles);
}
