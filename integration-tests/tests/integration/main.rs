//! linesman's end-to-end tests, in one binary with a module per concern.
//!
//! Everything here is real: loopback TCP, Unix sockets in temporary folders,
//! peers running as child processes (`linesman-peer`, built by
//! `cargo test --workspace`, which `make test` runs), and the real
//! `linesman` binary (the `cli_*` modules), against the daemon and against
//! an application that embeds linesman (`example_application`).

mod cli_check_format;
mod cli_config;
mod cli_config_scale;
mod cli_daemon;
mod cli_demo;
mod cli_generated;
mod cli_harness;
mod cli_hostile;
mod cli_ops;
mod cli_status;
mod cli_systemd;
mod control_burst;
mod control_hardening;
mod example_application;
mod faults;
mod logging;
mod observe;
mod reasons;
mod reload;
mod support;
mod transport;
