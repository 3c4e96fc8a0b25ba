//! Helpers: fast policies, peers, a running supervisor and an event log
//! that waits for events.

use std::sync::Arc;
use std::time::Duration;

use linesman_connection::ConnectionSpec;
use linesman_observer::{ConnState, Event, EventType, Interest, Subscription};
use linesman_stream::Endpoint;
use linesman_supervisor::{
    BackoffPolicy, Intensity, RestartPolicy, RestartPolicyBuilder, RunReport, Spec, Supervised,
    Supervisor, SupervisorHandle,
};
use linesman_testkit::{Behavior, Listen, Peer};
use tokio::task::JoinHandle;

/// Upper bound of every wait; reaching it fails the test.
pub(crate) const LIMIT: Duration = Duration::from_secs(15);

/// Upper bound of a wait on paused time, where the runtime skips ahead
/// through every backoff: simulated, so it only has to outlast what the
/// test waits for (minutes of restarts), and costs nothing when reached.
pub(crate) const SIMULATED_LIMIT: Duration = Duration::from_secs(4 * 3600);

/// Restarts after 10 ms, 20 ms, … up to 80 ms, exactly (no jitter), with
/// room for many restarts; a builder, so a test can change one more thing.
pub(crate) fn fast() -> RestartPolicyBuilder {
    RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(10))
                .max(Duration::from_millis(80))
                .jitter(0.0),
        )
        .intensity(Intensity::default().max_restarts(1000))
}

/// The policy a test built, which the test knows to be valid.
pub(crate) fn built(policy: RestartPolicyBuilder) -> RestartPolicy {
    policy.build().expect("test policies are valid")
}

/// A peer that accepts each connection and closes it at once: every
/// session comes up and ends (a flap).
pub(crate) async fn flapping() -> Peer {
    peer(Behavior::flap(Duration::ZERO)).await
}

/// A supervised connection `name` to `endpoint` with the [`fast`] policy.
pub(crate) fn conn(name: &str, endpoint: Endpoint) -> Supervised {
    Supervised::new(ConnectionSpec::new(name, endpoint)).restart(built(fast()))
}

/// A TCP peer on loopback serving `behavior`.
pub(crate) async fn peer(behavior: Behavior) -> Peer {
    Peer::start(Listen::default(), behavior)
        .await
        .expect("a loopback peer starts")
}

/// A TCP endpoint that refuses every connection (a reserved port nothing
/// listens on for an hour), and the peer that holds it.
pub(crate) async fn refusing() -> Peer {
    peer(Behavior::refuse(Duration::from_secs(3600))).await
}

/// A supervisor running on its own task, its control handle and the log of
/// every event from the start.
pub(crate) struct Running {
    pub(crate) control: SupervisorHandle,
    pub(crate) log: Log,
    pub(crate) task: JoinHandle<RunReport>,
}

impl Running {
    pub(crate) fn start(supervisor: Supervisor) -> Running {
        let log = Log::new(supervisor.bus().subscribe(Interest::all()));
        let control = supervisor.control();
        let task = tokio::spawn(supervisor.run());
        Running { control, log, task }
    }

    pub(crate) fn spec(spec: Spec) -> Running {
        Running::start(Supervisor::new(spec))
    }

    /// As [`spec`](Self::spec), for a test on paused time: waits are bounded
    /// by [`SIMULATED_LIMIT`].
    pub(crate) fn paused(spec: Spec) -> Running {
        let mut run = Running::spec(spec);
        run.log.patience = SIMULATED_LIMIT;
        run
    }

    /// Shuts down, waits for `run` to return and collects the remaining
    /// events (the stream ends when the bus closes).
    pub(crate) async fn stop(mut self) -> Log {
        self.control.shutdown();
        tokio::time::timeout(LIMIT, &mut self.task)
            .await
            .expect("run returns after a shutdown")
            .expect("run does not panic");
        self.log.drain().await;
        self.log
    }

    pub(crate) fn state(&self, name: &str) -> ConnState {
        self.control
            .state(name)
            .expect("the connection published")
            .state
    }
}

