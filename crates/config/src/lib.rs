//! linesman's YAML configuration: a file read into the supervisor's
//! [`Spec`](linesman_supervisor::Spec), or every problem of the file at
//! once, each with `file:line:column`, what was expected and a hint.
//!
//! Two phases (see docs/config.md for every key):
//!
//! 1. The text is parsed by serde-saphyr into a located YAML tree (syntax
//!    errors and alias bombs stop here, with their position), then walked
//!    into raw structs that mirror the file: unknown keys (with the nearest
//!    valid key), duplicate keys and connections, wrong types, bad
//!    durations, sizes and endpoints, out-of-range numbers and unset
//!    `${VAR}`s are all collected.
//! 2. Each connection is merged over `defaults` and validated into a
//!    [`Supervised`](linesman_supervisor::Supervised); the start rules go
//!    through the supervisor's dependency graph, whose findings (unknown
//!    names, self-dependencies, cycles) are put back at their place in the
//!    file.
//!
//! ```
//! let yaml = "
//! defaults:
//!   restart: { backoff: { initial: 250ms } }
//! connections:
//!   quotes: { endpoint: tcp://127.0.0.1:7001, kind: feed }
//!   hw:
//!     endpoint: unix:///run/hw.sock
//!     depends_on: [quotes]
//! ";
//! let config = linesman_config::parse("trading.yaml", yaml)?;
//! assert_eq!(config.spec.graph().start_order(), ["quotes", "hw"]);
//! let hw = config.spec.get("hw").expect("declared");
//! assert_eq!(hw.restart.backoff().initial, std::time::Duration::from_millis(250));
//! # Ok::<(), linesman_config::ConfigErrors>(())
//! ```
//!
//! The [`Spec`](linesman_supervisor::Spec) a file gives is amended in
//! code through its builder, which keeps every setting of the file:
//!
//! ```
//! # let yaml = "shutdown_timeout: 2s\nconnections:\n  quotes: { endpoint: tcp://127.0.0.1:7001 }\n";
//! use linesman_connection::ConnectionSpec;
//! use linesman_supervisor::Supervised;
//!
//! let config = linesman_config::parse("app.yaml", yaml)?;
//! let hw = ConnectionSpec::new("hw", "tcp://127.0.0.1:7003".parse()?);
//! let spec = config
//!     .spec
//!     .into_builder()
//!     .configure("quotes", |c| c.connection.tags = vec!["eu".into()])
//!     .connection(Supervised::new(hw).depends_on(["quotes"]))
//!     .build()?;
//! assert_eq!(spec.shutdown_timeout(), std::time::Duration::from_secs(2));
//! assert_eq!(spec.graph().start_order(), ["quotes", "hw"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `Display` of [`ConfigErrors`] lists the problems as
//! `FILE:LINE:COLUMN: message` lines with `help:` lines; it also implements
//! [`miette::Diagnostic`] for graphical rendering.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod budget;
mod config;
mod crop;
mod diagnostic;
mod env;
mod error;
mod errors;
mod graph;
mod inert;
mod layers;
mod policy;
mod raw;
mod restart;
mod shorten;
mod source;
mod span;
mod suggest;
mod tree;
mod validate;
mod walk;

pub use config::{Config, ControlSettings, MAX_FILE_BYTES, load, parse, parse_with_env};
pub use diagnostic::ConfigReport;
pub use error::{ConfigError, ConfigErrorKind, Label, Location};
pub use errors::ConfigErrors;
pub use source::ConfigSource;
