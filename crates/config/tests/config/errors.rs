//! One test per class of error: each asserts the kind, the line and column,
//! the message and the hint.

use linesman_config::{ConfigErrorKind as Kind, load};
use linesman_stream::Endpoint;

use crate::{assert_at, invalid, one_error};

/// Each problem's line, column and message.
fn placed(errors: &linesman_config::ConfigErrors) -> Vec<(u32, u32, &str)> {
    errors
        .iter()
        .map(|e| {
            let at = e.location.expect("located");
            (at.line, at.column, e.message.as_str())
        })
        .collect()
}

#[test]
fn unknown_key_suggests_the_nearest_valid_key() {
    let e = one_error(
        "connections:\n  quotes:\n    endpoint: tcp://127.0.0.1:7001\n    idle_timout: 5s\n",
    );
    assert_eq!(e.kind, Kind::UnknownKey);
    assert_at(&e, 4, 5);
    assert_eq!(
        e.message,
        "unknown key `idle_timout` in `connections.quotes`"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `idle_timeout`?"));
}

#[test]
fn unknown_key_far_from_any_lists_the_valid_keys() {
    let e = one_error("connections:\n  q: { endpoint: tcp://h:1, restart: { colour: red } }\n");
    assert_eq!(e.kind, Kind::UnknownKey);
    assert_at(&e, 2, 40);
    assert_eq!(e.message, "unknown key `colour` in `connections.q.restart`");
    assert_eq!(
        e.help.as_deref(),
        Some("expected one of: policy, backoff, intensity, reset_after")
    );
}

#[test]
fn top_level_typo_is_an_unknown_key() {
    let e = one_error("conections: {}\nconnections: { a: { endpoint: tcp://h:1 } }\n");
    assert_at(&e, 1, 1);
    assert_eq!(e.message, "unknown key `conections` at the top level");
    assert_eq!(e.help.as_deref(), Some("did you mean `connections`?"));
}

#[test]
fn endpoint_in_defaults_is_refused_with_its_own_hint() {
    let e = one_error(
        "defaults:\n  endpoint: tcp://h:1\nconnections: { a: { endpoint: tcp://h:1 } }\n",
    );
    assert_eq!(e.kind, Kind::UnknownKey);
    assert_at(&e, 2, 3);
    assert_eq!(e.message, "key `endpoint` is not allowed in `defaults`");
    assert_eq!(
        e.help.as_deref(),
        Some("set `endpoint` in each connection: every connection has its own")
    );
}

#[test]
fn duplicate_connection_names_point_at_both() {
    let e = one_error(
        "connections:\n  quotes: { endpoint: tcp://h:1 }\n  orders: { endpoint: tcp://h:2 }\n  quotes: { endpoint: tcp://h:3 }\n",
    );
    assert_eq!(e.kind, Kind::DuplicateConnection);
    assert_at(&e, 4, 3);
    assert_eq!(e.message, "connection `quotes` is declared twice");
    assert_eq!(
        e.help.as_deref(),
        Some("give each connection a unique name")
    );
    assert_eq!(e.labels.len(), 1);
    assert_eq!(
        (e.labels[0].location.line, e.labels[0].location.column),
        (2, 3)
    );
    assert_eq!(e.labels[0].text, "first declared here");
}

#[test]
fn duplicate_keys_are_refused() {
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    kind: feed\n    kind: gateway\n",
    );
    assert_eq!(e.kind, Kind::DuplicateKey);
    assert_at(&e, 5, 5);
    assert_eq!(e.message, "duplicate key `kind` in `connections.a`");
    assert_eq!(e.labels[0].location.line, 4);
}

