//! `linesman-bench bus`: the observer bus's deliveries per second and
//! publish-to-delivery latency, beside two plain tokio baselines measured in
//! the same run — one bounded `mpsc` per listener with the publisher
//! awaiting each send (lossless, like the bus) and `tokio::sync::broadcast`
//! (lossy).
//!
//! Fairness: every contender runs on the same 2-worker multi-thread
//! runtime, with the publisher in a task of its own, trivial listeners that
//! count, and the same pacing: events go out in bursts, and before each
//! burst the publisher waits (on a `Notify`, no spinning) until every
//! listener has taken all but `ahead` of the events sent. Throughput runs at
//! full load (bursts of 256, `ahead` 256: at most 512 events outstanding per
//! listener, half the bus's default queue and the baselines' channel
//! capacity of 1024, so nobody lags when listeners keep up). Latency is
//! reported at light load (bursts of 16, each taken by every listener before
//! the next), where it measures the delivery path, and at full load, where
//! it is mostly the time a burst waits in the queues. The baselines send an
//! `Arc` of a comparable event (seq, timestamp, connection name, payload),
//! shared by all listeners, as the bus does. Each throughput figure is the
//! best of three runs. Latency is sampled the same way on both sides: each
//! event is timed by one listener (`seq` modulo 16) into a recorder of its
//! own, so a delivery does not pay a clock read and a shared lock — at full
//! load, where latency is queue depth times the cost of a delivery, those
//! were most of what the figure measured.

use crate::report::{Better, Measurement};
use linesman_observer::{Bus, Connecting, Event, Lagged};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};
use tokio::runtime::Runtime;
use tokio::sync::{Notify, broadcast, mpsc};

const BENCH: &str = "bus";
/// Events per throughput run: 800 bursts.
const EVENTS: u64 = 800 * BURST;
/// Events per latency run.
const LATENCY_EVENTS: u64 = 51_200;
/// Events published between two waits for the listeners, at full load.
const BURST: u64 = 256;

/// How the publisher paces itself: it publishes `burst` events, then waits
/// until every listener has taken all but `ahead` of the events sent.
#[derive(Debug, Clone, Copy)]
struct Pacing {
    burst: u64,
    ahead: u64,
}

/// Full load: listeners are never more than two bursts behind.
const FULL: Pacing = Pacing {
    burst: BURST,
    ahead: BURST,
};
/// Light load: bursts of 16, each taken by every listener before the next.
const LIGHT: Pacing = Pacing {
    burst: 16,
    ahead: 0,
};
/// The baselines' channel capacity, the bus's default queue.
const CAPACITY: usize = 1024;

