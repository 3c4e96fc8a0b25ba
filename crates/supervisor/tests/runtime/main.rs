//! The supervisor's runtime against real sockets: restarts, backoff and
//! intensity, start rules and `on_dependency_down`, runtime control,
//! isolation of a panicking handler, shutdown order and `run` returning.
//!
//! Sockets run on real time with small backoffs (10 ms, no jitter), or on
//! paused time with the default policy (`intensity.rs`, `timing.rs`); the
//! tests assert orders and counts of events and peer connections, never how
//! long anything took. Every wait is bounded by [`common::LIMIT`] so that a
//! broken supervisor fails the test instead of hanging it. The tests that
//! count failure log lines run in a process of their own (`log_lines.rs`).

mod bounce;
#[allow(
    dead_code,
    reason = "shared with the log_lines test binary, which uses the rest of it"
)]
mod captured;
mod commands;
mod common;
mod control;
mod dense;
mod drain;
mod finish;
mod intensity;
mod isolation;
mod panics;
mod reload;
mod restart;
mod rules;
mod shutdown;
mod signal;
mod spans;
mod spec;
mod timing;
mod watcher;