#[test]
fn bad_duration_says_what_humantime_expected() {
    let e = one_error("connections:\n  a:\n    endpoint: tcp://h:1\n    connect_timeout: 3 sex\n");
    assert_eq!(e.kind, Kind::InvalidDuration);
    assert_at(&e, 4, 22);
    assert_eq!(
        e.message,
        "`connections.a.connect_timeout` must be a duration like `250ms` or `1m 30s`, found `3 sex`"
    );
    assert!(
        e.help
            .as_deref()
            .is_some_and(|h| h.starts_with("unknown time unit \"sex\"")),
        "{:?}",
        e.help
    );
}

#[test]
fn a_negative_duration_is_named_so() {
    let e = one_error("connections:\n  a:\n    endpoint: tcp://h:1\n    connect_timeout: -1s\n");
    assert_eq!(e.kind, Kind::InvalidDuration);
    assert_eq!(
        e.help.as_deref(),
        Some("a duration cannot be negative: write e.g. `250ms` or `5s`"),
        "humantime's own words were `expected number at 0`; `0s` was suggested once, which \
         connect_timeout then refuses"
    );
}

#[test]
fn a_max_frame_the_length_field_cannot_announce_is_refused_where_it_is_written() {
    let e = one_error("connections:\n  a:\n    endpoint: tcp://h:1\n    max_frame: 4GiB\n");
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 16);
    assert_eq!(
        e.message,
        "`connections.a.max_frame` is 4,294,967,296 bytes, more than a frame's 4-byte length field can announce (4,294,967,295 bytes)"
    );
    crate::valid("connections:\n  a: { endpoint: tcp://h:1, max_frame: 4294967295 }\n");
    // A 2-byte length (here counting the header): its field's maximum.
    let e = one_error(
        "defaults:\n  max_frame: 64KiB\n  framing: { length_width: 2, length_includes_header: true }\nconnections:\n  a: { endpoint: tcp://h:1 }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 2, 14);
    assert_eq!(
        e.message,
        "`defaults.max_frame` is 65,536 bytes, more than a frame's 2-byte length field can announce (65,535 bytes)"
    );
}

#[test]
fn an_endpoint_that_is_the_control_socket_is_refused_where_it_is_written() {
    let e = one_error(
        "control: { socket: /run/l/ctl.sock }\nconnections:\n  a: { endpoint: unix:///run/l/ctl.sock }\n",
    );
    assert_eq!(e.kind, Kind::Conflict);
    assert_at(&e, 3, 18);
    assert_eq!(
        e.message,
        "`connections.a.endpoint` is the daemon's own control socket"
    );
    assert_eq!(e.labels.len(), 1);
    assert_eq!(e.labels[0].location.line, 1);
    crate::valid(
        "control: { socket: /run/l/ctl.sock }\nconnections:\n  a: { endpoint: unix:///run/l/peer.sock }\n",
    );
}

#[test]
fn a_duration_longer_than_a_year_is_refused_where_it_is_written() {
    // An operator's "never": the daemon adds it to the clock, which
    // panicked on overflow (the connection was lost for good, SIGTERM
    // aborted the daemon).
    for (key, column) in [("idle_timeout", 19), ("frame_timeout", 20)] {
        let e = one_error(&format!(
            "connections:\n  a:\n    endpoint: tcp://h:1\n    {key}: 18446744073709551615s\n"
        ));
        assert_eq!(e.kind, Kind::OutOfRange);
        assert_at(&e, 4, column);
        assert_eq!(
            e.message,
            format!(
                "`connections.a.{key}` is `18446744073709551615s`, longer than the 365 days a duration may be"
            )
        );
        assert!(
            e.help.as_deref().is_some_and(|h| h.contains("`off`")),
            "{:?}",
            e.help
        );
    }
    let e = one_error("shutdown_timeout: 366d\nconnections:\n  a: { endpoint: tcp://h:1 }\n");
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 1, 19);
    // A year is allowed.
    crate::valid(
        "shutdown_timeout: 365d\nconnections:\n  a: { endpoint: tcp://h:1, idle_timeout: 365d }\n",
    );
}

