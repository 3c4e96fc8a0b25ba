//! Phase one: the located YAML tree read into raw structs that mirror the
//! file ([`RawFile`]), every key checked against the keys valid at its
//! place, every scalar read into its type. Problems are collected, never
//! returned early; a value that failed to read is left out.

mod name;
mod restart;
mod rule;
mod settings;

use std::time::Duration;

use linesman_stream::Endpoint;

pub(crate) use rule::RawRule;
pub(crate) use settings::RawSettings;

use crate::error::{ConfigError, ConfigErrorKind as Kind};
use crate::tree::{Node, Value};
use crate::walk::{Duplicates, Sp, Walker};
use settings::{SETTING_KEYS, read_settings};

const TOP_KEYS: &[&str] = &[
    "defaults",
    "control",
    "connections",
    "shutdown_timeout",
    "max_concurrent_connects",
];
const CONTROL_KEYS: &[&str] = &["socket"];
const CONNECTION_ONLY_KEYS: &[&str] = &["endpoint", "depends_on", "start_when"];

const NOT_IN_DEFAULTS: &[(&str, &str)] = &[
    (
        "endpoint",
        "set `endpoint` in each connection: every connection has its own",
    ),
    (
        "depends_on",
        "set `depends_on` in each connection that needs it",
    ),
    (
        "start_when",
        "set `start_when` in each connection that needs it",
    ),
];

/// The whole file as written.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawFile {
    pub(crate) defaults: RawSettings,
    pub(crate) control_socket: Option<Sp<String>>,
    pub(crate) shutdown_timeout: Option<Sp<Duration>>,
    pub(crate) max_concurrent_connects: Option<Sp<u64>>,
    pub(crate) connections: Vec<RawConnection>,
}

/// One entry of `connections:`.
#[derive(Debug, Clone)]
pub(crate) struct RawConnection {
    /// The name, located at its key.
    pub(crate) name: Sp<String>,
    pub(crate) endpoint: Option<Sp<Endpoint>>,
    pub(crate) rule: Option<RawRule>,
    pub(crate) settings: RawSettings,
}

/// Reads the whole file; `None` only when there is nothing to validate (an
/// empty file, a top level that is not a mapping).
pub(crate) fn read_file(w: &mut Walker<'_>, root: &Node) -> Option<RawFile> {
    if root.value == Value::Null {
        w.push(
            ConfigError::at(Kind::Empty, root.at, "the file is empty: expected a mapping with `connections`")
                .help("declare at least one connection, e.g. `connections: { quotes: { endpoint: tcp://127.0.0.1:7001 } }`"),
        );
        return None;
    }
    let mut top = w.mapping(root, "", Duplicates::Keys)?;
    let mut file = RawFile::default();
    if let Some(node) = top.take("defaults")
        && let Some(mut fields) = w.mapping(node, "defaults", Duplicates::Keys)
    {
        file.defaults = read_settings(w, &mut fields);
        fields.finish(w, SETTING_KEYS, NOT_IN_DEFAULTS);
    }
    if let Some(node) = top.take("control")
        && let Some(mut fields) = w.mapping(node, "control", Duplicates::Keys)
    {
        if let Some(socket) = fields.take("socket") {
            file.control_socket = w
                .string(socket, "control.socket")
                .and_then(|path| socket_path_fits(w, path));
        }
        fields.finish(w, CONTROL_KEYS, &[]);
    }
    if let Some(node) = top.take("shutdown_timeout") {
        file.shutdown_timeout = w.duration(node, "shutdown_timeout").and_then(|d| {
            if d.value.is_zero() {
                w.push(
                    ConfigError::at(
                        Kind::OutOfRange,
                        d.at,
                        "`shutdown_timeout` must be greater than zero",
                    )
                    .help("use a duration such as `5s`"),
                );
                return None;
            }
            Some(d)
        });
    }
    if let Some(node) = top.take("max_concurrent_connects") {
        file.max_concurrent_connects =
            w.integer(node, "max_concurrent_connects", 1, u64::from(u32::MAX));
    }
    match top.take("connections") {
        Some(node) => read_connections(w, node, &mut file),
        None => w.push(
            ConfigError::at(
                Kind::Empty,
                root.at,
                "the file declares no connections: `connections` is missing",
            )
            .help("add `connections:` with at least one connection and its `endpoint`"),
        ),
    }
    top.finish(w, TOP_KEYS, &[]);
    Some(file)
}

