//! Endpoint parsing: every accepted form, every class of error with what its
//! message shows, and the Display/FromStr round trip.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use linesman_stream::{Endpoint, EndpointError};
use proptest::prelude::*;

fn tcp(host: &str, port: u16) -> Endpoint {
    Endpoint::Tcp {
        host: host.into(),
        port,
    }
}

#[test]
fn accepted_forms_parse_and_display_canonically() {
    let cases = [
        (
            "tcp://localhost:7001",
            tcp("localhost", 7001),
            "tcp://localhost:7001",
        ),
        (
            "tcp://127.0.0.1:1",
            tcp("127.0.0.1", 1),
            "tcp://127.0.0.1:1",
        ),
        ("tcp://[::1]:65535", tcp("::1", 65535), "tcp://[::1]:65535"),
        (
            "tcp://[2001:db8::8a2e:370:7334]:80",
            tcp("2001:db8::8a2e:370:7334", 80),
            "tcp://[2001:db8::8a2e:370:7334]:80",
        ),
        (
            "tcp://feed-1.prod_eu.example.com:443",
            tcp("feed-1.prod_eu.example.com", 443),
            "tcp://feed-1.prod_eu.example.com:443",
        ),
        // The scheme is case-insensitive; Display writes it in lower case.
        ("TCP://host:9", tcp("host", 9), "tcp://host:9"),
        (
            "unix:///run/orders.sock",
            Endpoint::Unix(PathBuf::from("/run/orders.sock")),
            "unix:///run/orders.sock",
        ),
        (
            "Unix:///x",
            Endpoint::Unix(PathBuf::from("/x")),
            "unix:///x",
        ),
    ];
    for (input, expected, displayed) in cases {
        let parsed: Endpoint = input
            .parse()
            .unwrap_or_else(|e| panic!("`{input}` should parse: {e}"));
        assert_eq!(parsed, expected, "{input}");
        assert_eq!(parsed.to_string(), displayed, "{input}");
    }
}

