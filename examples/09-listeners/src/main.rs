//! Run with: cargo run -p example-listeners
//!
//! Lesson 9: listeners, and what the bus promises them.
//!
//! - A listener says what it wants with an `Interest` (connection names,
//!   kinds, tags, event types) and gets only that. `bus.on::<Connected>`
//!   is the typed shortcut: the closure gets the `Connected` payload itself;
//!   `bus.on_with::<Connected>(interest, …)` narrows it further (here: to
//!   one connection).
//! - Each listener runs on a task of its own and gets its events one at a
//!   time, in order, from a bounded queue. A slow listener never slows the
//!   connections or the other listeners: when its queue is full, the events
//!   it cannot take are counted, and once it has caught up it gets one
//!   `Lagged { missed }` marker followed by the current state of every
//!   connection it watches (replay events), so its view is right again.
//!
//! Five feeds whose peer drops them every 100 ms keep events coming (about
//! 200 a second) while a gateway stays up. The queues hold 64 events here
//! (the default is 1024) so that the slow listener, which takes 20 ms per
//! event, falls behind within a second while the others keep up.

use linesman::observer::{BusOptions, What};
use linesman::prelude::*;
use linesman::supervisor::Intensity;
use linesman_testkit::{Behavior, Listen, Peer};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How many feeds.
const FEEDS: usize = 5;
/// The example ends after this many sessions came up, in all.
const SESSIONS: u64 = 60;

/// Takes 20 ms per event (say, it writes each one to a slow disk).
#[derive(Default)]
struct SlowAudit {
    lagged: AtomicU64,
    replayed: AtomicU64,
}

impl Listener for SlowAudit {
    async fn on_event(&self, event: &Event) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if event.replay {
            self.replayed.fetch_add(1, Ordering::Relaxed);
        } else if let What::Lagged(lagged) = &event.what {
            self.lagged.fetch_add(1, Ordering::Relaxed);
            println!(
                "slow audit: lagged, missed {} events; the current state of every connection follows",
                lagged.missed
            );
        }
    }

    fn name(&self) -> &str {
        "slow audit"
    }
}

/// Watches the order gateway only, by its kind.
struct GatewayWatch;

impl Listener for GatewayWatch {
    async fn on_event(&self, event: &Event) {
        println!("gateway watch: {} {}", event.conn, event.what);
    }

    fn interest(&self) -> Interest {
        Interest::all().kind("order")
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flapping = Peer::start(Listen::tcp(), Behavior::flap(Duration::from_millis(100))).await?;
    let steady = Peer::echo().await?;
    let quick = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(10))
                .max(Duration::from_millis(20)),
        )
        .intensity(Intensity::default().max_restarts(10_000))
        .build()?;
    let mut spec = Spec::builder().connection(
        Supervised::new(ConnectionSpec::new("gateway", steady.endpoint()).kind("order"))
            .restart(quick),
    );
    for n in 1..=FEEDS {
        let feed = ConnectionSpec::new(format!("feed-{n}"), flapping.endpoint()).kind("feed");
        spec = spec.connection(Supervised::new(feed).restart(quick));
    }
    let supervisor =
        Supervisor::with_bus_options(spec.build()?, BusOptions::default().queue_capacity(64));
    let bus = supervisor.bus().clone();

    // Typed, by event type: counts the sessions that came up (a replay
    // repeats a connection's latest event after a lag: not a new session).
    let (ups, mut sessions) = watch::channel(0u64);
    let connected = bus.on::<Connected>(move |event, _up| {
        if !event.replay {
            ups.send_modify(|n| *n += 1);
        }
    });
    // Typed and narrowed by an interest: `Connected` of feed-1 only.
    let feed1_ups = Arc::new(AtomicU64::new(0));
    let feed1 = bus.on_with::<Connected>(Interest::all().conn("feed-1"), {
        let feed1_ups = feed1_ups.clone();
        move |event, _up| {
            if !event.replay {
                feed1_ups.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // By kind: only the gateway's events.
    let gateway = bus.listen(GatewayWatch);
    // Everything, quickly: counts.
    let seen = Arc::new(AtomicU64::new(0));
    let fast = bus.listen({
        let seen = seen.clone();
        move |_: &Event| {
            seen.fetch_add(1, Ordering::Relaxed);
        }
    });
    // Everything, slowly.
    let audit = Arc::new(SlowAudit::default());
    let slow = bus.listen(audit.clone());

    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());
    // (`wait_for` returns a borrow of the value, which blocks the sender
    // while it lives: keep only whether the count came.)
    let enough = tokio::time::timeout(Duration::from_secs(20), async {
        sessions.wait_for(|n| *n >= SESSIONS).await.is_ok()
    })
    .await;
    control.shutdown();
    // `run` returns once every listener has had every event, or after the
    // listener drain (1 s by default) with the ones cut off in its report.
    let report = running.await?;
    for cut in &report.cut_off {
        println!(
            "{} was cut off at shutdown with {} events not delivered",
            cut.listener, cut.undelivered
        );
    }
    if !enough.unwrap_or(false) {
        anyhow::bail!("{SESSIONS} sessions did not come up within 20 s");
    }

    let published = bus.metrics().published;
    println!("{published} events published for {} connections", FEEDS + 1);
    for (name, handle) in [
        ("typed Connected", &connected),
        ("feed-1 Connected", &feed1),
        ("gateway watch", &gateway),
        ("fast counter", &fast),
        ("slow audit", &slow),
    ] {
        let stats = handle.stats();
        println!(
            "{name:<16} delivered {:>4}, missed {:>4}",
            stats.delivered, stats.missed
        );
    }
    println!(
        "feed-1 came up {} times (a typed listener narrowed to one connection)",
        feed1_ups.load(Ordering::Relaxed)
    );
    println!(
        "fast counter saw {} of {published} events; slow audit lagged {} times and got {} replayed states",
        seen.load(Ordering::Relaxed),
        audit.lagged.load(Ordering::Relaxed),
        audit.replayed.load(Ordering::Relaxed)
    );
    Ok(())
}