/// Runs every case and returns its figures.
pub(crate) fn run() -> Vec<Measurement> {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bus: cannot build a tokio runtime: {error}");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for listeners in [1, 16] {
        let (bus, lagged) = best_of(&runtime, || linesman(listeners, EVENTS, FULL, None));
        let (mpsc, _) = best_of(&runtime, || plain_mpsc(listeners, EVENTS, FULL, None));
        out.push(rate(
            format!("{listeners} listener{} vs mpsc", plural(listeners)),
            bus,
            mpsc,
        ));
        if listeners == 16 {
            let (broadcast, lost) = best_of(&runtime, || plain_broadcast(listeners, EVENTS, FULL));
            out.push(rate("16 listeners vs broadcast".into(), bus, broadcast));
            if lost > 0 {
                eprintln!("bus: broadcast lost {lost} events");
            }
            out.push(Measurement {
                bench: BENCH,
                case: "lagged events (default queue)".into(),
                unit: "events",
                linesman: lagged as f64,
                baseline: None,
                better: Better::Lower,
            });
        }
    }
    for (pacing, label) in [(LIGHT, ""), (FULL, ", full load")] {
        let events = LATENCY_EVENTS;
        let bus_latency = Latencies::new(16, events);
        let mpsc_latency = Latencies::new(16, events);
        runtime.block_on(linesman(16, events, pacing, Some(bus_latency.clone())));
        runtime.block_on(plain_mpsc(16, events, pacing, Some(mpsc_latency.clone())));
        for (name, q) in [("p50", 0.50), ("p99", 0.99)] {
            out.push(Measurement {
                bench: BENCH,
                case: format!("{name} latency 16 listeners{label}"),
                unit: "us",
                linesman: bus_latency.quantile(q),
                baseline: Some(mpsc_latency.quantile(q)),
                better: Better::Lower,
            });
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn rate(case: String, linesman: f64, baseline: f64) -> Measurement {
    Measurement {
        bench: BENCH,
        case,
        unit: "deliveries/s",
        linesman,
        baseline: Some(baseline),
        better: Better::Higher,
    }
}

/// The best deliveries/s of three runs (the machine is shared and noisy),
/// with the largest side figure (lag or loss) seen in any of them.
fn best_of<F, Fut>(runtime: &Runtime, mut run: F) -> (f64, u64)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (f64, u64)>,
{
    (0..3)
        .map(|_| runtime.block_on(run()))
        .fold((0.0, 0), |(best, side), (r, s)| (best.max(r), side.max(s)))
}

/// How far each listener got, and a wake-up for the publisher each time one
/// of them completes a burst.
struct Progress {
    counts: Vec<Padded<AtomicU64>>,
    burst: u64,
    notify: Notify,
}

/// A value alone on its cache line.
#[repr(align(128))]
struct Padded<T>(T);

impl Progress {
    fn new(listeners: usize, pacing: Pacing) -> Arc<Progress> {
        Arc::new(Progress {
            counts: (0..listeners).map(|_| Padded(AtomicU64::new(0))).collect(),
            burst: pacing.burst,
            notify: Notify::new(),
        })
    }

    fn add(&self, listener: usize, n: u64) {
        let before = self.counts[listener].0.fetch_add(n, Ordering::AcqRel);
        if before / self.burst != (before + n) / self.burst {
            self.notify.notify_one();
        }
    }

    async fn wait_all(&self, target: u64) {
        loop {
            if self
                .counts
                .iter()
                .all(|c| c.0.load(Ordering::Acquire) >= target)
            {
                return;
            }
            self.notify.notified().await;
        }
    }
}

/// Publish-to-delivery latencies, in nanoseconds: one recorder per
/// listener, with room for all of its events made up front, so that
/// recording neither contends across listeners nor reallocates a large
/// vector while the others wait (that cost would be counted in the latency
/// it measures).
struct Latencies(Vec<Padded<Mutex<Vec<u64>>>>);

impl Latencies {
    fn new(listeners: usize, events: u64) -> Arc<Latencies> {
        let room = usize::try_from(events).unwrap_or(0);
        Arc::new(Latencies(
            (0..listeners)
                .map(|_| Padded(Mutex::new(Vec::with_capacity(room))))
                .collect(),
        ))
    }

    /// Records the latency of event `seq` if it is `listener`'s share of
    /// the sample: each event is timed by one listener only (`seq` modulo
    /// the number of listeners), so every event and every listener is in
    /// the sample, but each delivery does not pay a clock read.
    fn record(&self, listener: usize, seq: u64, at: SystemTime) {
        if seq % self.0.len() as u64 != listener as u64 {
            return;
        }
        let ns = SystemTime::now()
            .duration_since(at)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        if let Ok(mut mine) = self.0[listener].0.lock() {
            mine.push(ns);
        }
    }

    /// The `q` quantile in microseconds, over every listener's deliveries.
    fn quantile(&self, q: f64) -> f64 {
        let mut all: Vec<u64> = Vec::new();
        for mine in &self.0 {
            if let Ok(mine) = mine.0.lock() {
                all.extend_from_slice(&mine);
            }
        }
        if all.is_empty() {
            return f64::NAN;
        }
        all.sort_unstable();
        let index = ((all.len() - 1) as f64 * q).round() as usize;
        all[index] as f64 / 1_000.0
    }
}

/// The bus: `listeners` counting listeners, all interested in everything.
/// Returns deliveries/s and the bus's lag counter.
async fn linesman(
    listeners: usize,
    events: u64,
    pacing: Pacing,
    latency: Option<Arc<Latencies>>,
) -> (f64, u64) {
    let bus = Bus::default();
    let progress = Progress::new(listeners, pacing);
    let handles: Vec<_> = (0..listeners)
        .map(|i| {
            let progress = progress.clone();
            let latency = latency.clone();
            bus.listen(move |event: &Event| {
                if event.replay {
                    return;
                }
                if let Some(Lagged { missed }) = event.payload::<Lagged>() {
                    // Counted so the run ends; reported as the lag figure.
                    progress.add(i, *missed);
                    return;
                }
                if let Some(latency) = &latency {
                    latency.record(i, event.seq, event.at);
                }
                progress.add(i, 1);
            })
        })
        .collect();
    let publisher = bus.publisher("bench").kind("feed");
    let start = Instant::now();
    let task = tokio::spawn({
        let progress = progress.clone();
        async move {
            let mut sent = 0;
            while sent < events {
                progress.wait_all(sent.saturating_sub(pacing.ahead)).await;
                for _ in 0..pacing.burst {
                    let attempt = u32::try_from(sent).unwrap_or(u32::MAX);
                    if publisher.publish(Connecting { attempt }).is_err() {
                        return;
                    }
                    sent += 1;
                }
            }
            progress.wait_all(events).await;
        }
    });
    let _ = task.await;
    let elapsed = start.elapsed().as_secs_f64();
    let lagged = bus.metrics().lagged;
    drop(handles);
    bus.close().await;
    ((events * listeners as u64) as f64 / elapsed, lagged)
}

/// What the baselines send: a comparable event, shared by every listener.
#[derive(Debug)]
struct PlainEvent {
    seq: u64,
    at: SystemTime,
    #[allow(dead_code)]
    conn: Arc<str>,
    #[allow(dead_code)]
    what: Connecting,
}

fn plain_event(seq: u64, conn: &Arc<str>) -> Arc<PlainEvent> {
    Arc::new(PlainEvent {
        seq,
        at: SystemTime::now(),
        conn: conn.clone(),
        what: Connecting {
            attempt: u32::try_from(seq).unwrap_or(u32::MAX),
        },
    })
}

/// One bounded `mpsc` per listener; the publisher awaits every send.
async fn plain_mpsc(
    listeners: usize,
    events: u64,
    pacing: Pacing,
    latency: Option<Arc<Latencies>>,
) -> (f64, u64) {
    let progress = Progress::new(listeners, pacing);
    let mut senders = Vec::new();
    let mut consumers = Vec::new();
    for i in 0..listeners {
        let (tx, mut rx) = mpsc::channel::<Arc<PlainEvent>>(CAPACITY);
        senders.push(tx);
        let progress = progress.clone();
        let latency = latency.clone();
        consumers.push(tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if let Some(latency) = &latency {
                    latency.record(i, event.seq, event.at);
                }
                progress.add(i, 1);
            }
        }));
    }
    let conn: Arc<str> = Arc::from("bench");
    let start = Instant::now();
    let task = tokio::spawn({
        let progress = progress.clone();
        async move {
            let mut sent = 0;
            while sent < events {
                progress.wait_all(sent.saturating_sub(pacing.ahead)).await;
                for _ in 0..pacing.burst {
                    sent += 1;
                    let event = plain_event(sent, &conn);
                    for tx in &senders {
                        if tx.send(event.clone()).await.is_err() {
                            return;
                        }
                    }
                }
            }
            progress.wait_all(events).await;
        }
    });
    let _ = task.await;
    let elapsed = start.elapsed().as_secs_f64();
    for consumer in consumers {
        let _ = consumer.await;
    }
    ((events * listeners as u64) as f64 / elapsed, 0)
}

