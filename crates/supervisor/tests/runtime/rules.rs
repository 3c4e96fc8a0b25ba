//! Start rules: a dependent waits (and its peer sees no connection) until
//! its dependencies are up; each `on_dependency_down` mode.

use linesman_observer::{ConnState, EventType, Waiting};
use linesman_stream::Endpoint;
use linesman_supervisor::{OnDependencyDown, Rule, Spec};
use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::common::{Running, accepted_exactly, conn, peer, wait_peer};

#[tokio::test]
async fn a_dependent_connects_only_once_both_dependencies_are_up() {
    let dir = TempDir::new("supervisor-gating").expect("temp dir");
    let orders_path = dir.join("orders.sock");
    let quotes = peer(Behavior::Echo).await;
    let hw = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("quotes", quotes.endpoint()))
        .connection(conn("orders", Endpoint::Unix(orders_path.clone())))
        .connection(conn("hw", hw.endpoint()).depends_on(["quotes", "orders"]))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);

    // quotes is up, orders keeps failing: hw waits on orders alone.
    run.log.wait_nth("quotes", EventType::Connected, 1).await;
    run.log
        .wait(0, "hw", |e| {
            e.payload::<Waiting>().is_some_and(|w| w.on == ["orders"])
        })
        .await;
    run.log.wait_nth("orders", EventType::Backoff, 3).await;
    assert_eq!(
        run.state("hw"),
        ConnState::Waiting {
            on: vec!["orders".to_owned()]
        }
    );
    assert_eq!(hw.stats().accepted, 0);
    assert_eq!(run.log.count("hw", EventType::Connecting), 0);

    let orders = Peer::start(Listen::unix(&orders_path), Behavior::Echo)
        .await
        .expect("unix peer");
    let hw_up = run.log.wait_nth("hw", EventType::Connected, 1).await;
    accepted_exactly(&hw, 1).await;
    accepted_exactly(&orders, 1).await;
    let log = run.stop().await;
    let orders_up = log.seq_of("orders", EventType::Connected);
    let quotes_up = log.seq_of("quotes", EventType::Connected);
    let hw_connecting = log.seq_of("hw", EventType::Connecting);
    assert!(orders_up < hw_connecting && quotes_up < hw_connecting);
    assert!(log.events[hw_up].seq > orders_up);
}

#[tokio::test]
async fn start_when_any_needs_only_one() {
    let a = peer(Behavior::Echo).await;
    let audit = peer(Behavior::Echo).await;
    let dir = TempDir::new("supervisor-any").expect("temp dir");
    let spec = Spec::builder()
        .connection(conn("a", a.endpoint()))
        .connection(conn("b", Endpoint::Unix(dir.join("nothing.sock"))))
        .connection(
            conn("audit", audit.endpoint())
                .start_when(Rule::Any(vec![Rule::up("a"), Rule::up("b")])),
        )
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    run.log.wait_nth("audit", EventType::Connected, 1).await;
    accepted_exactly(&audit, 1).await;
    run.stop().await;
}

/// One dependency `up` and three dependents, one per mode. `up` is stopped
/// and started again through the handle.
#[tokio::test]
async fn each_on_dependency_down_mode() {
    let up = peer(Behavior::Echo).await;
    let stop = peer(Behavior::Echo).await;
    let keep = peer(Behavior::Echo).await;
    let restart = peer(Behavior::Echo).await;
    let spec = Spec::builder()
        .connection(conn("up", up.endpoint()))
        .connection(conn("stop", stop.endpoint()).depends_on(["up"]))
        .connection(
            conn("keep", keep.endpoint())
                .depends_on(["up"])
                .on_dependency_down(OnDependencyDown::Keep),
        )
        .connection(
            conn("restart", restart.endpoint())
                .depends_on(["up"])
                .on_dependency_down(OnDependencyDown::Restart),
        )
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    for name in ["stop", "keep", "restart"] {
        run.log.wait_nth(name, EventType::Connected, 1).await;
    }

    run.control.stop("up").expect("up is supervised");
    let up_stopped = run.log.wait_nth("up", EventType::Stopped, 1).await;
    // stop: the session ends and the connection waits on `up` again.
    let down = run
        .log
        .wait(up_stopped, "stop", |e| {
            e.event_type() == EventType::Disconnected
        })
        .await;
    run.log
        .wait(down, "stop", |e| {
            e.payload::<Waiting>().is_some_and(|w| w.on == ["up"])
        })
        .await;
    wait_peer(&stop, "the stop-mode connection closed", |s| s.open == 0).await;
    assert_eq!(run.state("keep").name(), "up");
    assert_eq!(run.state("restart").name(), "up");

    run.control.start("up").expect("up is supervised");
    let up_again = run.log.wait_nth("up", EventType::Connected, 2).await;
    run.log
        .wait(up_again, "stop", |e| e.event_type() == EventType::Connected)
        .await;
    // restart: reconnects once the dependency is back, so its peer sees a
    // second connection.
    let restart_down = run
        .log
        .wait(0, "restart", |e| e.event_type() == EventType::Disconnected)
        .await;
    assert!(restart_down > up_again, "{}", run.log.render());
    run.log
        .wait(restart_down, "restart", |e| {
            e.event_type() == EventType::Connected
        })
        .await;
    wait_peer(&restart, "a second connection", |s| {
        s.accepted == 2 && s.open == 1
    })
    .await;

    let log = run.stop().await;
    accepted_exactly(&stop, 2).await;
    // keep: one session throughout.
    accepted_exactly(&keep, 1).await;
    let keep_types = log.types("keep");
    let first_disconnect = keep_types
        .iter()
        .position(|t| *t == EventType::Disconnected);
    let stopping = keep_types.iter().position(|t| *t == EventType::Stopping);
    assert!(
        first_disconnect > stopping,
        "keep disconnected before the shutdown:\n{}",
        log.render()
    );
    assert_eq!(log.count("restart", EventType::Backoff), 0);
    assert_eq!(log.count("restart", EventType::Connected), 2);
}
