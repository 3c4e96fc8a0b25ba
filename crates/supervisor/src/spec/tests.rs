//! [`Spec::into_builder`] keeps every setting, and
//! [`SpecBuilder::configure`](super::SpecBuilder::configure) amends, reports
//! unknown names with a suggestion, and is validated with the whole.
//!
//! The round trip destructures every struct without `..`: a setting added
//! to `Spec`, `Supervised` or `ConnectionSpec` stops this file compiling
//! until the test sets it to a value other than its default, so a builder
//! that forgets it fails the comparison.

use std::time::Duration;

use linesman_connection::{ConnectionSpec, Heartbeat, Outbox};
use linesman_ipc_codec::{FrameLayout, IdField, Replies};
use linesman_stream::{ConnectOptions, SocketHooks};

use super::{Spec, Supervised};
use crate::error::{ConfigureError, GraphError, SpecError};
use crate::restart::{BackoffPolicy, RestartMode, RestartPolicy};
use crate::rule::{OnDependencyDown, Rule};

fn endpoint(port: u16) -> linesman_stream::Endpoint {
    format!("tcp://127.0.0.1:{port}").parse().expect("endpoint")
}

/// A connection with every setting away from its default.
fn everything_set(name: &str, port: u16) -> Supervised {
    let connection = ConnectionSpec {
        kind: Some("feed".to_owned()),
        tags: vec!["eu".to_owned(), "prod".to_owned()],
        connect: ConnectOptions::default()
            .connect_timeout(Duration::from_millis(750))
            .nodelay(false)
            .send_buffer_size(Some(1 << 16)),
        hooks: SocketHooks::default()
            .on_open(|_| Ok(()))
            .before_close(|_| {}),
        layout: FrameLayout::builder()
            .flags(false)
            .id(IdField::Always)
            .replies(Replies::ById)
            .length_includes_header(true)
            .build()
            .expect("a valid layout"),
        max_frame: 4096,
        idle_timeout: Some(Duration::from_secs(30)),
        write_timeout: Some(Duration::from_secs(7)),
        frame_timeout: Some(Duration::from_secs(3)),
        heartbeat: Some(Heartbeat {
            ty: 9,
            interval: Duration::from_secs(10),
        }),
        outbox: Some(Outbox {
            max_frames: 100,
            max_bytes: 1 << 20,
        }),
        ..ConnectionSpec::new(name, endpoint(port))
    };
    let policy = RestartPolicy::builder()
        .mode(RestartMode::OnFailure)
        .backoff(BackoffPolicy::default().initial(Duration::from_millis(250)))
        .reset_after(Duration::from_secs(90))
        .build()
        .expect("a valid policy");
    Supervised::new(connection)
        .restart(policy)
        .on_dependency_down(OnDependencyDown::Keep)
}

#[test]
fn into_builder_keeps_every_setting() {
    let spec = Spec::builder()
        .connection(everything_set("quotes", 7001))
        .connection(everything_set("hw", 7003).depends_on(["quotes"]))
        .shutdown_timeout(Duration::from_millis(1500))
        .max_concurrent_connects(3)
        .max_open_sockets(40)
        .build()
        .expect("valid");
    // Every field of the spec is checked to be set away from its default.
    let Spec {
        connections,
        graph,
        shutdown_timeout,
        max_concurrent_connects,
        max_open_sockets,
    } = &spec;
    assert_ne!(*shutdown_timeout, Spec::DEFAULT_SHUTDOWN_TIMEOUT);
    assert_ne!(
        *max_concurrent_connects,
        Spec::DEFAULT_MAX_CONCURRENT_CONNECTS
    );
    assert_ne!(*max_open_sockets, None);
    assert_eq!(graph.start_order(), ["quotes", "hw"]);
    let hw = &connections[1];
    let Supervised {
        connection,
        restart,
        start_when,
        on_dependency_down,
    } = hw;
    assert_ne!(*restart, RestartPolicy::default());
    assert!(start_when.is_some());
    assert_ne!(*on_dependency_down, OnDependencyDown::default());
    let ConnectionSpec {
        name: _,
        kind,
        tags,
        target: _,
        connect,
        hooks,
        layout,
        max_frame,
        idle_timeout,
        write_timeout,
        frame_timeout,
        heartbeat,
        outbox,
    } = connection;
    let default = ConnectionSpec::new("d", endpoint(1));
    assert!(kind.is_some() && !tags.is_empty());
    assert_ne!(format!("{connect:?}"), format!("{:?}", default.connect));
    assert!(hooks.has_on_open() && hooks.has_before_close());
    assert_ne!(*layout, default.layout);
    assert_ne!(*max_frame, default.max_frame);
    assert!(idle_timeout.is_some() && frame_timeout.is_some());
    assert_ne!(*write_timeout, default.write_timeout);
    assert!(heartbeat.is_some() && outbox.is_some());

    let before = format!("{connections:?}");
    let order: Vec<String> = graph.start_order().into_iter().map(str::to_owned).collect();
    let (timeout, connects, sockets) = (
        *shutdown_timeout,
        *max_concurrent_connects,
        *max_open_sockets,
    );
    let again = spec.into_builder().build().expect("still valid");
    let Spec {
        connections,
        graph,
        shutdown_timeout,
        max_concurrent_connects,
        max_open_sockets,
    } = &again;
    assert_eq!(format!("{connections:?}"), before);
    assert_eq!(graph.start_order(), order);
    assert_eq!(*shutdown_timeout, timeout);
    assert_eq!(*max_concurrent_connects, connects);
    assert_eq!(*max_open_sockets, sockets);
}

