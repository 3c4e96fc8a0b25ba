//! Faults in a peer's availability: one that refuses (the backoff grows and
//! the jitter spreads connections apart), one that flaps (the restart
//! intensity gives up, `linesman start` revives it), and a mass drop of 500
//! connections (all come back, spread by the jitter).
//!
//! These read the bus's `Backoff` events, so they run the library; the
//! flapping peer runs the daemon, as an operator meets it.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use linesman::observer::{Backoff, Subscription};
use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, Peer};

use super::{Beside, HEALTHY, assert_healthy_in, faulty, feed, field, stop};
use crate::cli_harness::{PATIENCE, refused_port, state};

/// The next `Backoff` of any connection, bounded.
async fn next_backoff(events: &mut Subscription) -> (String, Backoff) {
    loop {
        let event = tokio::time::timeout(PATIENCE, events.next())
            .await
            .expect("a backoff comes")
            .expect("the bus is open");
        if let Some(backoff) = event.payload::<Backoff>() {
            return (event.conn.to_string(), backoff.clone());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_peer_backs_off_longer_each_time_and_the_jitter_spreads_connections() {
    const REFUSED: usize = 20;
    const ATTEMPTS: u32 = 5;
    let feed = feed().await;
    let mut builder = Spec::builder().connection(ConnectionSpec::new(HEALTHY, feed.endpoint()));
    for i in 0..REFUSED {
        let endpoint = format!("tcp://127.0.0.1:{}", refused_port())
            .parse()
            .expect("an endpoint");
        builder = builder.connection(ConnectionSpec::new(format!("refused{i}"), endpoint));
    }
    let supervisor = Supervisor::new(builder.build().expect("a valid spec"));
    let mut events = supervisor.bus().subscribe(Interest::all());
    let control = supervisor.control();
    let healthy = supervisor.handle(HEALTHY).expect("the healthy feed exists");
    let running = tokio::spawn(supervisor.run());

    // Every refused connection's delays before attempts 2..=ATTEMPTS.
    let mut delays: HashMap<String, Vec<(u32, Duration)>> = HashMap::new();
    while delays
        .values()
        .filter(|d| d.len() >= (ATTEMPTS - 1) as usize)
        .count()
        < REFUSED
    {
        let (conn, backoff) = next_backoff(&mut events).await;
        assert_ne!(conn, HEALTHY, "the healthy feed never backs off");
        delays
            .entry(conn)
            .or_default()
            .push((backoff.attempt, backoff.delay));
    }
    let policy = BackoffPolicy::default();
    for (conn, list) in &delays {
        for window in list.windows(2) {
            assert!(window[1].1 > window[0].1, "{conn}: delays grow: {list:?}");
        }
        for &(attempt, delay) in list {
            let nominal = policy.nominal_delay(attempt - 1);
            let low = nominal.mul_f64(1.0 - policy.jitter);
            let high = nominal.mul_f64(1.0 + policy.jitter).min(policy.max);
            assert!(
                (low..=high).contains(&delay),
                "{conn}: attempt {attempt} waited {delay:?}, outside {low:?}..={high:?}"
            );
        }
    }
    let first: HashSet<Duration> = delays
        .values()
        .filter_map(|list| list.iter().find(|(a, _)| *a == 2).map(|(_, d)| *d))
        .collect();
    println!(
        "refused: {REFUSED} connections drew {} distinct first delays",
        first.len()
    );
    assert!(
        first.len() >= REFUSED * 3 / 4,
        "the jitter spreads connections that fail together: {first:?}"
    );
    assert_healthy_in(&control, &healthy).await;
    stop(&control, running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mass_drop_of_500_connections_comes_back_spread_by_the_jitter() {
    const DROPPED: usize = 500;
    let feed = feed().await;
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("the peer starts");
    let mut builder = Spec::builder().connection(ConnectionSpec::new(HEALTHY, feed.endpoint()));
    for i in 0..DROPPED {
        builder = builder.connection(ConnectionSpec::new(format!("c{i}"), peer.endpoint()));
    }
    let supervisor = Supervisor::new(builder.build().expect("a valid spec"));
    let control = supervisor.control();
    let healthy = supervisor.handle(HEALTHY).expect("the healthy feed exists");
    let bus = supervisor.bus().clone();
    let running = tokio::spawn(supervisor.run());
    tokio::time::timeout(PATIENCE, peer.wait_open(DROPPED as u64))
        .await
        .expect("all connect");

    let mut events = bus.subscribe(Interest::all().event::<Backoff>());
    // The registry's replay first: none of them is in backoff now.
    let dropped_at = tokio::time::Instant::now();
    peer.drop_all().await;
    let mut delays = HashMap::new();
    while delays.len() < DROPPED {
        let (conn, backoff) = next_backoff(&mut events).await;
        delays.entry(conn).or_insert(backoff.delay);
    }
    tokio::time::timeout(PATIENCE, peer.wait_open(DROPPED as u64))
        .await
        .expect("all come back");
    let recovered = dropped_at.elapsed();
    let distinct: HashSet<&Duration> = delays.values().collect();
    let (min, max) = (
        delays.values().min().copied().unwrap_or_default(),
        delays.values().max().copied().unwrap_or_default(),
    );
    println!(
        "mass drop: {DROPPED} reconnects drew {} distinct delays from {min:?} to {max:?}; all back {recovered:?} after the drop",
        distinct.len()
    );
    assert!(
        distinct.len() >= DROPPED * 9 / 10,
        "connections dropped together do not come back together"
    );
    assert_healthy_in(&control, &healthy).await;
    stop(&control, running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flapping_peer_trips_the_intensity_and_start_revives_it() {
    let flapping = Peer::start(Listen::tcp(), Behavior::flap(Duration::from_millis(20)))
        .await
        .expect("the flapping peer starts");
    let bench = Beside::start(
        "fault-flap",
        &faulty(
            "faulty",
            &flapping.endpoint(),
            "    restart: { backoff: { initial: 10ms, max: 50ms }, intensity: { max_restarts: 3, window: 1m } }\n",
        ),
    )
    .await;
    bench
        .daemon
        .wait_status("the flapping connection failed", |s| {
            state(s, "faulty") == "failed"
        })
        .await;
    bench.assert_healthy().await;
    let start = bench.daemon.cli(&["start", "faulty"]).await;
    assert_eq!(start.code, 0, "{}", start.stderr);
    bench
        .daemon
        .wait_status("the flapping connection back", |s| {
            state(s, "faulty") != "failed" && field(s, "faulty", "restarts") < 3
        })
        .await;
    let accepted = flapping.stats().accepted;
    tokio::time::timeout(PATIENCE, flapping.wait_connections(accepted + 1))
        .await
        .expect("it connects again");
    bench.assert_healthy().await;
}
