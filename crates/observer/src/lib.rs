//! The observer bus: tells application code, the supervisor and the control
//! plane what happens to every connection — in order, one event at a time,
//! to every interested listener — and keeps a registry of each connection's
//! state.
//!
//! It knows connection names and states, not sockets: it depends on no other
//! linesman crate.
//!
//! - A connection's owner publishes [`Event`]s through a [`Publisher`]
//!   (synchronous, never waits for a listener, usable from any thread).
//! - The bus gives each event a bus-wide `seq`, updates the registry
//!   ([`Bus::state`], [`Bus::snapshot`]) *before* anyone is told, then queues
//!   it for every listener whose [`Interest`] matches.
//! - Each [`Listener`] has its own bounded queue and task: it gets its events
//!   in `seq` order, never concurrently with itself. A slow listener only
//!   delays itself; when its queue overflows it gets [`Lagged`]`{ missed }`
//!   and the current state again. A late listener first gets the current
//!   state. A panicking listener is isolated. [`Bus::close`] delivers
//!   everything already published, then ends every listener and stream.
//!
//! # Example
//!
//! A typed listener and a stream subscription (a typed listener narrowed to
//! some connections is [`Bus::on_with`]):
//!
//! ```
//! use linesman_observer::{Bus, Connected, Connecting, Disconnected, EventType, Interest};
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), linesman_observer::BusError> {
//!     let bus = Bus::default();
//!
//!     // A typed listener: called for `Connected` events only, one at a time.
//!     let ups = Arc::new(AtomicUsize::new(0));
//!     let counter = ups.clone();
//!     let _on_up = bus.on::<Connected>(move |event, up| {
//!         println!("{} is up, peer {}", event.conn, up.peer);
//!         counter.fetch_add(1, Ordering::Relaxed);
//!     });
//!
//!     // A stream of every event of the connections of kind `feed`, read with
//!     // its own `next()` (it is also a `Stream`, for stream combinators).
//!     let mut feeds = bus.subscribe(Interest::all().kind("feed"));
//!
//!     // A connection's owner publishes its events.
//!     let quotes = bus.publisher("quotes").kind("feed");
//!     quotes.publish(Connecting { attempt: 1 })?;
//!     quotes.publish(Connected { peer: "127.0.0.1:7001".into() })?;
//!     quotes.publish(Disconnected { reason: "peer closed the connection".into() })?;
//!     bus.publisher("audit").publish(Connecting { attempt: 1 })?; // not a feed
//!
//!     // The registry is updated before any listener hears of an event.
//!     assert_eq!(bus.state("quotes").expect("published").state.name(), "down");
//!
//!     // Close: everything published is delivered, then every stream ends.
//!     bus.close().await;
//!     let mut seen = Vec::new();
//!     while let Some(event) = feeds.next().await {
//!         seen.push((event.seq, event.event_type()));
//!     }
//!     assert_eq!(
//!         seen,
//!         [(1, EventType::Connecting), (2, EventType::Connected), (3, EventType::Disconnected)]
//!     );
//!     assert_eq!(ups.load(Ordering::Relaxed), 1);
//!     Ok(())
//! }
//! ```
//!
//! # Replay events
//!
//! A listener registered late, and one that lagged, is sent the latest event
//! of every connection it is interested in again, with [`Event::replay`] set
//! and its original `seq`; applying it gives the connection's current state
//! ([`ConnState::after`]). Replay events are sent in `seq` order and pass
//! the interest's name, kind and tag filters but not its type filter (see
//! [`Interest`]).

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod bus;
mod close;
mod delivery;
mod error;
mod event;
mod history;
mod interest;
pub mod listener;
mod options;
mod publisher;
mod queue;
mod registration;
mod shared;
mod size;
mod state;

pub use bus::Bus;
pub use close::CutOff;
pub use delivery::{ListenerHandle, ListenerStats, Subscription};
pub use error::BusError;
pub use event::{
    Backoff, ConnectFailed, Connected, Connecting, Disconnected, Event, EventPayload, EventType,
    GaveUp, Lagged, ListenerRemoved, Reloaded, Started, Stopped, Stopping, Waiting, What,
};
pub use history::Missed;
pub use interest::Interest;
pub use listener::{DynListener, Listener, ListenerFuture};
pub use options::{BusMetrics, BusOptions};
pub use publisher::Publisher;
pub use state::{ConnState, ConnStatus};