#[test]
fn duration_without_unit_suggests_one() {
    let e =
        one_error("defaults: { idle_timeout: 30 }\nconnections: { a: { endpoint: tcp://h:1 } }\n");
    assert_eq!(e.kind, Kind::InvalidDuration);
    assert_at(&e, 1, 27);
    assert_eq!(e.help.as_deref(), Some("add a unit, e.g. `30s` or `30ms`"));
}

#[test]
fn bad_endpoint_carries_the_endpoint_parser_message() {
    let e = one_error("connections:\n  a:\n    endpoint: tcp://127.0.0.1\n");
    assert_eq!(e.kind, Kind::InvalidEndpoint);
    assert_at(&e, 3, 15);
    let parser = "tcp://127.0.0.1".parse::<Endpoint>().expect_err("no port");
    assert_eq!(
        e.message,
        format!("invalid `connections.a.endpoint`: {parser}")
    );
    assert_eq!(
        e.help.as_deref(),
        Some("write `tcp://host:port`, `tcp://[v6]:port` or `unix:///absolute/path`")
    );
}

#[test]
fn missing_endpoint_points_at_the_connection() {
    let e = one_error("connections:\n  a:\n    kind: feed\n");
    assert_eq!(e.kind, Kind::MissingKey);
    assert_at(&e, 2, 3);
    assert_eq!(e.message, "connection `a` has no `endpoint`");
}

#[test]
fn jitter_outside_zero_to_one_is_out_of_range() {
    let e = one_error(
        "defaults:\n  restart: { backoff: { jitter: 1.5 } }\nconnections: { a: { endpoint: tcp://h:1 } }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 2, 33);
    assert_eq!(
        e.message,
        "`defaults.restart.backoff.jitter` must be between 0.0 and 1.0, found 1.5"
    );
    assert!(e.help.as_deref().is_some_and(|h| h.contains("±20%")));
}

#[test]
fn zero_concurrent_connects_is_out_of_range() {
    let e = one_error("max_concurrent_connects: 0\nconnections: { a: { endpoint: tcp://h:1 } }\n");
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 1, 26);
    assert_eq!(
        e.message,
        "`max_concurrent_connects` must be between 1 and 4294967295, found 0"
    );
}

#[test]
fn multiplier_below_one_is_out_of_range() {
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    restart: { backoff: { multiplier: 0.5 } }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 39);
    assert_eq!(
        e.message,
        "`connections.a.restart.backoff.multiplier` must be at least 1.0, found 0.5"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("each delay is the previous one times the multiplier; 1.0 keeps it constant")
    );
}

#[test]
fn zero_max_restarts_points_to_policy_never() {
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    restart: { intensity: { max_restarts: 0 } }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 43);
    assert_eq!(
        e.help.as_deref(),
        Some("to never restart, set `restart.policy: never`")
    );
}

#[test]
fn framing_width_must_be_supported() {
    let e =
        one_error("connections:\n  a:\n    endpoint: tcp://h:1\n    framing: { type_width: 3 }\n");
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 28);
    assert_eq!(
        e.message,
        "`connections.a.framing.type_width` must be `1`, `2` or `4` bytes, found 3"
    );
}

