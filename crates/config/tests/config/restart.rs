//! Every restart policy setting with a value the supervisor refuses: the
//! config says it in its own words at the value's line and column, whether
//! the value is refused on its own (phase one) or clashes with another
//! (phase two, after merging over `defaults`).

use linesman_config::ConfigErrorKind as Kind;

use crate::{assert_at, invalid, one_error};

/// A file with connection `a` whose `restart:` is `restart` (one line).
fn with_restart(restart: &str) -> String {
    format!("connections:\n  a:\n    endpoint: tcp://h:1\n    restart: {restart}\n")
}

#[test]
fn zero_initial_delay_is_out_of_range() {
    let e = one_error(&with_restart("{ backoff: { initial: 0s } }"));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 36);
    assert_eq!(
        e.message,
        "`connections.a.restart.backoff.initial` must be greater than zero"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("use a duration such as `100ms` or `5s`")
    );
}

#[test]
fn zero_max_delay_is_out_of_range() {
    let e = one_error(&with_restart("{ backoff: { max: 0s } }"));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 32);
    assert_eq!(
        e.message,
        "`connections.a.restart.backoff.max` must be greater than zero"
    );
}

#[test]
fn max_above_a_day_is_out_of_range_at_the_max_value() {
    let e = one_error(&with_restart("{ backoff: { max: 2d } }"));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 32);
    assert_eq!(
        e.message,
        "`connections.a.restart.backoff.max` must be at most 1day, found 2days"
    );
    assert!(
        e.help
            .as_deref()
            .is_some_and(|h| h.contains("`restart.policy: never`")),
        "{:?}",
        e.help
    );
}

#[test]
fn a_max_of_exactly_a_day_is_accepted() {
    crate::valid(&with_restart("{ backoff: { max: 1d } }"));
}

#[test]
fn zero_multiplier_is_out_of_range() {
    // (A non-finite number never gets here: the YAML parser refuses it.)
    let e = one_error(&with_restart("{ backoff: { multiplier: 0 } }"));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 39);
    assert_eq!(
        e.message,
        "`connections.a.restart.backoff.multiplier` must be at least 1.0, found 0"
    );
}

#[test]
fn negative_jitter_is_out_of_range() {
    let e = one_error(&with_restart("{ backoff: { jitter: -0.5 } }"));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 35);
    assert_eq!(
        e.message,
        "`connections.a.restart.backoff.jitter` must be between 0.0 and 1.0, found -0.5"
    );
}

#[test]
fn zero_max_restarts_says_at_least_one() {
    let e = one_error(&with_restart("{ intensity: { max_restarts: 0 } }"));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 43);
    assert_eq!(
        e.message,
        "`connections.a.restart.intensity.max_restarts` must be at least 1, found 0"
    );
}

#[test]
fn zero_window_is_out_of_range() {
    let e = one_error(&with_restart("{ intensity: { window: 0s } }"));
    assert_eq!(e.kind, Kind::OutOfRange);
    assert_at(&e, 4, 37);
    assert_eq!(
        e.message,
        "`connections.a.restart.intensity.window` must be greater than zero"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("use a duration such as `100ms` or `5s`")
    );
}

#[test]
fn initial_above_max_in_one_layer_points_at_initial() {
    let e = one_error(&with_restart("{ backoff: { initial: 1500ms, max: 1s } }"));
    assert_eq!(e.kind, Kind::Conflict);
    assert_at(&e, 4, 36);
    assert_eq!(
        e.message,
        "`connections.a.restart`: backoff initial delay 1s 500ms is larger than max 1s"
    );
    assert_eq!(e.help.as_deref(), Some("lower `initial` or raise `max`"));
}

#[test]
fn initial_above_the_built_in_max_points_at_initial() {
    let e = one_error(&with_restart("{ backoff: { initial: 1m } }"));
    assert_eq!(e.kind, Kind::Conflict);
    assert_at(&e, 4, 36);
    assert_eq!(
        e.message,
        "`connections.a.restart`: backoff initial delay 1m is larger than max 30s"
    );
}

#[test]
fn every_bad_value_is_reported_once_even_where_a_connection_overrides_it() {
    // `defaults` has a bad jitter and a bad window; `a` overrides the
    // jitter, `b` inherits both: each bad value is said once, at its place.
    let errors = invalid(
        "defaults:\n  restart: { backoff: { jitter: 2 }, intensity: { window: 0s } }\nconnections:\n  a: { endpoint: tcp://h:1, restart: { backoff: { jitter: 0.1 } } }\n  b: { endpoint: tcp://h:2 }\n",
    );
    let said: Vec<(&str, u32, u32)> = errors
        .errors()
        .iter()
        .map(|e| {
            let at = e.location.expect("located");
            (e.message.as_str(), at.line, at.column)
        })
        .collect();
    assert_eq!(
        said,
        [
            (
                "`defaults.restart.backoff.jitter` must be between 0.0 and 1.0, found 2",
                2,
                33
            ),
            (
                "`defaults.restart.intensity.window` must be greater than zero",
                2,
                59
            ),
        ]
    );
}
