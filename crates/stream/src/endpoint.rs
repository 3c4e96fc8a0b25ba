//! [`Endpoint`]: where a connection goes, written `tcp://host:port` or
//! `unix:///absolute/path`, parsed strictly and displayed so that it parses
//! back to the same value.

use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::str::FromStr;

/// The forms an endpoint may take, quoted in every [`EndpointError`].
pub(crate) const ACCEPTED_FORMS: &str = "tcp://host:port, tcp://[v6]:port or unix:///absolute/path";

/// Where a connection goes.
///
/// Parse one with [`str::parse`]; [`Display`](fmt::Display) writes it back in
/// the same form, so `endpoint.to_string().parse()` gives `endpoint` again.
///
/// ```
/// use linesman_stream::Endpoint;
///
/// let tcp: Endpoint = "tcp://localhost:7001".parse().unwrap();
/// assert_eq!(tcp, Endpoint::Tcp { host: "localhost".into(), port: 7001 });
///
/// let v6: Endpoint = "tcp://[::1]:7001".parse().unwrap();
/// assert_eq!(v6, Endpoint::Tcp { host: "::1".into(), port: 7001 });
/// assert_eq!(v6.to_string(), "tcp://[::1]:7001");
///
/// let unix: Endpoint = "unix:///run/orders.sock".parse().unwrap();
/// assert_eq!(unix, Endpoint::Unix("/run/orders.sock".into()));
///
/// assert!("localhost:7001".parse::<Endpoint>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A TCP peer. `host` is a DNS name (resolved at every connect), an IPv4
    /// address, or an IPv6 address written without brackets (`::1`).
    Tcp {
        /// Host name or IP address, without brackets.
        host: String,
        /// Port, 1 to 65535.
        port: u16,
    },
    /// A Unix stream socket at an absolute path.
    Unix(PathBuf),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            Endpoint::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.trim().is_empty() {
            return Err(EndpointError::Empty);
        }
        let owned = || input.to_owned();
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(EndpointError::MissingScheme { input: owned() });
        };
        if scheme.eq_ignore_ascii_case("tcp") {
            parse_tcp(input, rest)
        } else if scheme.eq_ignore_ascii_case("unix") {
            if rest.chars().any(crate::is_hidden) {
                Err(EndpointError::ControlInUnixPath { input: owned() })
            } else if rest.len() > MAX_UNIX_PATH {
                Err(EndpointError::UnixPathTooLong {
                    input: owned(),
                    len: rest.len(),
                })
            } else if rest.starts_with('/') {
                Ok(Endpoint::Unix(PathBuf::from(rest)))
            } else {
                Err(EndpointError::RelativeUnixPath { input: owned() })
            }
        } else if scheme.is_empty() {
            Err(EndpointError::MissingScheme { input: owned() })
        } else {
            Err(EndpointError::UnknownScheme {
                input: owned(),
                scheme: scheme.to_owned(),
            })
        }
    }
}

/// Parses the part of a `tcp://` endpoint after the scheme.
fn parse_tcp(input: &str, rest: &str) -> Result<Endpoint, EndpointError> {
    let owned = || input.to_owned();
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let Some((v6, after)) = bracketed.split_once(']') else {
            return Err(EndpointError::InvalidIpv6 {
                input: owned(),
                host: bracketed.to_owned(),
            });
        };
        if v6.parse::<Ipv6Addr>().is_err() {
            return Err(EndpointError::InvalidIpv6 {
                input: owned(),
                host: v6.to_owned(),
            });
        }
        let Some(port) = after.strip_prefix(':') else {
            return Err(EndpointError::MissingPort { input: owned() });
        };
        (v6, port)
    } else {
        match rest.matches(':').count() {
            0 if rest.is_empty() => return Err(EndpointError::EmptyHost { input: owned() }),
            0 => return Err(EndpointError::MissingPort { input: owned() }),
            1 => {}
            _ => return Err(EndpointError::UnbracketedIpv6 { input: owned() }),
        }
        let Some((host, port)) = rest.split_once(':') else {
            return Err(EndpointError::MissingPort { input: owned() });
        };
        if host.is_empty() {
            return Err(EndpointError::EmptyHost { input: owned() });
        }
        if !is_host_name(host) {
            return Err(EndpointError::InvalidHost {
                input: owned(),
                host: host.to_owned(),
            });
        }
        (host, port)
    };
    if port.is_empty() {
        return Err(EndpointError::MissingPort { input: owned() });
    }
    match port.parse::<u16>() {
        Ok(number) if number != 0 && port_is_digits(port) => Ok(Endpoint::Tcp {
            host: host.to_owned(),
            port: number,
        }),
        _ => Err(EndpointError::InvalidPort {
            input: owned(),
            port: port.to_owned(),
        }),
    }
}