#[test]
fn configure_amends_declared_connections_and_more_can_be_added() {
    let spec = Spec::builder()
        .connection(ConnectionSpec::new("quotes", endpoint(7001)))
        .connection(ConnectionSpec::new("orders", endpoint(7002)))
        .shutdown_timeout(Duration::from_secs(2))
        .build()
        .expect("valid");
    let spec = spec
        .into_builder()
        .connection(Supervised::new(ConnectionSpec::new("hw", endpoint(7003))))
        .configure("quotes", |c| {
            c.connection.hooks = SocketHooks::default().on_open(|_| Ok(()));
        })
        .configure("hw", |c| {
            c.start_when = Some(Rule::depends_on(["quotes", "orders"]));
        })
        .build()
        .expect("valid");
    assert!(
        spec.get("quotes")
            .is_some_and(|c| c.connection.hooks.has_on_open())
    );
    assert!(
        spec.get("orders")
            .is_some_and(|c| !c.connection.hooks.has_on_open())
    );
    assert_eq!(spec.graph().start_order(), ["quotes", "orders", "hw"]);
    assert_eq!(spec.shutdown_timeout(), Duration::from_secs(2));
}

#[test]
fn unknown_names_are_all_reported_with_a_suggestion() {
    let error = Spec::builder()
        .connection(ConnectionSpec::new("quotes", endpoint(7001)))
        .configure("qoutes", |_| panic!("nothing to amend"))
        .configure("hw", |_| panic!("not declared yet"))
        .configure("audit", |_| panic!("nothing to amend"))
        .configure("qoutes", |_| panic!("nothing to amend"))
        .connection(ConnectionSpec::new("hw", endpoint(7003)))
        .build()
        .expect_err("unknown names");
    assert_eq!(
        error,
        SpecError::Configure(vec![
            ConfigureError::UnknownConnection {
                name: "qoutes".into(),
                suggestion: Some("quotes".into()),
            },
            ConfigureError::NotYetDeclared { name: "hw".into() },
            ConfigureError::UnknownConnection {
                name: "audit".into(),
                suggestion: None,
            },
        ])
    );
    assert_eq!(
        error.to_string(),
        "3 connections cannot be configured:
  - cannot configure unknown connection `qoutes`: did you mean `quotes`?
  - cannot configure connection `hw` before it is declared: call `configure` after the `connection` that adds it
  - cannot configure unknown connection `audit`: check the name, or add the connection first with `connection`"
    );
}

#[test]
fn a_cycle_made_by_configure_is_caught_at_build() {
    let spec = Spec::builder()
        .connection(ConnectionSpec::new("quotes", endpoint(7001)))
        .connection(
            Supervised::new(ConnectionSpec::new("hw", endpoint(7003))).depends_on(["quotes"]),
        )
        .build()
        .expect("valid");
    let error = spec
        .into_builder()
        .configure("quotes", |c| c.start_when = Some(Rule::up("hw")))
        .build()
        .expect_err("a cycle");
    let SpecError::Graph(errors) = &error else {
        panic!("expected a graph error, got {error}");
    };
    assert_eq!(
        errors.errors(),
        [GraphError::Cycle {
            path: vec!["quotes".into(), "hw".into()]
        }]
    );
    assert_eq!(
        error.to_string(),
        "dependency cycle quotes -> hw -> quotes: remove one of these dependencies"
    );
}

#[test]
fn a_name_changed_by_configure_to_a_taken_one_is_caught_at_build() {
    let error = Spec::builder()
        .connection(ConnectionSpec::new("quotes", endpoint(7001)))
        .connection(ConnectionSpec::new("orders", endpoint(7002)))
        .configure("orders", |c| c.connection.name = "quotes".into())
        .build()
        .expect_err("a duplicate");
    assert!(
        matches!(&error, SpecError::Graph(e)
            if e.errors() == [GraphError::DuplicateName { connection: "quotes".into() }]),
        "{error}"
    );
}
