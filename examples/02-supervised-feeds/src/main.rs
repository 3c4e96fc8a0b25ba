//! Run with: cargo run -p example-supervised-feeds
//!
//! Lesson 2: the supervisor in application code, no YAML. Two feeds and a
//! connection that needs both: `quotes` (a steady feed), `orders` (a feed
//! whose peer drops every connection after a second) and `trader`, which
//! `depends_on` both, so it starts once both are up and, with
//! `on_dependency_down: stop`, stops whenever one drops and starts again
//! when it is back. A handler counts frames and keeps its count across
//! restarts; a listener prints every event as it happens, in order. It
//! ends by itself once `trader` has started for the third time (about
//! three seconds).

use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, Peer};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts the frames of one feed; the same instance serves every session.
struct CountFrames {
    frames: Arc<AtomicU64>,
}
impl Handler for CountFrames {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        self.frames.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let steady = Behavior::SendForever {
        ty: 1,
        payload_len: 32,
        interval: Some(Duration::from_millis(50)),
    };
    let quotes_peer = Peer::start(Listen::tcp(), steady.clone()).await?;
    let orders_peer = Peer::start(Listen::tcp(), steady.flapping(Duration::from_secs(1))).await?;
    let trader_peer = Peer::echo().await?;

    let quick = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(100))
                .max(Duration::from_secs(1)),
        )
        .build()?;
    let spec = Spec::builder()
        .connection(
            Supervised::new(ConnectionSpec::new("quotes", quotes_peer.endpoint())).restart(quick),
        )
        .connection(
            Supervised::new(ConnectionSpec::new("orders", orders_peer.endpoint())).restart(quick),
        )
        .connection(
            Supervised::new(ConnectionSpec::new("trader", trader_peer.endpoint()))
                .depends_on(["quotes", "orders"])
                .on_dependency_down(OnDependencyDown::Stop)
                .restart(quick),
        )
        .build()?;

    let order_frames = Arc::new(AtomicU64::new(0));
    let supervisor = Supervisor::new(spec).handler(
        "orders",
        CountFrames {
            frames: order_frames.clone(),
        },
    )?;
    // Every event, one at a time and in order; `event.what` says what happened.
    let _log = supervisor
        .bus()
        .listen(|event: &Event| println!("#{:<3} {:<7} {}", event.seq, event.conn, event.what));

    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());
    // Every drop of `orders` stops `trader`, and every return starts it
    // again: once trader's peer has seen three sessions, we have seen it all.
    let waited =
        tokio::time::timeout(Duration::from_secs(20), trader_peer.wait_connections(3)).await;
    control.shutdown();
    running.await?;
    waited.map_err(|_| anyhow::anyhow!("trader did not start three times within 20 s"))?;

    println!(
        "orders: {} frames over {} sessions; trader's peer saw {} connections",
        order_frames.load(Ordering::Relaxed),
        orders_peer.stats().accepted,
        trader_peer.stats().accepted
    );
    Ok(())
}
