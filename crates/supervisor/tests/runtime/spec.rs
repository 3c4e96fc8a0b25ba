//! Spec validation: graph problems, the shutdown timeout (a restart policy
//! is checked when it is built: see `tests/restart.rs`).

use std::time::Duration;

use linesman_supervisor::{GraphError, Rule, Spec, SpecError, Supervised};

use crate::common::conn;

fn endpoint() -> linesman_stream::Endpoint {
    "tcp://127.0.0.1:7001".parse().expect("endpoint")
}

#[test]
fn graph_problems_are_all_reported() {
    let error = Spec::builder()
        .connection(conn("a", endpoint()).depends_on(["b"]))
        .connection(conn("b", endpoint()).depends_on(["a"]))
        .connection(conn("c", endpoint()).depends_on(["c", "qoutes"]))
        .build()
        .expect_err("a cycle, a self-dependency and an unknown name");
    let SpecError::Graph(errors) = error else {
        panic!("expected graph errors, got {error}");
    };
    let errors = errors.errors();
    assert!(errors.contains(&GraphError::SelfDependency {
        connection: "c".into()
    }));
    assert!(errors.contains(&GraphError::Cycle {
        path: vec!["a".into(), "b".into()]
    }));
    assert!(errors.iter().any(|e| matches!(e,
        GraphError::UnknownDependency { unknown, .. } if unknown == "qoutes")));
}

#[test]
fn a_zero_shutdown_timeout_is_refused() {
    let error = Spec::builder()
        .shutdown_timeout(Duration::ZERO)
        .build()
        .expect_err("zero");
    assert_eq!(error, SpecError::ZeroShutdownTimeout);
}

#[test]
fn a_valid_spec_keeps_its_settings() {
    let spec = Spec::builder()
        .connection(conn("a", endpoint()))
        .connection(
            Supervised::new(linesman_connection::ConnectionSpec::new("b", endpoint()).kind("feed"))
                .start_when(Rule::up("a")),
        )
        .build()
        .expect("valid");
    assert_eq!(spec.graph().shutdown_order(), ["b", "a"]);
    assert_eq!(
        spec.get("b").and_then(|b| b.connection.kind.as_deref()),
        Some("feed")
    );
    assert_eq!(spec.shutdown_timeout(), Spec::DEFAULT_SHUTDOWN_TIMEOUT);
    assert_eq!(spec.connections().len(), 2);
}
