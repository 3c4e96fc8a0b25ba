//! The tests that count failure log lines, in a process of their own.
//!
//! Why apart from `runtime/`: the cap on failure lines
//! ([`LogFlood::global`](linesman_connection::LogFlood::global)) is
//! process-wide, as it is in the daemon, so the lines of the runtime tests
//! running beside them (hundreds of refused connects) used up its burst and
//! these tests saw fewer lines than they count, on a busy machine.

#[path = "runtime/captured.rs"]
mod captured;
#[allow(
    dead_code,
    reason = "the runtime tests' shared helpers; this binary uses a part of them"
)]
#[path = "runtime/common.rs"]
mod common;
#[path = "runtime/log_limit.rs"]
mod log_limit;