#[test]
fn heartbeat_type_must_fit_the_type_field() {
    let e = one_error(
        "defaults:\n  heartbeat: { type: 300, interval: 1s }\nconnections:\n  a:\n    endpoint: tcp://h:1\n    framing: { type_width: 1 }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 2, 14);
    assert_eq!(
        e.message,
        "`defaults.heartbeat` type 300 does not fit the 1-byte type field of the framing (at most 255)"
    );
}

#[test]
fn a_refused_heartbeat_interval_is_one_error_not_also_a_missing_one() {
    // It gave two, the second wrong: "has no `interval`" (hostile run h22).
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    heartbeat: { type: 0, interval: 0ms }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_eq!(
        e.message,
        "`connections.a.heartbeat.interval` must be greater than zero"
    );
}

#[test]
fn a_refused_value_hides_no_other_problem_of_its_mapping() {
    // One error per problem: the refused value, and the key truly missing
    // beside it (hostile run h23: the second came only once the first was
    // fixed).
    for (yaml, wanted) in [
        (
            "connections:\n  a:\n    endpoint: tcp://h:1\n    heartbeat: { interval: 0ms }\n",
            [
                "interval` must be greater than zero",
                "heartbeat` has no `type`",
            ],
        ),
        (
            "connections:\n  a:\n    endpoint: tcp://h:1\n    outbox: { max_frames: 0 }\n",
            ["max_frames", "outbox` has no `max_bytes`"],
        ),
    ] {
        let errors = invalid(yaml);
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        for wanted in wanted {
            assert!(
                messages.iter().any(|m| m.contains(wanted)),
                "{wanted}: {messages:?}"
            );
        }
    }
}

#[test]
fn a_refused_outbox_bound_is_one_error_not_also_a_missing_one() {
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    outbox: { max_frames: 0, max_bytes: 1MiB }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange, "{}", e.message);
    assert!(e.message.contains("max_frames"), "{}", e.message);
}

#[test]
fn a_refused_backoff_max_is_not_also_a_clash_with_the_default_max() {
    // initial 365d "larger than max 30s": the max refused fell back to the
    // default for the clash check (hostile run h22 F5).
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    restart: { backoff: { initial: 365d, max: 365d } }\n",
    );
    assert_eq!(e.kind, Kind::OutOfRange, "{}", e.message);
    assert!(
        e.message.contains("backoff.max` must be at most"),
        "{}",
        e.message
    );
}

#[test]
fn initial_above_max_is_a_conflict_at_the_initial_value() {
    let e = one_error(
        "defaults:\n  restart: { backoff: { initial: 5s } }\nconnections:\n  a:\n    endpoint: tcp://h:1\n    restart: { backoff: { max: 1s } }\n",
    );
    assert_eq!(e.kind, Kind::Conflict);
    assert_at(&e, 2, 34);
    assert_eq!(
        e.message,
        "`defaults.restart`: backoff initial delay 5s is larger than max 1s"
    );
    assert_eq!(e.help.as_deref(), Some("lower `initial` or raise `max`"));
}

#[test]
fn unknown_word_suggests_the_nearest() {
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    restart: { policy: on-failur }\n",
    );
    assert_eq!(e.kind, Kind::InvalidValue);
    assert_at(&e, 4, 24);
    assert_eq!(
        e.message,
        "`connections.a.restart.policy` must be `always`, `on-failure` or `never`, found `on-failur`"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `on-failure`?"));
}

#[test]
fn wrong_type_says_what_was_found() {
    let e = one_error("connections:\n  a:\n    endpoint: tcp://h:1\n    restart: always\n");
    assert_eq!(e.kind, Kind::WrongType);
    assert_at(&e, 4, 14);
    assert_eq!(
        e.message,
        "`connections.a.restart` must be a mapping (`key: value` lines), found string `always`"
    );
}

#[test]
fn bad_size_lists_the_units() {
    let e = one_error("connections:\n  a:\n    endpoint: tcp://h:1\n    max_frame: 16 megs\n");
    assert_eq!(e.kind, Kind::InvalidSize);
    assert_at(&e, 4, 16);
    assert!(e.help.as_deref().is_some_and(|h| h.contains("MiB")));
}