#[test]
fn every_error_class_is_typed() {
    use EndpointError as E;
    type Check = fn(&EndpointError) -> bool;
    let cases: Vec<(&str, Check)> = vec![
        ("", |e| matches!(e, E::Empty)),
        ("   ", |e| matches!(e, E::Empty)),
        ("localhost:7001", |e| matches!(e, E::MissingScheme { .. })),
        ("/run/x.sock", |e| matches!(e, E::MissingScheme { .. })),
        ("unix:/run/x.sock", |e| matches!(e, E::MissingScheme { .. })),
        ("://host:1", |e| matches!(e, E::MissingScheme { .. })),
        (
            "http://host:80",
            |e| matches!(e, E::UnknownScheme { scheme, .. } if scheme == "http"),
        ),
        ("tcp://", |e| matches!(e, E::EmptyHost { .. })),
        ("tcp://:7001", |e| matches!(e, E::EmptyHost { .. })),
        (
            "tcp://ho st:1",
            |e| matches!(e, E::InvalidHost { host, .. } if host == "ho st"),
        ),
        ("tcp://user@host:1", |e| matches!(e, E::InvalidHost { .. })),
        ("tcp://host/path:1", |e| matches!(e, E::InvalidHost { .. })),
        ("tcp://::1:7001", |e| matches!(e, E::UnbracketedIpv6 { .. })),
        ("tcp://2001:db8::1", |e| {
            matches!(e, E::UnbracketedIpv6 { .. })
        }),
        ("tcp://[::1:7001", |e| matches!(e, E::InvalidIpv6 { .. })),
        (
            "tcp://[not-v6]:1",
            |e| matches!(e, E::InvalidIpv6 { host, .. } if host == "not-v6"),
        ),
        ("tcp://[127.0.0.1]:1", |e| {
            matches!(e, E::InvalidIpv6 { .. })
        }),
        ("tcp://host", |e| matches!(e, E::MissingPort { .. })),
        ("tcp://host:", |e| matches!(e, E::MissingPort { .. })),
        ("tcp://[::1]", |e| matches!(e, E::MissingPort { .. })),
        ("tcp://[::1]7001", |e| matches!(e, E::MissingPort { .. })),
        ("tcp://[::1]:", |e| matches!(e, E::MissingPort { .. })),
        (
            "tcp://host:0",
            |e| matches!(e, E::InvalidPort { port, .. } if port == "0"),
        ),
        ("tcp://host:65536", |e| matches!(e, E::InvalidPort { .. })),
        ("tcp://host:+80", |e| matches!(e, E::InvalidPort { .. })),
        ("tcp://host:http", |e| matches!(e, E::InvalidPort { .. })),
        ("tcp://host:80/", |e| matches!(e, E::InvalidPort { .. })),
        ("tcp://[::1]:-1", |e| matches!(e, E::InvalidPort { .. })),
        ("unix://run/x.sock", |e| {
            matches!(e, E::RelativeUnixPath { .. })
        }),
        ("unix://", |e| matches!(e, E::RelativeUnixPath { .. })),
        ("unix:///run/\u{1b}[2Jx.sock", |e| {
            matches!(e, E::ControlInUnixPath { .. })
        }),
        ("unix:///run/x\n.sock", |e| {
            matches!(e, E::ControlInUnixPath { .. })
        }),
        ("unix://\u{9b}31m/x.sock", |e| {
            matches!(e, E::ControlInUnixPath { .. })
        }),
        ("unix:///run/x\u{202e}kcos.exe", |e| {
            matches!(e, E::ControlInUnixPath { .. })
        }),
    ];
    let too_long = format!("unix:///{}", "s".repeat(107));
    let error = too_long
        .parse::<Endpoint>()
        .expect_err("108 bytes is too long");
    assert!(
        matches!(error, E::UnixPathTooLong { len: 108, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("108 bytes; a Unix socket path can be at most 107"),
        "{error}"
    );
    let fits = format!("unix:///{}", "s".repeat(106));
    assert!(fits.parse::<Endpoint>().is_ok(), "107 bytes fit");
    for (input, is_expected) in cases {
        let error = input
            .parse::<Endpoint>()
            .expect_err(&format!("`{input}` must be refused"));
        assert!(is_expected(&error), "`{input}` gave {error:?}");
    }
}

#[test]
fn error_messages_show_the_input_and_the_accepted_forms() {
    let all_forms = "tcp://host:port, tcp://[v6]:port or unix:///absolute/path";
    for input in [
        "localhost:7001",
        "http://host:80",
        "tcp://:7001",
        "tcp://ho st:1",
        "tcp://[zz]:1",
        "tcp://host",
        "tcp://host:99999",
    ] {
        let message = input.parse::<Endpoint>().expect_err("refused").to_string();
        assert!(message.contains(&format!("`{input}`")), "{message}");
        assert!(message.contains(all_forms), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
    // These two name the one form that fixes them.
    let v6 = "tcp://::1:7001"
        .parse::<Endpoint>()
        .expect_err("refused")
        .to_string();
    assert!(
        v6.contains("`tcp://::1:7001`") && v6.contains("tcp://[v6]:port"),
        "{v6}"
    );
    let unix = "unix://run/x"
        .parse::<Endpoint>()
        .expect_err("refused")
        .to_string();
    assert!(
        unix.contains("`unix://run/x`") && unix.contains("unix:///absolute/path"),
        "{unix}"
    );
    let empty = "".parse::<Endpoint>().expect_err("refused").to_string();
    assert!(empty.contains(all_forms), "{empty}");
    // The port and the scheme that were refused are named.
    let port = "tcp://host:99999"
        .parse::<Endpoint>()
        .expect_err("refused")
        .to_string();
    assert!(port.contains("invalid port `99999`"), "{port}");
    let scheme = "http://host:80"
        .parse::<Endpoint>()
        .expect_err("refused")
        .to_string();
    assert!(scheme.contains("unknown scheme `http`"), "{scheme}");
}

fn any_endpoint() -> impl Strategy<Value = Endpoint> {
    let name = "[a-zA-Z0-9_][a-zA-Z0-9_-]{0,12}(\\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,12}){0,3}";
    let host = prop_oneof![
        name.prop_map(String::from),
        any::<Ipv4Addr>().prop_map(|a| a.to_string()),
        any::<Ipv6Addr>().prop_map(|a| a.to_string()),
    ];
    prop_oneof![
        (host, 1..=u16::MAX).prop_map(|(host, port)| Endpoint::Tcp { host, port }),
        "(/[a-zA-Z0-9 ._:@-]{1,16}){1,4}".prop_map(|p| Endpoint::Unix(PathBuf::from(p))),
    ]
}

proptest! {
    #[test]
    fn display_then_parse_gives_the_same_endpoint(endpoint in any_endpoint()) {
        let text = endpoint.to_string();
        let parsed: Endpoint = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&parsed, &endpoint);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn any_input_parses_or_is_refused_without_panic(input in "\\PC{0,40}") {
        if let Ok(endpoint) = input.parse::<Endpoint>() {
            let again: Endpoint = endpoint.to_string().parse().map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
            prop_assert_eq!(again, endpoint);
        }
    }

    #[test]
    fn tcp_like_input_parses_or_is_refused_without_panic(input in "(tcp|unix)://[\\[\\]:a-f0-9./]{0,24}") {
        if let Ok(endpoint) = input.parse::<Endpoint>() {
            let again: Endpoint = endpoint.to_string().parse().map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
            prop_assert_eq!(again, endpoint);
        }
    }
}

#[test]
fn a_control_character_in_a_unix_path_is_refused_and_written_out() {
    let message = "unix:///run/\u{1b}]0;owned\u{7}.sock"
        .parse::<Endpoint>()
        .expect_err("refused")
        .to_string();
    assert!(
        message.contains(
            "`unix:///run/\\u{1b}]0;owned\\u{7}.sock` has a control or invisible character"
        ),
        "{message}"
    );
    assert!(!message.chars().any(char::is_control), "{message:?}");
    // A path with any other character is a path.
    assert!("unix:///run/caf\u{e9} x.sock".parse::<Endpoint>().is_ok());
}