fn read_connections(w: &mut Walker<'_>, node: &Node, file: &mut RawFile) {
    if matches!(&node.value, Value::Null) || matches!(&node.value, Value::Map(m) if m.is_empty()) {
        w.push(
            ConfigError::at(
                Kind::Empty,
                node.at,
                "`connections` is empty: declare at least one connection",
            )
            .help("e.g. `quotes: { endpoint: tcp://127.0.0.1:7001 }`"),
        );
        return;
    }
    let Some(mut all) = w.mapping(node, "connections", Duplicates::Connections) else {
        return;
    };
    for (name, name_at, value) in all.take_all() {
        let path = all.path_of(&name);
        let name = Sp::new(name, name_at);
        name::check_name(w, &name);
        let Some(mut fields) = w.mapping(value, &path, Duplicates::Keys) else {
            // Keep the name: other connections may depend on it, and an
            // "unknown connection" on top of this error would mislead.
            file.connections.push(RawConnection {
                name,
                endpoint: None,
                rule: None,
                settings: RawSettings::default(),
            });
            continue;
        };
        let endpoint = match fields.take("endpoint") {
            Some(n) => read_endpoint(w, n, &path),
            None => {
                w.push(
                    ConfigError::at(
                        Kind::MissingKey,
                        name.at,
                        format!("connection `{}` has no `endpoint`", name.value),
                    )
                    .help("add `endpoint: tcp://host:port` or `endpoint: unix:///absolute/path`"),
                );
                None
            }
        };
        let depends_on = fields.take("depends_on").map(|n| {
            (
                n,
                rule::read_depends_on(w, n, &format!("{path}.depends_on")),
            )
        });
        let start_when = fields
            .take("start_when")
            .map(|n| (n, rule::read_rule(w, n, &format!("{path}.start_when"))));
        let rule = match (depends_on, start_when) {
            (Some((_, rule)), None) | (None, Some((_, rule))) => rule,
            (None, None) => None,
            (Some((first, _)), Some((second, _))) => {
                w.push(
                    ConfigError::at(
                        Kind::Conflict,
                        second.at,
                        format!(
                            "connection `{}` has both `depends_on` and `start_when`",
                            name.value
                        ),
                    )
                    .label(first.at, "`depends_on` here")
                    .help(
                        "use one: `depends_on: [a, b]` is short for `start_when: { all: [a, b] }`",
                    ),
                );
                None
            }
        };
        let settings = read_settings(w, &mut fields);
        let allowed: Vec<&str> = CONNECTION_ONLY_KEYS
            .iter()
            .chain(SETTING_KEYS)
            .copied()
            .collect();
        fields.finish(w, &allowed, &[]);
        file.connections.push(RawConnection {
            name,
            endpoint,
            rule,
            settings,
        });
    }
}

fn read_endpoint(w: &mut Walker<'_>, node: &Node, path: &str) -> Option<Sp<Endpoint>> {
    let text = w.string(node, &format!("{path}.endpoint"))?;
    match text.value.parse::<Endpoint>() {
        Ok(endpoint) => Some(Sp::new(endpoint, text.at)),
        Err(error) => {
            w.push(
                ConfigError::at(
                    Kind::InvalidEndpoint,
                    text.at,
                    format!("invalid `{path}.endpoint`: {error}"),
                )
                .help("write `tcp://host:port`, `tcp://[v6]:port` or `unix:///absolute/path`"),
            );
            None
        }
    }
}

/// The longest path a Unix socket can be bound at.
const MAX_SOCKET_PATH: usize = linesman_stream::MAX_UNIX_PATH;

/// `path` if a socket can be bound there; else the error at its place, so
/// that `check` refuses what `run` could not bind. A path with a control
/// character is refused too: it is shown by `check` and in the daemon's
/// log, and clients type it back.
fn socket_path_fits(w: &mut Walker<'_>, path: Sp<String>) -> Option<Sp<String>> {
    if path.value.chars().any(linesman_stream::is_hidden) {
        w.push(
            ConfigError::at(
                Kind::InvalidValue,
                path.at,
                format!(
                    "`control.socket` `{}` has a control or invisible character",
                    path.value
                ),
            )
            .help("give the control socket a path without control or invisible characters"),
        );
        return None;
    }
    if path.value.len() <= MAX_SOCKET_PATH {
        return Some(path);
    }
    w.push(
        ConfigError::at(
            Kind::OutOfRange,
            path.at,
            format!(
                "`control.socket` is {} bytes long; a Unix socket path can be at most {MAX_SOCKET_PATH}",
                path.value.len()
            ),
        )
        .help("use a shorter path, such as one in $XDG_RUNTIME_DIR or /run"),
    );
    None
}
