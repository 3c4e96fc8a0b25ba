//! The linesman side of the scale benchmark: one [`Supervisor`] of 10,000
//! connections (or of one size of the curve) under the default restart
//! policy (backoff 100 ms ± 20 %, as a user gets it), watched through a
//! bus listener that records every `Connecting`, `Connected` and
//! `Disconnected` event with its publish time.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use linesman_connection::ConnectionSpec;
use linesman_observer::{BusOptions, Event, EventType, Interest, Listener};
use linesman_stream::Endpoint;
use linesman_supervisor::{BackoffPolicy, RestartPolicy, Spec, Supervised, Supervisor};
use tokio::sync::watch;

use super::spread::max_over_mean;
use super::{Common, PeerChild, process_cpu, rss_bytes};

/// Calls of `snapshot()` timed; the median counts.
const SNAPSHOTS: usize = 11;
/// Set in the environment of linesman's side: it exits at once after the
/// resident-memory reading, without freeing anything, so that a heap
/// profiler's report of what was never freed is what every connection
/// holds while up (`heaptrack`; see docs/benchmarks.md, "what a connection
/// costs").
pub(super) const EXIT_AT_RSS_ENV: &str = "LINESMAN_BENCH_EXIT_AT_RSS";
/// Set in the environment of linesman's side: after the mass reconnect it
/// prints, per 10 ms slice from the first `Disconnected`, how many
/// `Disconnected`, `Connecting` and `Connected` events were published (the
/// shape of the drop and of the reconnects that follow it).
const TIMELINE_ENV: &str = "LINESMAN_BENCH_SCALE_TIMELINE";
/// Width of one slice of the reconnect window.
const SLICE: Duration = Duration::from_millis(10);
/// The default backoff's first delay and jitter: the first reconnect after
/// a drop waits 100 ms ± 20 % (checked against `BackoffPolicy::default()`
/// when the benchmark runs).
const INITIAL: Duration = Duration::from_millis(100);
const JITTER: f64 = 0.2;
/// Longest wait for all connections to come up (initially or again).
const PATIENCE: Duration = Duration::from_secs(60);

/// linesman's figures.
#[derive(Debug)]
pub(super) struct Figures {
    pub(super) common: Common,
    pub(super) snapshot_ms: f64,
    /// The mass reconnect, when it was run.
    pub(super) reconnect: Option<Reconnect>,
}

/// The mass reconnect's figures.
#[derive(Debug)]
pub(super) struct Reconnect {
    pub(super) all_up_ms: f64,
    pub(super) spread_max_over_mean: f64,
}

/// Records the events the figures are computed from.
struct Recorder {
    events: Mutex<Vec<(EventType, SystemTime)>>,
    connected: watch::Sender<usize>,
    lagged: watch::Sender<bool>,
    /// Connections: the waiter is woken once per this many connects.
    every: usize,
}

impl Listener for Recorder {
    async fn on_event(&self, event: &Event) {
        let ty = event.event_type();
        if ty == EventType::Lagged {
            self.lagged.send_replace(true);
        }
        if event.replay {
            return;
        }
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((ty, event.at));
        if ty == EventType::Connected {
            // The waiter is woken once per `every` connects, as the
            // baseline's is once at the end: a wake-up of the measuring
            // thread per connect would be the benchmark's cost, not
            // linesman's.
            self.connected.send_if_modified(|n| {
                *n += 1;
                *n % self.every == 0
            });
        }
    }

    fn name(&self) -> &str {
        "scale-recorder"
    }

    fn interest(&self) -> Interest {
        Interest::all().event_types([
            EventType::Connecting,
            EventType::Connected,
            EventType::Disconnected,
        ])
    }
}

