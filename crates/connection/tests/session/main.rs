//! Integration tests of `linesman-connection`: real sessions over loopback
//! sockets against `linesman-testkit` peers (and a blocking source fed from
//! a thread). Durations are real where sockets are involved, and tests
//! assert states and orders, never how long something took.

mod attack;
mod blocking;
mod budget;
mod burst;
mod common;
mod connect_limit;
mod direct;
mod ending;
mod finish;
mod handler;
mod lifecycle;
mod liveness;
mod lost;
mod replies;
mod requests;
mod sends;
mod stalls;
