//! Defaults merged into each connection field by field, sections turned
//! off and on, every setting reaching the Spec, and nested start rules.

use std::time::Duration;

use linesman_connection::{Heartbeat, Outbox};
use linesman_ipc_codec::{ByteOrder, IdField, Replies};
use linesman_stream::Keepalive;
use linesman_supervisor::{BackoffPolicy, OnDependencyDown, RestartMode, Rule};

use crate::valid;

#[test]
fn a_connection_overrides_one_backoff_field_and_keeps_the_others() {
    let config = valid(
        "defaults:
  restart:
    backoff: { initial: 250ms, max: 10s, multiplier: 3, jitter: 0.1 }
    intensity: { max_restarts: 7, window: 2m }
connections:
  a:
    endpoint: tcp://h:1
    restart:
      backoff: { max: 1m }
  b:
    endpoint: tcp://h:2
",
    );
    let a = &config.spec.get("a").expect("declared").restart;
    assert_eq!(
        *a.backoff(),
        BackoffPolicy {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(60),
            multiplier: 3.0,
            jitter: 0.1,
        }
    );
    assert_eq!(
        (a.intensity().max_restarts, a.intensity().window),
        (7, Duration::from_secs(120))
    );
    let b = &config.spec.get("b").expect("declared").restart;
    assert_eq!(b.backoff().max, Duration::from_secs(10));
    assert_eq!(b.mode(), RestartMode::Always);
}

#[test]
fn built_in_defaults_apply_where_nothing_is_set() {
    let config = valid("connections: { a: { endpoint: tcp://h:1 } }");
    let a = config.spec.get("a").expect("declared");
    assert_eq!(a.restart, linesman_supervisor::RestartPolicy::default());
    assert_eq!(
        a.connection.connect,
        linesman_stream::ConnectOptions::default()
    );
    assert_eq!(a.connection.max_frame, 16 << 20);
    assert_eq!(a.on_dependency_down, OnDependencyDown::Stop);
    assert_eq!(config.control.socket, None);
    assert_eq!(config.spec.shutdown_timeout(), Duration::from_secs(5));
    assert_eq!(
        config.spec.max_concurrent_connects(),
        linesman_supervisor::Spec::DEFAULT_MAX_CONCURRENT_CONNECTS
    );
}

#[test]
fn sections_merge_over_defaults_or_turn_off() {
    let config = valid(
        "defaults:
  kind: feed
  tags: [eu]
  keepalive: { idle: 20s }
  heartbeat: { type: 9 }
  outbox: { max_frames: 10 }
  idle_timeout: 30s
connections:
  merged:
    endpoint: tcp://h:1
    heartbeat: { interval: 3s }
    outbox: { max_bytes: 64KiB }
  off:
    endpoint: tcp://h:2
    kind: gateway
    tags: []
    keepalive: off
    heartbeat: false
    outbox: off
    idle_timeout: off
    user_timeout: off
",
    );
    let merged = &config.spec.get("merged").expect("declared").connection;
    assert_eq!(merged.kind.as_deref(), Some("feed"));
    assert_eq!(merged.tags, ["eu"]);
    assert_eq!(
        merged.connect.keepalive,
        Some(Keepalive::default().idle(Duration::from_secs(20)))
    );
    assert_eq!(
        merged.heartbeat,
        Some(Heartbeat {
            ty: 9,
            interval: Duration::from_secs(3)
        })
    );
    assert_eq!(
        merged.outbox,
        Some(Outbox {
            max_frames: 10,
            max_bytes: 64 * 1024
        })
    );
    assert_eq!(merged.idle_timeout, Some(Duration::from_secs(30)));
    let off = &config.spec.get("off").expect("declared").connection;
    assert_eq!(off.kind.as_deref(), Some("gateway"));
    assert!(off.tags.is_empty());
    assert_eq!(off.connect.keepalive, None);
    assert_eq!(off.heartbeat, None);
    assert_eq!(off.outbox, None);
    assert_eq!(off.idle_timeout, None);
    assert_eq!(off.connect.user_timeout, None);
}