#[test]
fn unknown_dependency_suggests_the_nearest_connection() {
    let e = one_error(
        "connections:\n  quotes: { endpoint: tcp://h:1 }\n  hw:\n    endpoint: tcp://h:2\n    depends_on: [qoutes]\n",
    );
    assert_eq!(e.kind, Kind::UnknownDependency);
    assert_at(&e, 5, 18);
    assert_eq!(
        e.message,
        "connection `hw` depends on unknown connection `qoutes`"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `quotes`?"));
}

#[test]
fn unknown_dependency_far_from_any_lists_the_connections() {
    let e = one_error(
        "connections:\n  a: { endpoint: tcp://h:1 }\n  b: { endpoint: tcp://h:2, start_when: { up: zebra } }\n",
    );
    assert_at(&e, 3, 47);
    assert_eq!(
        e.help.as_deref(),
        Some("declare `zebra` under `connections`, or remove it from the rule (known: a, b)")
    );
}

#[test]
fn self_dependency_points_at_the_mention() {
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    start_when: { any: [ { up: b }, { up: a } ] }\n  b: { endpoint: tcp://h:2 }\n",
    );
    assert_eq!(e.kind, Kind::SelfDependency);
    assert_at(&e, 4, 43);
    assert_eq!(e.message, "connection `a` depends on itself");
    assert_eq!(
        e.help.as_deref(),
        Some("remove `a` from its own start rule")
    );
}

#[test]
fn cycle_reports_its_path_and_every_hop() {
    let yaml = "connections:
  a:
    endpoint: tcp://h:1
    depends_on: [b]
  b:
    endpoint: tcp://h:2
    start_when: { all: [ { up: c } ] }
  c:
    endpoint: tcp://h:3
    start_when: { any: [ x0, a ] }
  x0: { endpoint: tcp://h:4 }
";
    let e = one_error(yaml);
    assert_eq!(e.kind, Kind::Cycle);
    assert_at(&e, 4, 18);
    assert_eq!(
        e.message,
        "dependency cycle a -> b -> c -> a: none of these connections can ever start"
    );
    assert_eq!(e.help.as_deref(), Some("remove one of these dependencies"));
    let hops: Vec<(u32, u32, &str)> = e
        .labels
        .iter()
        .map(|l| (l.location.line, l.location.column, l.text.as_str()))
        .collect();
    assert_eq!(
        hops,
        [
            (4, 18, "`a` depends on `b` here"),
            (7, 32, "`b` depends on `c` here"),
            (10, 30, "`c` depends on `a` here"),
        ]
    );
}

#[test]
fn empty_any_never_holds() {
    let e = one_error("connections:\n  a: { endpoint: tcp://h:1, start_when: { any: [] } }\n");
    assert_eq!(e.kind, Kind::EmptyAny);
    assert_at(&e, 2, 48);
    assert_eq!(
        e.help.as_deref(),
        Some("list at least one connection in it, or remove it")
    );
}

#[test]
fn depends_on_and_start_when_together_conflict() {
    let e = one_error(
        "connections:\n  a: { endpoint: tcp://h:1 }\n  b:\n    endpoint: tcp://h:2\n    depends_on: [a]\n    start_when: { up: a }\n",
    );
    assert_eq!(e.kind, Kind::Conflict);
    assert_at(&e, 6, 17);
    assert_eq!(e.labels[0].location.line, 5);
}

#[test]
fn empty_file_comment_only_file_and_missing_connections() {
    for (yaml, line) in [("", 1), ("# nothing here\n\n", 3)] {
        let e = one_error(yaml);
        assert_eq!(e.kind, Kind::Empty);
        assert_eq!(e.location.expect("located").line, line);
        assert_eq!(
            e.message,
            "the file is empty: expected a mapping with `connections`"
        );
    }
    let e = one_error("# header\ncontrol: { socket: /tmp/x.sock }\n");
    assert_eq!(e.kind, Kind::Empty);
    assert_at(&e, 2, 1);
    assert_eq!(
        e.message,
        "the file declares no connections: `connections` is missing"
    );
    let e = one_error("connections: {}\n");
    assert_eq!(e.kind, Kind::Empty);
    assert_at(&e, 1, 14);
    assert_eq!(
        e.message,
        "`connections` is empty: declare at least one connection"
    );
}

#[test]
fn yaml_syntax_error_is_located() {
    let e = one_error("connections:\n  a: { endpoint: tcp://h:1\n  b: 2\n");
    assert_eq!(e.kind, Kind::Syntax);
    let at = e.location.expect("located");
    assert_eq!(at.line, 3);
    assert!(e.message.starts_with("invalid YAML: "), "{}", e.message);
    // A tab may not indent a block; the parser points just past it.
    let e = one_error("connections:\n\ta: 1\n");
    assert_eq!(e.kind, Kind::Syntax);
    assert_at(&e, 2, 2);
}

#[test]
fn an_alias_inside_its_own_anchor_is_said_in_our_words_at_its_place() {
    for (yaml, line, column, name) in [
        (
            "a: &a [*a]\nconnections: { x: { endpoint: tcp://h:1 } }\n",
            1,
            8,
            "a",
        ),
        (
            "connections:\n  x: { endpoint: tcp://h:1, tags: &t [a, *t] }\n",
            2,
            42,
            "t",
        ),
        (
            "connections:\n  x: &self\n    endpoint: tcp://h:1\n    kind: *self\n",
            4,
            11,
            "self",
        ),
    ] {
        let e = one_error(yaml);
        assert_eq!(e.kind, Kind::Syntax, "{yaml}");
        assert_at(&e, line, column);
        assert_eq!(
            e.message,
            format!(
                "the alias `*{name}` is inside the anchor `&{name}` it names, so its value would contain itself"
            )
        );
        assert_eq!(
            e.help.as_deref(),
            Some(
                "an alias (`*name`) may only name an anchor (`&name`) that ends before it: write the value out, or move the anchor"
            )
        );
    }
}

#[test]
fn alias_bomb_is_refused_with_a_clear_message() {
    let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("b{}", i - 1)
        };
        let refs = vec![format!("*{prev}"); 10].join(", ");
        yaml.push_str(&format!("b{i}: &b{i} [{refs}]\n"));
    }
    yaml.push_str("connections: { a: { endpoint: tcp://h:1 } }\n");
    let e = one_error(&yaml);
    assert_eq!(e.kind, Kind::Budget);
    assert!(e.location.is_some());
    assert!(
        e.message
            .starts_with("aliases (`*name`) in the file expand to more than 100,000 YAML items"),
        "{}",
        e.message
    );
    assert!(
        e.help
            .as_deref()
            .is_some_and(|h| h.contains("anchors and aliases"))
    );
}

