//! A daemon for the tests: three connections to echo peers (`quotes` over
//! TCP, `orders` over a Unix socket, `audit` depending on both), supervised,
//! with the control server on a socket in a temp dir.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use linesman_connection::{ConnectionHandle, ConnectionSpec};
use linesman_control::{
    Client, ControlServer, ControlState, EventLine, ServerHandle, State, StatusResponse,
};
use linesman_observer::BusOptions;
use linesman_supervisor::{Spec, Supervised, Supervisor, SupervisorHandle};
use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use tokio::task::JoinHandle;

/// How long a test waits for something that happens in milliseconds before
/// it gives up (a hang guard, never an assertion on time).
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

pub(crate) async fn patiently<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for {what}"))
}

pub(crate) struct Daemon {
    pub(crate) dir: TempDir,
    pub(crate) client: Client,
    pub(crate) control: SupervisorHandle,
    /// The handle of `quotes`, to send through.
    pub(crate) quotes: ConnectionHandle,
    pub(crate) peers: Vec<Peer>,
    server: Option<ServerHandle>,
    run: Option<JoinHandle<linesman_supervisor::RunReport>>,
}

impl Daemon {
    /// Starts the peers, the supervisor and the server; returns once every
    /// connection is up.
    pub(crate) async fn start(label: &str) -> Daemon {
        let dir = TempDir::new(label).expect("a temp dir");
        let quotes = Peer::echo().await.expect("a tcp peer");
        let orders = Peer::start(Listen::unix(dir.join("orders.sock")), Behavior::Echo)
            .await
            .expect("a unix peer");
        let audit = Peer::echo().await.expect("a tcp peer");
        let spec = Spec::builder()
            .connection(
                ConnectionSpec::new("quotes", quotes.endpoint())
                    .kind("feed")
                    .tags(["eu"]),
            )
            .connection(ConnectionSpec::new("orders", orders.endpoint()).kind("feed"))
            .connection(
                Supervised::new(ConnectionSpec::new("audit", audit.endpoint()))
                    .depends_on(["quotes", "orders"]),
            )
            .shutdown_timeout(Duration::from_secs(2))
            .build()
            .expect("a valid spec");
        let supervisor = Supervisor::new(spec);
        let control = supervisor.control();
        let quotes_handle = supervisor.handle("quotes").expect("quotes is supervised");
        let state = ControlState::new(&supervisor);
        let socket = dir.join("control.sock");
        let server = ControlServer::bind(&socket, state)
            .expect("the control socket binds")
            .spawn();
        let run = tokio::spawn(supervisor.run());
        let daemon = Daemon {
            client: Client::new(&socket),
            dir,
            control,
            quotes: quotes_handle,
            peers: vec![quotes, orders, audit],
            server: Some(server),
            run: Some(run),
        };
        daemon
            .wait_for("every connection up", StatusResponse::all_up)
            .await;
        daemon
    }

    pub(crate) fn socket(&self) -> PathBuf {
        self.client.socket().to_owned()
    }

    /// Follows the events until `done` holds for the status.
    pub(crate) async fn wait_for(&self, what: &str, done: impl Fn(&StatusResponse) -> bool) {
        patiently(what, async {
            let mut events = self.client.events().await.expect("the events stream");
            loop {
                let status = self.client.status().await.expect("a status");
                if done(&status) {
                    return;
                }
                events
                    .next()
                    .await
                    .expect("the stream goes on while waiting")
                    .expect("an event line");
            }
        })
        .await;
    }

    /// The state of `name`.
    pub(crate) async fn state_of(&self, name: &str) -> State {
        let status = self.client.status().await.expect("a status");
        status.get(name).expect("a known connection").state
    }

    /// Shuts the supervisor down, then the server; returns the socket path.
    pub(crate) async fn stop(mut self) -> PathBuf {
        let socket = self.socket();
        self.control.shutdown();
        if let Some(run) = self.run.take() {
            patiently("the supervisor to finish", run)
                .await
                .expect("the supervisor task ends");
        }
        if let Some(server) = self.server.take() {
            patiently("the server to shut down", server.shutdown())
                .await
                .expect("a clean server shutdown");
        }
        socket
    }
}

/// Reads lines until one matches, returning every line read.
pub(crate) async fn read_until(
    events: &mut linesman_control::EventStream,
    what: &str,
    done: impl Fn(&EventLine) -> bool,
) -> Vec<EventLine> {
    patiently(what, async {
        let mut seen = Vec::new();
        loop {
            let line = events
                .next()
                .await
                .unwrap_or_else(|| panic!("the stream ended before {what}"))
                .expect("an event line");
            let found = done(&line);
            seen.push(line);
            if found {
                return seen;
            }
        }
    })
    .await
}

/// A server for a supervisor that never runs: one connection, state
/// `waiting` ("not started yet"). Enough for socket tests.
pub(crate) fn idle_state() -> ControlState {
    idle_state_with(BusOptions::default())
}

/// A state of `count` connections (`c0`, `c1`, …) that never run: a
/// large status to answer.
pub(crate) fn many_state(count: usize) -> ControlState {
    let mut spec = Spec::builder();
    for i in 0..count {
        spec = spec.connection(ConnectionSpec::new(
            format!("c{i}"),
            "tcp://127.0.0.1:9".parse().expect("an endpoint"),
        ));
    }
    let supervisor = Supervisor::new(spec.build().expect("a valid spec"));
    ControlState::new(&supervisor)
}

/// [`idle_state`] on a bus with these options.
pub(crate) fn idle_state_with(options: BusOptions) -> ControlState {
    let spec = Spec::builder()
        .connection(ConnectionSpec::new(
            "idle",
            "tcp://127.0.0.1:9".parse().expect("an endpoint"),
        ))
        .build()
        .expect("a valid spec");
    let supervisor = Supervisor::with_bus_options(spec, options);
    ControlState::new(&supervisor)
}
