//! linesman's end-to-end tests, in one binary with a module per concern.
//!
//! Everything here is real: loopback TCP, Unix sockets in temporary folders,
//! peers running as child processes (`linesman-peer`, built by
//! `cargo test --workspace`, which `make test` runs).

mod support;
mod transport;