/// Every event seen so far, and a way to wait for more.
pub(crate) struct Log {
    stream: Subscription,
    pub(crate) events: Vec<Arc<Event>>,
    /// Bound of each [`wait`](Self::wait): [`LIMIT`] unless changed.
    pub(crate) patience: Duration,
}

impl Log {
    pub(crate) fn new(stream: Subscription) -> Log {
        Log {
            stream,
            events: Vec::new(),
            patience: LIMIT,
        }
    }

    /// Reads events until one of `conn` matches `what` and returns its
    /// index in [`events`](Self::events) (an earlier matching event counts
    /// only from `from` on).
    pub(crate) async fn wait(
        &mut self,
        from: usize,
        conn: &str,
        what: impl Fn(&Event) -> bool,
    ) -> usize {
        let find = |events: &[Arc<Event>]| {
            events
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, e)| &*e.conn == conn && what(e))
                .map(|(i, _)| i)
        };
        let wait = async {
            loop {
                if let Some(i) = find(&self.events) {
                    return i;
                }
                let event = self.stream.next().await.expect("the bus stays open");
                self.events.push(Arc::new(event));
            }
        };
        match tokio::time::timeout(self.patience, wait).await {
            Ok(i) => i,
            Err(_) => panic!(
                "no matching event of `{conn}` from #{from}; seen:\n{}",
                self.render()
            ),
        }
    }

    /// Waits for the `n`-th event of type `ty` of `conn` and returns its index.
    pub(crate) async fn wait_nth(&mut self, conn: &str, ty: EventType, n: usize) -> usize {
        let mut from = 0;
        let mut index = 0;
        for _ in 0..n {
            index = self.wait(from, conn, |e| e.event_type() == ty).await;
            from = index + 1;
        }
        index
    }

    /// Reads every remaining event until the stream ends.
    pub(crate) async fn drain(&mut self) {
        while let Some(event) = self.stream.next().await {
            self.events.push(Arc::new(event));
        }
    }

    /// Reads events for `period` (of paused time, in the tests that use it).
    pub(crate) async fn read_for(&mut self, period: Duration) {
        let read = async {
            while let Some(event) = self.stream.next().await {
                self.events.push(Arc::new(event));
            }
        };
        // Reaching the end of `period` is the point, not a failure.
        let _ = tokio::time::timeout(period, read).await;
    }

    /// The live events of `conn`, in order.
    pub(crate) fn of(&self, conn: &str) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| &*e.conn == conn && !e.replay)
            .map(|e| &**e)
            .collect()
    }

    /// The types of the live events of `conn`, in order.
    pub(crate) fn types(&self, conn: &str) -> Vec<EventType> {
        self.of(conn).iter().map(|e| e.event_type()).collect()
    }

    /// How many live events of `conn` have type `ty`.
    pub(crate) fn count(&self, conn: &str, ty: EventType) -> usize {
        self.of(conn)
            .iter()
            .filter(|e| e.event_type() == ty)
            .count()
    }

    /// The `seq` of the first live event of `conn` of type `ty` from index `from`.
    pub(crate) fn seq_of(&self, conn: &str, ty: EventType) -> u64 {
        self.of(conn)
            .iter()
            .find(|e| e.event_type() == ty)
            .map(|e| e.seq)
            .unwrap_or_else(|| panic!("`{conn}` had no {ty} event:\n{}", self.render()))
    }

    pub(crate) fn render(&self) -> String {
        self.events
            .iter()
            .map(|e| format!("  {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Waits for a peer's counters, bounded by [`LIMIT`].
pub(crate) async fn wait_peer(
    peer: &Peer,
    what: &str,
    done: impl FnMut(&linesman_testkit::PeerStats) -> bool,
) {
    if tokio::time::timeout(LIMIT, peer.wait_for(done))
        .await
        .is_err()
    {
        panic!("peer never reached: {what}; stats {:?}", peer.stats());
    }
}

/// Waits until `peer` has accepted `n` connections, then checks that it
/// accepted no more.
pub(crate) async fn accepted_exactly(peer: &Peer, n: u64) {
    wait_peer(peer, &format!("{n} accepted connections"), |s| {
        s.accepted >= n
    })
    .await;
    assert_eq!(peer.stats().accepted, n, "{:?}", peer.stats());
}
