//! What `linesman demo` supervises: the embedded configuration and the
//! local peers that misbehave on a schedule (see `peers.rs`).

pub(crate) mod peers;

/// The embedded configuration; `${DEMO_*}` are the peers' endpoints.
pub(crate) const YAML: &str = include_str!("../demo.yaml");

/// The name the embedded configuration has in messages.
pub(crate) const YAML_NAME: &str = "demo.yaml (embedded)";
