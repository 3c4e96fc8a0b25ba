//! End-to-end tests of the control plane: a real supervisor with real peers
//! (linesman-testkit), the server on a real Unix socket in a temp dir, and
//! the real client. One binary, a module per concern.

mod actions;
mod bounds;
mod client;
mod events;
mod metrics;
mod private;
mod reload;
mod socket;
mod status;
mod support;
mod uid;
mod wire;
