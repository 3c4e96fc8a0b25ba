//! The example of DESIGN.md (copied verbatim into tests/fixtures) and every
//! file in examples/yaml parse into a Spec with the expected graph.

use std::path::PathBuf;
use std::time::Duration;

use linesman_stream::Endpoint;
use linesman_supervisor::{OnDependencyDown, RestartMode, Rule};

use crate::{valid, xdg_env};

#[test]
fn design_example_parses_into_its_graph() {
    let config = valid(include_str!("../fixtures/design.yaml"));
    let spec = &config.spec;
    assert_eq!(
        spec.graph().start_order(),
        ["quotes", "orders", "hw-programmer", "audit"]
    );
    assert_eq!(
        spec.graph().start_waves(),
        [vec!["quotes", "orders"], vec!["hw-programmer", "audit"]]
    );
    let hw = spec.get("hw-programmer").expect("declared");
    assert_eq!(hw.start_when, Some(Rule::depends_on(["quotes", "orders"])));
    assert_eq!(hw.on_dependency_down, OnDependencyDown::Stop);
    let audit = spec.get("audit").expect("declared");
    assert_eq!(
        audit.start_when,
        Some(Rule::Any(vec![Rule::up("quotes"), Rule::up("orders")]))
    );
    assert_eq!(audit.restart.mode(), RestartMode::OnFailure);
    // audit's restart sets only the policy: the rest comes from defaults.
    assert_eq!(audit.restart.intensity().max_restarts, 20);
    let orders = spec.get("orders").expect("declared");
    assert_eq!(orders.connection.kind.as_deref(), Some("feed"));
    assert_eq!(
        orders.connection.target.to_string(),
        Endpoint::Unix("/run/orders.sock".into()).to_string()
    );
    assert_eq!(
        orders.connection.idle_timeout,
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        orders.connection.connect.connect_timeout,
        Duration::from_secs(3)
    );
    assert_eq!(
        config.control.socket,
        Some(PathBuf::from("/run/user/1000/linesman.sock"))
    );
    assert_eq!(
        config.summary(),
        "4 connections, 2 start rules, control socket /run/user/1000/linesman.sock"
    );
}

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/yaml")
}

fn example(name: &str) -> linesman_config::Config {
    let path = examples_dir().join(name);
    let text = std::fs::read_to_string(&path).expect("example file readable");
    match linesman_config::parse_with_env(name, &text, &xdg_env) {
        Ok(config) => config,
        Err(errors) => panic!("{name} does not parse:\n{errors}"),
    }
}

#[test]
fn every_example_file_parses() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .expect("examples/yaml exists")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        assert!(!example(name).spec.connections().is_empty(), "{name}");
    }
    assert!(
        !examples_dir().join("Cargo.toml").exists(),
        "examples/yaml must not be a crate"
    );
}

#[test]
fn trading_example_is_the_design_example() {
    let design = include_str!("../fixtures/design.yaml");
    let trading = std::fs::read_to_string(examples_dir().join("trading.yaml")).expect("readable");
    assert_eq!(trading, design);
}

#[test]
fn market_data_example_graph_and_settings() {
    let config = example("market-data.yaml");
    let spec = &config.spec;
    assert_eq!(
        spec.graph().start_waves(),
        [
            vec!["feed-xnas", "feed-xlon", "refdata"],
            vec!["order-gateway"],
            vec!["risk"]
        ]
    );
    assert_eq!(spec.shutdown_timeout(), Duration::from_secs(10));
    let gateway = spec.get("order-gateway").expect("declared");
    assert_eq!(
        gateway.start_when,
        Some(Rule::All(vec![
            Rule::up("refdata"),
            Rule::Any(vec![Rule::up("feed-xnas"), Rule::up("feed-xlon")]),
        ]))
    );
    assert_eq!(gateway.on_dependency_down, OnDependencyDown::Keep);
    assert_eq!(gateway.restart.backoff().max, Duration::from_secs(2));
    assert_eq!(
        gateway.restart.backoff().initial,
        Duration::from_millis(250)
    );
    assert_eq!(gateway.restart.backoff().jitter, 0.3);
    let refdata = spec.get("refdata").expect("declared");
    assert_eq!(refdata.connection.max_frame, 64 << 20);
    assert_eq!(refdata.connection.idle_timeout, None);
    assert_eq!(refdata.connection.heartbeat, None);
    let risk = spec.get("risk").expect("declared");
    assert_eq!(risk.start_when, Some(Rule::depends_on(["order-gateway"])));
    assert_eq!(risk.on_dependency_down, OnDependencyDown::Restart);
    assert_eq!(risk.connection.max_frame, 4 << 20);
}

#[test]
fn edge_gateway_example_graph_and_layout() {
    let config = example("edge-gateway.yaml");
    let spec = &config.spec;
    assert_eq!(
        spec.graph().dependencies_of("uplink").collect::<Vec<_>>(),
        ["plc", "hub-north", "hub-south"]
    );
    let plc = spec.get("plc").expect("declared");
    assert_eq!(plc.connection.layout.header_len(false), 3);
    assert_eq!(plc.connection.max_frame, 65_535);
    let uplink = spec.get("uplink").expect("declared");
    let keepalive = uplink.connection.connect.keepalive.expect("on");
    assert_eq!(
        (keepalive.idle, keepalive.interval, keepalive.count),
        (Duration::from_secs(30), Duration::from_secs(2), 3)
    );
    assert_eq!(uplink.connection.connect.send_buffer_size, Some(1 << 20));
    assert_eq!(
        config.control.socket,
        Some(PathBuf::from("/run/linesman/edge.sock"))
    );
}
