//! Spec validation: policies, graph problems, the shutdown timeout.

use std::time::Duration;

use linesman_supervisor::{
    Backoff, GraphError, PolicyError, RestartPolicy, Rule, Spec, SpecError, Supervised,
};

use crate::common::conn;

fn endpoint() -> linesman_stream::Endpoint {
    "tcp://127.0.0.1:7001".parse().expect("endpoint")
}

#[test]
fn an_invalid_policy_names_its_connection() {
    let bad = RestartPolicy::default().backoff(Backoff::default().jitter(2.0));
    let error = Spec::builder()
        .connection(conn("fine", endpoint()))
        .connection(conn("feed", endpoint()).restart(bad))
        .build()
        .expect_err("jitter 2.0 is invalid");
    assert_eq!(
        error,
        SpecError::Policy {
            connection: "feed".into(),
            error: PolicyError::InvalidJitter { jitter: 2.0 },
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("restart policy of connection `feed` is invalid")
    );
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
