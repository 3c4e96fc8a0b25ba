//! Shutdown: dependents stop before their dependencies, `before_close`
//! runs while the socket is still open, and `run` returns by itself once
//! nothing can run any more.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use linesman_connection::ConnectionSpec;
use linesman_observer::{ConnState, EventType, Stopped};
use linesman_stream::SocketHooks;
use linesman_supervisor::{RestartMode, Spec, Supervised};
use linesman_testkit::Behavior;

use crate::common::{LIMIT, Running, accepted_exactly, built, conn, fast, peer, wait_peer};

#[tokio::test]
async fn dependents_stop_first_and_before_close_sees_an_open_socket() {
    let closes: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let with_hook = |name: &str, endpoint| {
        let closes = Arc::clone(&closes);
        let label = name.to_owned();
        let hooks = SocketHooks::default().before_close(move |sock| {
            let open = sock.local_addr().is_ok();
            closes
                .lock()
                .expect("not poisoned")
                .push((label.clone(), open));
        });
        Supervised::new(ConnectionSpec::new(name, endpoint).hooks(hooks)).restart(built(fast()))
    };
    let base = peer(Behavior::Echo).await;
    let middle = peer(Behavior::Echo).await;
    let top = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        // Declared out of order on purpose: the order comes from the graph.
        .connection(with_hook("top", top.endpoint()).depends_on(["middle"]))
        .connection(with_hook("base", base.endpoint()))
        .connection(with_hook("middle", middle.endpoint()).depends_on(["base"]))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    run.log.wait_nth("top", EventType::Connected, 1).await;
    let log = run.stop().await;

    let stopped = |name| log.seq_of(name, EventType::Stopped);
    assert!(stopped("top") < stopped("middle"), "{}", log.render());
    assert!(stopped("middle") < stopped("base"), "{}", log.render());
    // Each waited for its dependents to be stopped before it began.
    assert!(stopped("top") < log.seq_of("middle", EventType::Stopping));
    assert!(stopped("middle") < log.seq_of("base", EventType::Stopping));
    for name in ["top", "middle", "base"] {
        let tail: Vec<EventType> = log.types(name).into_iter().rev().take(3).rev().collect();
        assert_eq!(
            tail,
            [
                EventType::Stopping,
                EventType::Disconnected,
                EventType::Stopped
            ],
            "{name}:\n{}",
            log.render()
        );
    }
    let mut closes = closes.lock().expect("not poisoned").clone();
    closes.sort();
    assert_eq!(
        closes,
        [
            ("base".to_owned(), true),
            ("middle".to_owned(), true),
            ("top".to_owned(), true)
        ]
    );
    for p in [&base, &middle, &top] {
        wait_peer(p, "every connection closed", |s| s.open == 0).await;
    }
}

#[tokio::test]
async fn run_returns_once_every_connection_has_stopped() {
    let never = built(fast().mode(RestartMode::Never));
    let a = peer(Behavior::flap(Duration::from_millis(20))).await;
    let b = peer(Behavior::flap(Duration::from_millis(20))).await;
    let spec = Spec::builder()
        .connection(conn("a", a.endpoint()).restart(never))
        .connection(conn("b", b.endpoint()).restart(never))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    tokio::time::timeout(LIMIT, &mut run.task)
        .await
        .expect("run returns by itself")
        .expect("run does not panic");
    run.log.drain().await;
    for name in ["a", "b"] {
        let ConnState::Stopped { reason } = run.state(name) else {
            panic!("{name} is {:?}", run.state(name));
        };
        assert!(reason.contains("never"), "{reason}");
        assert_eq!(
            run.log.types(name),
            [
                EventType::Started,
                EventType::Connecting,
                EventType::Connected,
                EventType::Disconnected,
                EventType::Stopped
            ],
            "{}",
            run.log.render()
        );
    }
    accepted_exactly(&a, 1).await;
    accepted_exactly(&b, 1).await;
}

#[tokio::test]
async fn run_returns_when_the_rest_waits_on_a_failed_dependency() {
    let flaky = crate::common::flapping().await;
    let waiting = peer(Behavior::Echo).await;
    let give_up =
        built(fast().intensity(linesman_supervisor::Intensity::default().max_restarts(1)));
    let spec = Spec::builder()
        .connection(conn("dead", flaky.endpoint()).restart(give_up))
        .connection(conn("dependent", waiting.endpoint()).depends_on(["dead"]))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    tokio::time::timeout(LIMIT, &mut run.task)
        .await
        .expect("run returns by itself")
        .expect("run does not panic");
    run.log.drain().await;
    assert_eq!(run.state("dead").name(), "failed");
    // While `dead` was briefly up, `dependent` may have connected; it was
    // waiting again when `dead` failed, and the shutdown stopped it.
    let stopped = run
        .log
        .of("dependent")
        .iter()
        .find_map(|e| e.payload::<Stopped>().cloned())
        .expect("the waiting dependent was stopped");
    assert_eq!(stopped.reason, "shutdown");
    assert_eq!(run.state("dependent").name(), "stopped");
    assert_eq!(flaky.stats().accepted, 2, "{:?}", flaky.stats());
}