/// `tokio::sync::broadcast`: lossy; returns deliveries/s and events lost.
async fn plain_broadcast(listeners: usize, events: u64, pacing: Pacing) -> (f64, u64) {
    let progress = Progress::new(listeners, pacing);
    let (tx, _) = broadcast::channel::<Arc<PlainEvent>>(CAPACITY);
    let lost = Arc::new(AtomicU64::new(0));
    let consumers: Vec<_> = (0..listeners)
        .map(|i| {
            let mut rx = tx.subscribe();
            let progress = progress.clone();
            let lost = lost.clone();
            tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(_event) => progress.add(i, 1),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            lost.fetch_add(n, Ordering::Relaxed);
                            progress.add(i, n);
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            })
        })
        .collect();
    let conn: Arc<str> = Arc::from("bench");
    let start = Instant::now();
    let task = tokio::spawn({
        let progress = progress.clone();
        async move {
            let mut sent = 0;
            while sent < events {
                progress.wait_all(sent.saturating_sub(pacing.ahead)).await;
                for _ in 0..pacing.burst {
                    sent += 1;
                    let _ = tx.send(plain_event(sent, &conn));
                }
            }
            progress.wait_all(events).await;
        }
    });
    let _ = task.await;
    let elapsed = start.elapsed().as_secs_f64();
    for consumer in consumers {
        let _ = consumer.await;
    }
    let lost = lost.load(Ordering::Relaxed);
    let delivered = (events * listeners as u64).saturating_sub(lost);
    (delivered as f64 / elapsed, lost)
}