#[test]
fn unset_variable_is_named_and_located_inside_the_value() {
    let e = one_error(
        "control:\n  socket: /run/${LINESMAN_TEST_UNSET}/x.sock\nconnections: { a: { endpoint: tcp://h:1 } }\n",
    );
    assert_eq!(e.kind, Kind::UnsetVariable);
    assert_at(&e, 2, 16);
    assert_eq!(
        e.location.expect("located").len,
        "${LINESMAN_TEST_UNSET}".len()
    );
    assert_eq!(
        e.message,
        "environment variable `LINESMAN_TEST_UNSET` is not set (used in `control.socket`)"
    );
}

#[test]
fn unreadable_file_is_an_io_error_without_location() {
    let path = std::env::temp_dir().join(format!(
        "linesman-config-{}-missing.yaml",
        std::process::id()
    ));
    let errors = load(&path).expect_err("no such file");
    let e = &errors.errors()[0];
    assert_eq!(e.kind, Kind::Io);
    assert_eq!(e.location, None);
    assert!(
        e.message
            .starts_with(&format!("cannot read {}", path.display()))
    );
}

#[test]
fn every_error_of_a_file_in_one_pass() {
    let errors = invalid(
        "connections:
  quotes:
    endpiont: tcp://127.0.0.1:7001
    endpoint: tcp://127.0.0.1:7001
  audit:
    endpoint: tcp://127.0.0.1:7004
    connect_timeout: soon
    depends_on: [qoutes]
",
    );
    let found: Vec<(Kind, u32, u32)> = errors
        .iter()
        .map(|e| {
            let at = e.location.expect("located");
            (e.kind, at.line, at.column)
        })
        .collect();
    assert_eq!(
        found,
        [
            (Kind::UnknownKey, 3, 5),
            (Kind::InvalidDuration, 7, 22),
            (Kind::UnknownDependency, 8, 18),
        ]
    );
}