/// A handler whose `on_disconnect` never returns.
pub(crate) struct Hangs;
impl linesman_connection::Handler for Hangs {
    async fn on_frame(
        &mut self,
        _frame: linesman_ipc_codec::Frame,
        _link: &linesman_connection::Link,
    ) -> Result<(), linesman_connection::HandlerError> {
        Ok(())
    }

    async fn on_disconnect(&mut self, _reason: &linesman_connection::Reason) {
        std::future::pending::<()>().await;
    }
}

#[tokio::test]
async fn a_session_that_does_not_stop_in_time_is_dropped() {
    let echo = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("stuck", echo.endpoint()))
        .shutdown_timeout(Duration::from_millis(100))
        .build()
        .expect("valid spec");
    let supervisor = linesman_supervisor::Supervisor::new(spec)
        .handler("stuck", Hangs)
        .expect("declared");
    let mut run = Running::start(supervisor);
    run.log.wait_nth("stuck", EventType::Connected, 1).await;
    let log = run.stop().await;
    let stopped = log
        .of("stuck")
        .iter()
        .find_map(|e| e.payload::<Stopped>().cloned())
        .expect("stopped");
    assert_eq!(stopped.reason, "shutdown (forced after 100ms)");
    // Dropping the session still closed the socket.
    wait_peer(&echo, "the connection closed", |s| s.open == 0).await;
}

/// An application listener that never returns from its first event.
struct StuckListener {
    entered: Arc<tokio::sync::Notify>,
}

impl linesman_observer::Listener for StuckListener {
    async fn on_event(&self, _event: &linesman_observer::Event) {
        self.entered.notify_one();
        std::future::pending::<()>().await;
    }

    fn name(&self) -> &str {
        "stuck-listener"
    }
}

#[tokio::test]
async fn a_listener_stuck_in_on_event_does_not_keep_run_from_returning() {
    let echo = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("feed", echo.endpoint()))
        .shutdown_timeout(Duration::from_millis(100))
        .build()
        .expect("valid spec");
    let entered = Arc::new(tokio::sync::Notify::new());
    let supervisor = linesman_supervisor::Supervisor::new(spec).listen(StuckListener {
        entered: Arc::clone(&entered),
    });
    let mut run = Running::start(supervisor);
    run.log.wait_nth("feed", EventType::Connected, 1).await;
    tokio::time::timeout(LIMIT, entered.notified())
        .await
        .expect("the listener got its first event and is stuck in it");
    // `stop` fails the test if `run` does not return.
    let log = run.stop().await;
    let tail: Vec<EventType> = log.types("feed").into_iter().rev().take(3).rev().collect();
    assert_eq!(
        tail,
        [
            EventType::Stopping,
            EventType::Disconnected,
            EventType::Stopped
        ],
        "the connection shut down as usual:\n{}",
        log.render()
    );
    wait_peer(&echo, "the connection closed", |s| s.open == 0).await;
}

#[tokio::test]
async fn shutdown_now_does_not_wait_for_the_timeout() {
    let echo = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("stuck", echo.endpoint()))
        // Far beyond LIMIT: only forcing can end this run in time.
        .shutdown_timeout(Duration::from_secs(3600))
        .build()
        .expect("valid spec");
    let supervisor = linesman_supervisor::Supervisor::new(spec)
        .handler("stuck", Hangs)
        .expect("declared");
    let mut run = Running::start(supervisor);
    run.log.wait_nth("stuck", EventType::Connected, 1).await;
    run.control.shutdown_now();
    tokio::time::timeout(LIMIT, &mut run.task)
        .await
        .expect("a forced shutdown returns at once")
        .expect("run does not panic");
    let ConnState::Stopped { reason } = run.state("stuck") else {
        panic!("{:?}", run.state("stuck"));
    };
    assert!(reason.contains("forced"), "{reason}");
    // Aborting drops the session future; the connection crate's drop guard
    // aborts its writer and closes the socket, so the peer sees the close.
    tokio::time::timeout(LIMIT, echo.wait_open(0))
        .await
        .expect("the forced shutdown closed the socket");
}

#[tokio::test]
async fn keep_running_outlives_stopped_connections_until_a_shutdown() {
    let never = built(fast().mode(RestartMode::Never));
    let a = peer(Behavior::flap(Duration::from_millis(20))).await;
    let spec = Spec::builder()
        .connection(conn("a", a.endpoint()).restart(never))
        .build()
        .expect("valid spec");
    let supervisor = linesman_supervisor::Supervisor::new(spec).keep_running(true);
    let mut run = Running::start(supervisor);
    run.log.wait_nth("a", EventType::Stopped, 1).await;
    // Without keep_running, run would return now (see the test above);
    // with it, the connection can be started again.
    assert!(
        !run.task.is_finished(),
        "run ended with a connection stopped"
    );
    run.control
        .start("a")
        .expect("a is known and the run is alive");
    run.log.wait_nth("a", EventType::Connected, 2).await;
    run.log.wait_nth("a", EventType::Stopped, 2).await;
    run.control.shutdown();
    tokio::time::timeout(LIMIT, &mut run.task)
        .await
        .expect("a shutdown ends the run")
        .expect("run does not panic");
    accepted_exactly(&a, 2).await;
}