/// Only ASCII digits: refuses `+80`, which `u16::from_str` accepts, so that
/// every accepted endpoint displays as it was written.
fn port_is_digits(port: &str) -> bool {
    port.bytes().all(|b| b.is_ascii_digit())
}

/// A DNS name or IPv4 address: letters, digits, `-`, `_` and `.`.
fn is_host_name(host: &str) -> bool {
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// An endpoint string that is not one of the accepted forms
/// (`tcp://host:port`, `tcp://[v6]:port`, `unix:///absolute/path`).
///
/// Every message shows the input and the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The input was empty or only whitespace.
    #[error("endpoint is empty; expected {ACCEPTED_FORMS}")]
    Empty,
    /// The input has no `scheme://` prefix.
    #[error("endpoint `{input}` has no scheme; expected {ACCEPTED_FORMS}")]
    MissingScheme {
        /// The input as given.
        input: String,
    },
    /// The scheme is neither `tcp` nor `unix`.
    #[error("endpoint `{input}` has unknown scheme `{scheme}`; expected {ACCEPTED_FORMS}")]
    UnknownScheme {
        /// The input as given.
        input: String,
        /// The scheme found before `://`.
        scheme: String,
    },
    /// A `tcp://` endpoint without a host.
    #[error("endpoint `{input}` has an empty host; expected {ACCEPTED_FORMS}")]
    EmptyHost {
        /// The input as given.
        input: String,
    },
    /// A host that is neither a DNS name nor an IP address.
    #[error(
        "endpoint `{input}` has invalid host `{host}` (a host name may hold only letters, digits, `-`, `_` and `.`); expected {ACCEPTED_FORMS}"
    )]
    InvalidHost {
        /// The input as given.
        input: String,
        /// The host part that was refused.
        host: String,
    },
    /// An IPv6 address written without brackets.
    #[error("endpoint `{input}` has an IPv6 address without brackets; write it as tcp://[v6]:port")]
    UnbracketedIpv6 {
        /// The input as given.
        input: String,
    },
    /// The text between `[` and `]` is not an IPv6 address.
    #[error(
        "endpoint `{input}` has invalid IPv6 address `{host}` between brackets; expected {ACCEPTED_FORMS}"
    )]
    InvalidIpv6 {
        /// The input as given.
        input: String,
        /// The text between the brackets.
        host: String,
    },
    /// A `tcp://` endpoint without `:port`.
    #[error("endpoint `{input}` has no port; expected {ACCEPTED_FORMS}")]
    MissingPort {
        /// The input as given.
        input: String,
    },
    /// A port that is not a number from 1 to 65535.
    #[error(
        "endpoint `{input}` has invalid port `{port}` (expected a number from 1 to 65535); expected {ACCEPTED_FORMS}"
    )]
    InvalidPort {
        /// The input as given.
        input: String,
        /// The port text that was refused.
        port: String,
    },
    /// A `unix://` endpoint whose path is empty or not absolute.
    #[error(
        "endpoint `{input}` has a relative or empty unix path; write unix:///absolute/path (three slashes)"
    )]
    RelativeUnixPath {
        /// The input as given.
        input: String,
    },
    /// A `unix://` path with a [hidden](crate::is_hidden) character (an
    /// escape, a newline, a bell, a direction override...): it would reach
    /// every log line and table that names the endpoint, where it could
    /// rewrite what the operator sees, and could not be typed back. The
    /// message writes the character out.
    #[error(
        "endpoint `{}` has a control or invisible character in its unix path; give the socket a name without one",
        crate::escape_hidden(.input)
    )]
    ControlInUnixPath {
        /// The input as given.
        input: String,
    },
    /// A `unix://` path longer than a Unix socket address holds
    /// ([`MAX_UNIX_PATH`] bytes): every connect would fail.
    #[error(
        "endpoint `{input}` has a unix path of {len} bytes; a Unix socket path can be at most {MAX_UNIX_PATH}; use a shorter path"
    )]
    UnixPathTooLong {
        /// The input as given.
        input: String,
        /// The path's length in bytes.
        len: usize,
    },
}

/// The longest path a Unix socket can be bound at or connected to, in
/// bytes: Linux's `sun_path` holds 108 with the closing NUL.
pub const MAX_UNIX_PATH: usize = 107;