#[test]
fn marked_replies_need_the_flags_field() {
    let e = one_error(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    framing: { flags: false, id: always }\n",
    );
    assert_eq!(e.kind, Kind::Conflict);
    assert_at(&e, 4, 14);
    assert_eq!(
        e.message,
        "`connections.a.framing` has `flags: false` with `replies: marked` (the default), which needs the flags field to mark replies"
    );
    assert!(
        e.help
            .as_deref()
            .is_some_and(|h| h.contains("`replies: by_id`")),
        "{:?}",
        e.help
    );
}

#[test]
fn replies_is_marked_or_by_id() {
    let e =
        one_error("connections:\n  a:\n    endpoint: tcp://h:1\n    framing: { replies: by-id }\n");
    assert_at(&e, 4, 25);
    assert!(e.message.contains("`marked`"), "{}", e.message);
    assert!(e.message.contains("`by_id`"), "{}", e.message);
}

#[test]
fn connection_names_must_be_visible_and_short() {
    let cases: [(&str, u32, &str); 4] = [
        (
            "connections:\n  ok: { endpoint: tcp://h:1 }\n  \"\": { endpoint: tcp://h:2 }\n",
            3,
            "connection name `` is empty",
        ),
        (
            "connections:\n  \"quo tes\": { endpoint: tcp://h:1 }\n",
            2,
            "connection name `quo tes` contains whitespace (U+0020)",
        ),
        (
            "connections:\n  \"a\\tb\": { endpoint: tcp://h:1 }\n",
            2,
            "connection name `a\\tb` contains whitespace (U+0009)",
        ),
        (
            "connections:\n  \"bell\\a\": { endpoint: tcp://h:1 }\n",
            2,
            "connection name `bell\\u{7}` contains a control character (U+0007)",
        ),
    ];
    for (yaml, line, message) in cases {
        let e = one_error(yaml);
        assert_eq!(e.kind, Kind::InvalidName, "{yaml}");
        assert_at(&e, line, 3);
        assert_eq!(e.message, message);
        assert!(
            e.help
                .as_deref()
                .is_some_and(|h| h.contains("1 to 128 characters")),
            "{:?}",
            e.help
        );
    }
    let long = format!(
        "connections:\n  {}: {{ endpoint: tcp://h:1 }}\n",
        "n".repeat(129)
    );
    let e = one_error(&long);
    assert_eq!(e.kind, Kind::InvalidName);
    assert!(
        e.message.ends_with("is 129 characters long, more than 128"),
        "{}",
        e.message
    );
    // The longest allowed name passes.
    crate::valid(&format!(
        "connections:\n  {}: {{ endpoint: tcp://h:1 }}\n",
        "n".repeat(128)
    ));
}

