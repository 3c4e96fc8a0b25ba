//! This package holds no library code: its tests live in
//! `tests/integration/`, one binary with a module per concern, driving real
//! sockets, real child processes and the real binaries.
