//! YAML plus code, the application developer's path: load a YAML file,
//! amend it in code (socket hooks on a YAML connection, a code-only
//! connection depending on YAML ones), attach a handler, build and run —
//! against real peers on loopback, with every spec-wide setting of the file
//! kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use linesman::prelude::*;
use linesman::supervisor::{ConfigureError, SpecError, SupervisorError};
use linesman_testkit::{Peer, TempDir};

/// A bound on every wait, never an expected duration.
const WAIT: Duration = Duration::from_secs(20);

/// Counts the sessions it saw come up.
struct CountsConnects(Arc<AtomicUsize>);

impl Handler for CountsConnects {
    async fn on_connect(&mut self, _link: &Link) -> Result<(), HandlerError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// A YAML file with two connections to `quotes` and `orders` and both
/// spec-wide settings away from their defaults, loaded as the daemon does.
fn load_yaml(dir: &TempDir, quotes: &Peer, orders: &Peer) -> linesman::config::Config {
    let path = dir.join("app.yaml");
    let yaml = format!(
        "shutdown_timeout: 1500ms
max_concurrent_connects: 7
connections:
  quotes: {{ endpoint: {} }}
  orders: {{ endpoint: {} }}
",
        quotes.endpoint(),
        orders.endpoint()
    );
    std::fs::write(&path, yaml).expect("write the config");
    linesman::config::load(&path).unwrap_or_else(|errors| panic!("{errors}"))
}

#[tokio::test]
async fn a_yaml_spec_amended_in_code_runs_with_its_settings_kept() {
    let (quotes, orders, hw) = (
        Peer::echo().await.expect("peer"),
        Peer::echo().await.expect("peer"),
        Peer::echo().await.expect("peer"),
    );
    let dir = TempDir::new("yaml-plus-code").expect("temp dir");
    let config = load_yaml(&dir, &quotes, &orders);

    let opened = Arc::new(AtomicUsize::new(0));
    let hook_count = Arc::clone(&opened);
    let spec = config
        .spec
        .into_builder()
        .configure("quotes", |c| {
            c.connection.hooks = SocketHooks::default().on_open(move |_| {
                hook_count.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        })
        .connection(
            Supervised::new(ConnectionSpec::new("hw", hw.endpoint()))
                .depends_on(["quotes", "orders"]),
        )
        .build()
        .unwrap_or_else(|error| panic!("{error}"));

    // The file's settings survived the amendment.
    assert_eq!(spec.shutdown_timeout(), Duration::from_millis(1500));
    assert_eq!(spec.max_concurrent_connects(), 7);
    assert_eq!(spec.graph().start_order(), ["quotes", "orders", "hw"]);

    let connects = Arc::new(AtomicUsize::new(0));
    let supervisor = Supervisor::new(spec)
        .handler("hw", CountsConnects(Arc::clone(&connects)))
        .unwrap_or_else(|error| panic!("{error}"));
    let mut ups = supervisor
        .bus()
        .subscribe(Interest::all().event::<Connected>());
    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());

    let mut order = Vec::new();
    while order.len() < 3 {
        let event = tokio::time::timeout(WAIT, ups.next())
            .await
            .unwrap_or_else(|_| panic!("only {order:?} came up"))
            .expect("the bus is open while running");
        order.push(event.conn.to_string());
    }
    assert_eq!(
        order[2], "hw",
        "hw starts after both it depends on: {order:?}"
    );
    order[..2].sort();
    assert_eq!(order[..2], ["orders", "quotes"]);
    // The hook given in code ran on the YAML connection's socket, and the
    // handler on the code-only connection.
    assert_eq!(opened.load(Ordering::SeqCst), 1);
    assert_eq!(connects.load(Ordering::SeqCst), 1);
    // The peer counts a connection when its task for it first runs, which
    // may come after `Connected` was published.
    tokio::time::timeout(WAIT, quotes.wait_connections(1))
        .await
        .expect("the peer counts the connection");
    assert_eq!(quotes.stats().accepted, 1);

    control.shutdown();
    tokio::time::timeout(WAIT, running)
        .await
        .expect("run returns after the shutdown")
        .expect("run does not panic");
}

#[tokio::test]
async fn unknown_names_in_configure_and_handler_are_errors_with_a_suggestion() {
    let (quotes, orders) = (
        Peer::echo().await.expect("peer"),
        Peer::echo().await.expect("peer"),
    );
    let dir = TempDir::new("yaml-plus-code-names").expect("temp dir");
    let config = load_yaml(&dir, &quotes, &orders);

    let error = config
        .spec
        .clone()
        .into_builder()
        .configure("qoutes", |_| {})
        .build()
        .expect_err("no connection `qoutes`");
    assert_eq!(
        error,
        SpecError::Configure(vec![ConfigureError::UnknownConnection {
            name: "qoutes".into(),
            suggestion: Some("quotes".into()),
        }])
    );
    assert_eq!(
        error.to_string(),
        "cannot configure unknown connection `qoutes`: did you mean `quotes`?"
    );

    let error = Supervisor::new(config.spec)
        .handler("ordres", CountsConnects(Arc::default()))
        .expect_err("no connection `ordres`");
    assert!(
        matches!(&error, SupervisorError::UnknownConnection { suggestion, .. }
            if suggestion.as_deref() == Some("orders")),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "cannot set a handler for unknown connection `ordres`: did you mean `orders`?"
    );
}

#[tokio::test]
async fn a_cycle_made_in_code_over_yaml_connections_is_caught_at_build() {
    let (quotes, orders) = (
        Peer::echo().await.expect("peer"),
        Peer::echo().await.expect("peer"),
    );
    let dir = TempDir::new("yaml-plus-code-cycle").expect("temp dir");
    let config = load_yaml(&dir, &quotes, &orders);

    let error = config
        .spec
        .into_builder()
        .configure("quotes", |c| c.start_when = Some(Rule::up("orders")))
        .configure("orders", |c| c.start_when = Some(Rule::up("quotes")))
        .build()
        .expect_err("a cycle");
    assert_eq!(
        error.to_string(),
        "dependency cycle quotes -> orders -> quotes: remove one of these dependencies"
    );
}