/// Runs a supervisor of `count` connections spread round-robin over
/// `endpoints`; with a `reconnect` peer (whose endpoint is the only one),
/// that peer then drops every connection and the mass reconnect is timed.
pub(super) fn run(
    count: usize,
    endpoints: &[Endpoint],
    reconnect_peer: Option<&mut PeerChild>,
) -> anyhow::Result<Figures> {
    anyhow::ensure!(!endpoints.is_empty(), "no peer endpoint");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // The benchmark's own record of events is made, and its pages touched,
    // before the baseline reading: it is not linesman's memory.
    let recorder = Arc::new(Recorder {
        events: Mutex::new(touched(4 * count)),
        connected: watch::Sender::new(0),
        lagged: watch::Sender::new(false),
        every: count,
    });
    let before = rss_bytes()?;
    anyhow::ensure!(
        BackoffPolicy::default().nominal_delay(1) == INITIAL,
        "the default backoff's first delay is no longer {INITIAL:?}: update INITIAL and JITTER"
    );
    let policy = RestartPolicy::default();
    let mut builder = Spec::builder();
    for i in 0..count {
        let endpoint = endpoints[i % endpoints.len()].clone();
        let connection = ConnectionSpec::new(format!("c{i:05}"), endpoint);
        builder = builder.connection(Supervised::new(connection).restart(policy));
    }
    let spec = builder.build().context("the scale spec is invalid")?;
    // Room for every event of a mass reconnect, so no listener lags.
    let options = BusOptions::default().queue_capacity(8 * count);
    let supervisor = Supervisor::with_bus_options(spec, options).listen(Arc::clone(&recorder));
    let control = supervisor.control();
    let mut connected = recorder.connected.subscribe();

    let start = Instant::now();
    let running = runtime.spawn(supervisor.run());
    runtime.block_on(all_connected(&mut connected, count))?;
    let all_up = start.elapsed();
    let after = rss_bytes()?;
    if std::env::var_os(EXIT_AT_RSS_ENV).is_some() {
        // Everything live now is reported as leaked by a heap profiler:
        // what each part of a connection costs (docs/benchmarks.md).
        eprintln!(
            "scale: {EXIT_AT_RSS_ENV} set, exiting with every connection up ({} bytes per connection)",
            after.saturating_sub(before) / count as u64
        );
        std::process::exit(0);
    }

    let mut snapshot_times = Vec::with_capacity(SNAPSHOTS);
    for _ in 0..SNAPSHOTS {
        let started = Instant::now();
        let snapshot = control.snapshot();
        snapshot_times.push(started.elapsed());
        anyhow::ensure!(
            snapshot.len() == count,
            "the snapshot has {} records",
            snapshot.len()
        );
        drop(snapshot);
    }
    snapshot_times.sort();

    let reconnect = reconnect_peer.is_some();
    if let Some(peer) = reconnect_peer {
        let cpu_before = process_cpu()?;
        peer.drop_all()?;
        runtime.block_on(all_connected(&mut connected, 2 * count))?;
        // On this side's clock, whatever the machine's load: what the drop
        // and the reconnects cost (with loopback, the kernel's work for the
        // peer's end of each close and connect is partly done here too).
        let cpu = process_cpu()?.saturating_sub(cpu_before);
        eprintln!(
            "scale: the drop and the reconnects took {:.1} ms of CPU in linesman's process ({:.1} us per connection)",
            cpu.as_secs_f64() * 1000.0,
            cpu.as_secs_f64() * 1e6 / count as f64
        );
    }
    anyhow::ensure!(
        !*recorder.lagged.borrow(),
        "the recorder lagged; its counts are incomplete"
    );
    let events = std::mem::take(
        &mut *recorder
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );

    control.shutdown_now();
    let _ =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), running).await });
    runtime.shutdown_timeout(Duration::from_secs(1));

    let reconnect = if reconnect {
        let (all_up, spread) = reconnect_figures(&events)?;
        Some(Reconnect {
            all_up_ms: all_up.as_secs_f64() * 1000.0,
            spread_max_over_mean: spread,
        })
    } else {
        None
    };
    Ok(Figures {
        common: Common {
            all_up_ms: all_up.as_secs_f64() * 1000.0,
            rss_per_conn: after.saturating_sub(before) as f64 / count as f64,
        },
        snapshot_ms: snapshot_times[SNAPSHOTS / 2].as_secs_f64() * 1000.0,
        reconnect,
    })
}

