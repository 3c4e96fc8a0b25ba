//! The linesman side of `reconnect all up 1k`: one [`Supervisor`] of 1,000
//! connections with the default restart policy to the testkit echo peer in
//! a child process; the peer is killed and a new one started on its port;
//! the time from the new peer listening until every connection has
//! published `Connected` again.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use linesman_connection::ConnectionSpec;
use linesman_observer::{BusOptions, Event, EventType, Interest, Listener};
use linesman_supervisor::{Spec, Supervised, Supervisor};
use tokio::sync::watch;

use crate::scale::PeerChild;

/// Longest wait for every connection to be up (initially or again).
const PATIENCE: Duration = Duration::from_secs(60);

/// Counts `Connected` events and keeps the time the latest was seen.
struct Count {
    state: watch::Sender<(usize, SystemTime)>,
    lagged: watch::Sender<bool>,
    every: usize,
}

impl Listener for Count {
    async fn on_event(&self, event: &Event) {
        match event.event_type() {
            EventType::Lagged => {
                self.lagged.send_replace(true);
            }
            EventType::Connected if !event.replay => {
                // The waiter is woken once per `every` connects.
                self.state.send_if_modified(|(n, last)| {
                    *n += 1;
                    // When the application learns of it, as the zmq side's
                    // monitor reader does (not `event.at`, the publish time).
                    *last = (*last).max(SystemTime::now());
                    *n % self.every == 0
                });
            }
            _ => {}
        }
    }

    fn name(&self) -> &str {
        "zmq-reconnect-count"
    }

    fn interest(&self) -> Interest {
        Interest::all().event_types([EventType::Connected])
    }
}

/// Runs `count` supervised connections through a peer restart.
pub(super) fn run(count: usize) -> anyhow::Result<Duration> {
    let peer = PeerChild::echo_on(0)?;
    let port = peer.port()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut builder = Spec::builder();
    for i in 0..count {
        let connection = ConnectionSpec::new(format!("c{i:04}"), peer.endpoint.clone());
        builder = builder.connection(Supervised::new(connection));
    }
    let spec = builder.build().context("the reconnect spec is invalid")?;
    let counter = Arc::new(Count {
        state: watch::Sender::new((0, SystemTime::UNIX_EPOCH)),
        lagged: watch::Sender::new(false),
        every: count,
    });
    let options = BusOptions::default().queue_capacity(8 * count);
    let supervisor = Supervisor::with_bus_options(spec, options).listen(Arc::clone(&counter));
    let control = supervisor.control();
    let mut state = counter.state.subscribe();
    let running = runtime.spawn(supervisor.run());
    runtime.block_on(all_connected(&mut state, count))?;

    let mut next = PeerChild::echo_deferred(port)?;
    let killed = SystemTime::now();
    drop(peer);
    next.listen()?;
    let peer = next;
    let back = SystemTime::now();
    eprintln!(
        "zmq: linesman's peer restarted in {:?} (kill to listening)",
        back.duration_since(killed).unwrap_or_default()
    );
    runtime.block_on(all_connected(&mut state, 2 * count))?;
    let last = state.borrow().1;
    anyhow::ensure!(
        !*counter.lagged.borrow(),
        "the counting listener lagged; its count is incomplete"
    );
    control.shutdown_now();
    let _ =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), running).await });
    runtime.shutdown_timeout(Duration::from_secs(1));
    drop(peer);
    Ok(last.duration_since(back).unwrap_or_default())
}

async fn all_connected(
    state: &mut watch::Receiver<(usize, SystemTime)>,
    count: usize,
) -> anyhow::Result<()> {
    tokio::time::timeout(PATIENCE, state.wait_for(|(n, _)| *n >= count))
        .await
        .with_context(|| format!("fewer than {count} connections came up within {PATIENCE:?}"))?
        .context("the counting listener went away")?;
    Ok(())
}