#[test]
fn every_connection_setting_reaches_the_spec() {
    let config = valid(
        "shutdown_timeout: 750ms
max_concurrent_connects: 64
connections:
  a:
    endpoint: unix:///run/a.sock
    on_dependency_down: restart
    connect_timeout: 1m 30s
    user_timeout: 12s
    nodelay: false
    send_buffer_size: 1MB
    recv_buffer_size: 2048
    max_frame: 1024
    restart: { policy: never, reset_after: 5s }
    framing:
      type_width: 4
      length_width: 2
      byte_order: little
      length_includes_header: true
      flags: false
      id: always
      replies: by_id
",
    );
    assert_eq!(config.spec.shutdown_timeout(), Duration::from_millis(750));
    assert_eq!(config.spec.max_concurrent_connects(), 64);
    let a = config.spec.get("a").expect("declared");
    assert_eq!(a.on_dependency_down, OnDependencyDown::Restart);
    assert_eq!(
        (a.restart.mode(), a.restart.reset_after()),
        (RestartMode::Never, Duration::from_secs(5))
    );
    let c = &a.connection;
    assert_eq!(c.connect.connect_timeout, Duration::from_secs(90));
    assert_eq!(c.connect.user_timeout, Some(Duration::from_secs(12)));
    assert!(!c.connect.nodelay);
    assert_eq!(
        (c.connect.send_buffer_size, c.connect.recv_buffer_size),
        (Some(1_000_000), Some(2048))
    );
    assert_eq!(c.max_frame, 1024);
    let layout = c.layout;
    assert_eq!((layout.type_width(), layout.length_width()), (4, 2));
    assert_eq!(layout.byte_order(), ByteOrder::Little);
    assert!(layout.length_includes_header());
    assert!(!layout.has_flags());
    assert_eq!(layout.id(), IdField::Always);
    assert_eq!(layout.replies(), Replies::ById);
}

#[test]
fn nested_start_when_with_shorthands() {
    let config = valid(
        "connections:
  a: { endpoint: tcp://h:1 }
  b: { endpoint: tcp://h:2 }
  c: { endpoint: tcp://h:3 }
  d:
    endpoint: tcp://h:4
    start_when:
      any:
        - all: [a, { up: b }]
        - { any: [ { up: c } ] }
  e:
    endpoint: tcp://h:5
    start_when: d
  f:
    endpoint: tcp://h:6
    depends_on: e
",
    );
    let spec = &config.spec;
    assert_eq!(
        spec.get("d").expect("declared").start_when,
        Some(Rule::Any(vec![
            Rule::All(vec![Rule::up("a"), Rule::up("b")]),
            Rule::Any(vec![Rule::up("c")]),
        ]))
    );
    assert_eq!(
        spec.get("e").expect("declared").start_when,
        Some(Rule::up("d"))
    );
    assert_eq!(
        spec.get("f").expect("declared").start_when,
        Some(Rule::depends_on(["e"]))
    );
    assert_eq!(
        spec.graph().start_waves(),
        [vec!["a", "b", "c"], vec!["d"], vec!["e"], vec!["f"]]
    );
    assert_eq!(
        config.summary(),
        "6 connections, 3 start rules, default control socket"
    );
}

#[test]
fn names_that_look_like_yaml_1_1_booleans_stay_names() {
    let config = valid(
        "connections:\n  y: { endpoint: tcp://h:1 }\n  off: { endpoint: tcp://h:2, depends_on: [y] }\n",
    );
    assert_eq!(config.spec.graph().start_order(), ["y", "off"]);
}

#[test]
fn variables_expand_in_values_and_escape_with_a_double_dollar() {
    let env = |name: &str| match name {
        "HOST" => Some("10.0.0.7".to_owned()),
        "PORT" => Some("7001".to_owned()),
        _ => None,
    };
    let config = linesman_config::parse_with_env(
        "env.yaml",
        "control:\n  socket: /tmp/$${literal}.sock\nconnections:\n  a: { endpoint: 'tcp://${HOST}:${PORT}', kind: '${HOST}' }\n",
        &env,
    )
    .expect("valid");
    let a = config.spec.get("a").expect("declared");
    assert_eq!(a.connection.target.to_string(), "tcp://10.0.0.7:7001");
    assert_eq!(a.connection.kind.as_deref(), Some("10.0.0.7"));
    assert_eq!(
        config.control.socket.as_deref(),
        Some(std::path::Path::new("/tmp/${literal}.sock"))
    );
}

#[test]
fn write_and_frame_timeouts_merge_over_defaults_or_turn_off() {
    let config = valid(
        "defaults:
  write_timeout: 5s
  frame_timeout: 2s
connections:
  inherits: { endpoint: tcp://h:1 }
  own: { endpoint: tcp://h:2, write_timeout: 750ms, frame_timeout: off }
  unbounded: { endpoint: tcp://h:3, write_timeout: off }
",
    );
    let spec = |name: &str| &config.spec.get(name).expect("declared").connection;
    let secs = Duration::from_secs;
    assert_eq!(spec("inherits").write_timeout, Some(secs(5)));
    assert_eq!(spec("inherits").frame_timeout, Some(secs(2)));
    assert_eq!(spec("own").write_timeout, Some(Duration::from_millis(750)));
    assert_eq!(spec("own").frame_timeout, None);
    assert_eq!(spec("unbounded").write_timeout, None);
    let plain = valid("connections: { a: { endpoint: tcp://h:1 } }\n");
    let plain = &plain.spec.get("a").expect("declared").connection;
    assert_eq!(plain.write_timeout, Some(secs(20)), "the default");
    assert_eq!(plain.frame_timeout, None, "off by default");
    let zero = crate::one_error("connections: { a: { endpoint: tcp://h:1, frame_timeout: 0s } }\n");
    assert_eq!(
        zero.message,
        "`connections.a.frame_timeout` must be greater than zero"
    );
}