/// An empty record with room for `capacity` events, every page of it
/// already written (so resident).
fn touched(capacity: usize) -> Vec<(EventType, SystemTime)> {
    let mut events = Vec::with_capacity(capacity);
    events.resize(capacity, (EventType::Connecting, SystemTime::UNIX_EPOCH));
    events.clear();
    events
}

/// Waits until `count` `Connected` events were recorded.
async fn all_connected(connected: &mut watch::Receiver<usize>, count: usize) -> anyhow::Result<()> {
    tokio::time::timeout(PATIENCE, connected.wait_for(|n| *n >= count))
        .await
        .with_context(|| format!("fewer than {count} connections came up within {PATIENCE:?}"))?
        .context("the recorder went away")?;
    Ok(())
}

/// From the recorded events after the drop (which begins at the first
/// `Disconnected`): the time until the last connection was up again, and
/// the max/mean of `Connecting` events per 10 ms slice over the jitter
/// window, `[drop + 80 ms, last disconnect + 120 ms)`.
fn reconnect_figures(events: &[(EventType, SystemTime)]) -> anyhow::Result<(Duration, f64)> {
    let of = |ty: EventType| {
        events
            .iter()
            .filter(move |(t, _)| *t == ty)
            .map(|(_, at)| *at)
    };
    let first_drop = of(EventType::Disconnected)
        .min()
        .context("no connection was dropped")?;
    let last_drop = of(EventType::Disconnected).max().unwrap_or(first_drop);
    let since = |at: SystemTime| at.duration_since(first_drop).unwrap_or_default();
    let last_up = of(EventType::Connected)
        .max()
        .context("no connection came up")?;
    let attempts: Vec<Duration> = of(EventType::Connecting)
        .filter(|at| *at >= first_drop)
        .map(since)
        .collect();
    let low = INITIAL.mul_f64(1.0 - JITTER);
    let high = since(last_drop) + INITIAL.mul_f64(1.0 + JITTER);
    eprintln!(
        "scale: the peer's drop took {:?} (first to last Disconnected); {} reconnect attempts",
        since(last_drop),
        attempts.len()
    );
    if std::env::var_os(TIMELINE_ENV).is_some() {
        print_timeline(events, first_drop);
    }
    let spread = max_over_mean(&attempts, low, high, SLICE)
        .context("no reconnect attempt in the jitter window")?;
    Ok((since(last_up), spread))
}

/// Prints, per [`SLICE`] from `first_drop` on, the `Disconnected`,
/// `Connecting` and `Connected` events published in it.
fn print_timeline(events: &[(EventType, SystemTime)], first_drop: SystemTime) {
    let mut slices: Vec<[u32; 3]> = Vec::new();
    for (ty, at) in events {
        let Ok(since) = at.duration_since(first_drop) else {
            continue;
        };
        let column = match ty {
            EventType::Disconnected => 0,
            EventType::Connecting => 1,
            EventType::Connected => 2,
            _ => continue,
        };
        let slice = (since.as_nanos() / SLICE.as_nanos()) as usize;
        if slices.len() <= slice {
            slices.resize(slice + 1, [0; 3]);
        }
        slices[slice][column] += 1;
    }
    eprintln!(
        "scale: timeline from the first Disconnected (ms, Disconnected, Connecting, Connected)"
    );
    for (i, [down, connecting, up]) in slices.iter().enumerate() {
        eprintln!(
            "{:>6} {down:>6} {connecting:>6} {up:>6}",
            i as u128 * SLICE.as_millis()
        );
    }
}