#[test]
fn a_control_socket_or_endpoint_with_a_control_character_or_too_long_a_path_is_refused_where_it_is_written()
 {
    let e = one_error(
        "control:\n  socket: \"/run/x\\e[2J.sock\"\nconnections:\n  a: { endpoint: tcp://h:1 }\n",
    );
    assert_eq!(e.kind, Kind::InvalidValue);
    assert_at(&e, 2, 11);
    assert_eq!(
        e.message,
        "`control.socket` `/run/x\\u{1b}[2J.sock` has a control or invisible character"
    );
    let e = one_error("connections:\n  a: { endpoint: \"unix:///run/x\\n.sock\" }\n");
    assert_eq!(e.kind, Kind::InvalidEndpoint);
    assert_at(&e, 2, 18);
    assert!(
        e.message.contains(
            "`unix:///run/x\\u{a}.sock` has a control or invisible character in its unix path"
        ),
        "{}",
        e.message
    );
    // A path no Unix socket address holds: every connect would fail.
    let long = format!("/run/{}.sock", "s".repeat(110));
    let e = one_error(&format!(
        "connections:\n  a: {{ endpoint: \"unix://{long}\" }}\n"
    ));
    assert_eq!(e.kind, Kind::InvalidEndpoint);
    assert_at(&e, 2, 18);
    assert!(
        e.message.contains(&format!(
            "has a unix path of {} bytes; a Unix socket path can be at most 107",
            long.len()
        )),
        "{}",
        e.message
    );
}

#[test]
fn a_kind_or_tag_with_a_control_or_invisible_character_is_refused_where_it_is_written() {
    // Shown as they are by `graph`, `status` and the filters' errors.
    let errors = crate::invalid(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    kind: \"k\\e[31m\"\n    tags: [ok, \"t\u{202e}1\"]\n",
    );
    let said = placed(&errors);
    assert_eq!(
        said,
        [
            (
                4,
                11,
                "`connections.a.kind` `k\\u{1b}[31m` has a control or invisible character"
            ),
            (
                5,
                16,
                "`connections.a.tags` `t\\u{202e}1` has a control or invisible character"
            ),
        ],
        "{errors}"
    );
    crate::valid(
        "connections:\n  a: { endpoint: tcp://h:1, kind: \"feed eu\", tags: [\u{884c}\u{60c5}] }\n",
    );
}

#[test]
fn the_help_of_an_unknown_key_lists_every_key_the_place_takes() {
    // It was cut in its middle at 200 characters: `write_tim…lay`, and the
    // keys between never shown (hostile run of 2026-12-03, F9).
    let e = one_error("connections:\n  a: { endpoint: tcp://h:1, foo: 1 }\n");
    let help = e.help.expect("a help");
    assert!(!help.contains('…'), "{help}");
    for key in [
        "endpoint",
        "write_timeout",
        "frame_timeout",
        "heartbeat",
        "nodelay",
        "max_frame",
    ] {
        assert!(help.contains(key), "{key} in {help}");
    }
}

#[test]
fn a_kind_or_tag_with_a_comma_is_refused_where_it_is_written() {
    // Filters take them as comma lists: `--tag a,b` could not name the tag
    // `a,b` (hostile run of 2026-12-03, F6).
    let errors = crate::invalid(
        "connections:\n  a:\n    endpoint: tcp://h:1\n    kind: \"x,y\"\n    tags: [ok, \"a,b\"]\n",
    );
    let said = placed(&errors);
    assert_eq!(
        said,
        [
            (4, 11, "`connections.a.kind` `x,y` has a comma"),
            (5, 16, "`connections.a.tags` `a,b` has a comma"),
        ],
        "{errors}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e.help.as_deref().is_some_and(|h| h.contains("comma lists"))),
        "{errors}"
    );
}

#[test]
fn a_control_socket_too_long_to_bind_is_refused_where_it_is_written() {
    let long = format!("/run/{}.sock", "s".repeat(110));
    let e = one_error(&format!(
        "control:\n  socket: {long}\nconnections:\n  a: {{ endpoint: tcp://h:1 }}\n"
    ));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 2, 11);
    assert_eq!(
        e.message,
        format!(
            "`control.socket` is {} bytes long; a Unix socket path can be at most 107",
            long.len()
        )
    );
    // The longest that can be bound passes.
    let fits = format!("/run/{}", "s".repeat(102));
    assert_eq!(fits.len(), 107);
    crate::valid(&format!(
        "control:\n  socket: {fits}\nconnections:\n  a: {{ endpoint: tcp://h:1 }}\n"
    ));
}
