//! Registering on the [`Bus`]: listeners (their own task each), typed
//! closures ([`Bus::on`], [`Bus::on_with`]) and streams ([`Bus::subscribe`]).
//! Each is given the current state of every connection it is interested in
//! first (replay), then live events; see `bus.rs` for why that has no gap.

use crate::bus::Bus;
use crate::delivery::{self, ListenerHandle, Subscription};
use crate::event::{Event, EventPayload};
use crate::interest::Interest;
use crate::listener::{Listener, Typed};
use std::sync::Arc;

impl Bus {
    /// Registers `listener` with its own [`Listener::interest`]. Its events
    /// are delivered by a task of its own, one at a time, in `seq` order; it
    /// first receives the current state of every connection it is
    /// interested in (replay events). Dropping the handle unsubscribes.
    ///
    /// On a closed bus the listener receives the replay, then its task ends.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the listener's task is spawned on it).
    pub fn listen(&self, listener: impl Listener) -> ListenerHandle {
        let interest = listener.interest();
        self.listen_with(interest, listener)
    }

    /// Registers `listener` for the events `interest` admits, ignoring the
    /// listener's own [`Listener::interest`]. Otherwise as [`Bus::listen`].
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the listener's task is spawned on it).
    pub fn listen_with(&self, interest: Interest, listener: impl Listener) -> ListenerHandle {
        let slot = self.shared.register(Arc::from(listener.name()), interest);
        delivery::spawn(&self.shared, slot, listener)
    }

    /// Registers a closure for the events of type `T` only:
    /// `bus.on::<Connected>(|event, up| …)`. It is also called for replay
    /// events of type `T` (see [`Event::replay`]).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the listener's task is spawned on it).
    pub fn on<T: EventPayload>(
        &self,
        f: impl Fn(&Event, &T) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.listen(Typed::new(f))
    }

    /// [`on`](Self::on), narrowed to the events `interest` admits: a typed
    /// closure for one connection, kind or tag without a `Listener` impl of
    /// your own. Only events of type `T` reach it, replay included.
    ///
    /// ```
    /// use linesman_observer::{Bus, Connected, Interest};
    /// use std::sync::{Arc, Mutex};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), linesman_observer::BusError> {
    /// let bus = Bus::default();
    /// let peers = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&peers);
    /// let _db_up = bus.on_with::<Connected>(Interest::all().conn("db"), move |_, up| {
    ///     seen.lock().unwrap().push(up.peer.clone());
    /// });
    /// bus.publisher("db").publish(Connected { peer: "10.0.0.5:5432".into() })?;
    /// bus.publisher("cache").publish(Connected { peer: "10.0.0.6:6379".into() })?;
    /// bus.close().await;
    /// assert_eq!(*peers.lock().unwrap(), ["10.0.0.5:5432"]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the listener's task is spawned on it).
    pub fn on_with<T: EventPayload>(
        &self,
        interest: Interest,
        f: impl Fn(&Event, &T) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.listen_with(interest.event::<T>(), Typed::new(f))
    }

    /// A stream of the events `interest` admits, with the same guarantees as
    /// a listener: the current state first, then live events in `seq` order,
    /// `Lagged` and a fresh snapshot if it falls behind. It ends after
    /// [`Bus::close`] once everything published before is taken. Dropping it
    /// unsubscribes. Needs no runtime to be created.
    pub fn subscribe(&self, interest: Interest) -> Subscription {
        let slot = self.shared.register(Arc::from("subscription"), interest);
        Subscription::new(&self.shared, slot)
    }
}
