//! [`Publisher`]: the handle a connection's owner publishes its events
//! through. It carries the connection's name, kind and tags, so each event
//! is one synchronous call that never waits for a listener.

use crate::bus::Bus;
use crate::error::BusError;
use crate::event::What;
use crate::shared::{ConnMeta, Shared};
use std::fmt;
use std::sync::Arc;

/// Publishes the events of one connection. Cheap to clone; usable from any
/// thread or task. Made by [`Bus::publisher`](crate::Bus::publisher).
///
/// ```
/// use linesman_observer::{Bus, Connected, Connecting};
/// let bus = Bus::default();
/// let quotes = bus.publisher("quotes").kind("feed").tags(["eu"]);
/// quotes.publish(Connecting { attempt: 1 })?;
/// let seq = quotes.publish(Connected { peer: "127.0.0.1:7001".into() })?;
/// assert_eq!(seq, 2);
/// assert!(bus.state("quotes").expect("published").state.is_up());
/// # Ok::<(), linesman_observer::BusError>(())
/// ```
#[derive(Clone)]
pub struct Publisher {
    shared: Arc<Shared>,
    meta: ConnMeta,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("conn", &self.meta.name)
            .field("kind", &self.meta.kind)
            .field("tags", &self.meta.tags)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    pub(crate) fn new(shared: Arc<Shared>, name: Arc<str>) -> Publisher {
        Publisher {
            shared,
            meta: ConnMeta {
                name,
                kind: None,
                // No allocation: every empty tag list shares one.
                tags: Arc::default(),
            },
        }
    }

    /// The connection's kind, a label such as `feed` (default: none).
    pub fn kind(mut self, kind: impl Into<Arc<str>>) -> Publisher {
        self.meta.kind = Some(kind.into());
        self
    }

    /// The connection's tags (default: none).
    pub fn tags<T: Into<Arc<str>>>(mut self, tags: impl IntoIterator<Item = T>) -> Publisher {
        let mut tags = tags.into_iter().peekable();
        // An empty list is the shared one: no allocation per connection.
        self.meta.tags = if tags.peek().is_none() {
            Arc::default()
        } else {
            tags.map(Into::into).collect()
        };
        self
    }

    /// The connection's name.
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// The bus this publisher publishes on (a handle of it: cheap, and the
    /// same bus).
    ///
    /// ```
    /// use linesman_observer::{Bus, Started};
    /// let bus = Bus::default();
    /// let quotes = bus.publisher("quotes");
    /// quotes.publish(Started {})?;
    /// assert!(quotes.bus().state("quotes").is_some());
    /// # Ok::<(), linesman_observer::BusError>(())
    /// ```
    pub fn bus(&self) -> Bus {
        Bus {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Publishes one event of this connection: updates the registry, then
    /// queues it for every interested listener, and returns its `seq`.
    /// Never waits for a listener.
    ///
    /// `Lagged` and `ListenerRemoved` are the bus's own events; published
    /// here they concern no connection and leave the registry alone.
    ///
    /// # Errors
    ///
    /// [`BusError::Closed`] once [`Bus::close`](crate::Bus::close) was called.
    pub fn publish(&self, what: impl Into<What>) -> Result<u64, BusError> {
        self.shared.publish(Some(&self.meta), what.into())
    }
}
