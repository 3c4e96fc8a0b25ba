//! The [`Bus`]: publishing, the state registry and the publish lock
//! (registering is in `registration.rs`, closing in `close.rs`).
//!
//! Why one short lock: giving out `seq`, updating the registry and queuing
//! the event for every interested listener happen under one
//! `std::sync::Mutex` (the *publish lock*). Without it two publishers could
//! interleave, and a listener would see `seq` out of order, or a registry
//! snapshot older or newer than the events it was given. The lock never
//! waits for a listener and no listener code runs under it: a push is a
//! `VecDeque::push_back` under the listener's own small lock, or a counted
//! drop when that queue is full. Registration and resynchronisation after a
//! lag take their snapshot under the same lock, which is what makes "state
//! as of `seq` N, then exactly the events after N" hold.

use std::fmt;
use std::sync::Arc;

use crate::options::{BusMetrics, BusOptions};
use crate::publisher::Publisher;
use crate::shared::Shared;
use crate::state::ConnStatus;

/// The event bus: publish connection events, read the state registry, and
/// register listeners and streams.
///
/// Cloning is cheap and every clone is the same bus. See the crate docs for
/// a complete example.
#[derive(Clone)]
pub struct Bus {
    pub(crate) shared: Arc<Shared>,
}

impl Default for Bus {
    fn default() -> Bus {
        Bus::new(BusOptions::default())
    }
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bus")
            .field("options", &self.shared.options)
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// A bus with these settings.
    pub fn new(options: BusOptions) -> Bus {
        Bus {
            shared: Arc::new(Shared::new(options)),
        }
    }

    /// A handle that publishes the events of connection `name`. Set its kind
    /// and tags with [`Publisher::kind`] and [`Publisher::tags`].
    pub fn publisher(&self, name: impl Into<Arc<str>>) -> Publisher {
        Publisher::new(self.shared.clone(), name.into())
    }

    /// Every connection's record, sorted by name. Each record is at least as
    /// new as any event already delivered for that connection.
    pub fn snapshot(&self) -> Vec<ConnStatus> {
        let registry = &self.shared.registry;
        // Room for all at once (a record may be added meanwhile): growing
        // the vector would copy every record made so far.
        let mut all: Vec<ConnStatus> = Vec::with_capacity(registry.len() + 16);
        all.extend(
            registry
                .iter()
                .map(|entry| ConnStatus::clone(entry.value())),
        );
        // Records are large (128 bytes): sorting them would move each one
        // log(n) times. Sort their names with their indices (a name is two
        // pointer hops away in its record's event: each comparison would
        // make them again), then move each record once.
        let order: Vec<usize> = {
            let mut names: Vec<(&str, usize)> = all
                .iter()
                .enumerate()
                .map(|(i, status)| (&**status.name(), i))
                .collect();
            names.sort_unstable();
            names.into_iter().map(|(_, i)| i).collect()
        };
        permute(&mut all, order);
        all
    }

    /// The record of connection `name`, if it has published anything.
    pub fn state(&self, name: &str) -> Option<ConnStatus> {
        self.shared
            .registry
            .get(name)
            .map(|r| ConnStatus::clone(r.value()))
    }

    /// `f` of the record of connection `name`, if it has published
    /// anything, read in place: no clone of the record, for checks made
    /// often (a start rule over hundreds of connections). `f` runs under a
    /// registry shard's read lock: it must not publish on this bus.
    ///
    /// ```
    /// use linesman_observer::{Bus, Connected};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bus = Bus::default();
    /// bus.publisher("quotes").publish(Connected { peer: "127.0.0.1:7001".into() })?;
    /// let up = bus.with_state("quotes", |status| (status.state.is_up(), status.ups));
    /// assert_eq!(up, Some((true, 1)));
    /// assert_eq!(bus.with_state("orders", |status| status.ups), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_state<R>(&self, name: &str, f: impl FnOnce(&ConnStatus) -> R) -> Option<R> {
        self.shared.registry.get(name).map(|r| f(r.value()))
    }

    /// Drops the record of connection `name` from the registry, for a
    /// connection that is gone for good (a reload removed it): snapshots
    /// and the replay to late listeners no longer show it. Events already
    /// published stay delivered; a later event of the same name starts a new
    /// record. Whether there was a record.
    ///
    /// ```
    /// use linesman_observer::{Bus, Stopped};
    ///
    /// let bus = Bus::default();
    /// bus.publisher("old").publish(Stopped { reason: "removed by reload".into() })?;
    /// assert!(bus.forget("old"));
    /// assert!(bus.state("old").is_none());
    /// # Ok::<(), linesman_observer::BusError>(())
    /// ```
    pub fn forget(&self, name: &str) -> bool {
        self.shared.forget(name)
    }

    /// The bus's counters.
    pub fn metrics(&self) -> BusMetrics {
        self.shared.counters.read()
    }

    /// Whether [`Bus::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// The bus's settings.
    pub fn options(&self) -> &BusOptions {
        &self.shared.options
    }
}

/// Reorders `items` so that `items[i]` is what was at `order[i]`, moving
/// each item along its cycle of the permutation: at most one swap per item.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        let order = vec![3, 0, 4, 1, 2, 5];
        let mut items = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        permute(&mut items, order);
        assert_eq!(items, ['d', 'a', 'e', 'b', 'c', 'f']);
        let mut none: Vec<char> = Vec::new();
        permute(&mut none, Vec::new());
        assert!(none.is_empty());
    }
}
