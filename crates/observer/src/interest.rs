//! [`Interest`]: which events a listener wants — by connection name,
//! connection kind, tag and event type.
//!
//! The seed idea of an observer's `interested(type)` is the kind filter
//! (`Interest::all().kind("feed")`), and a listener can declare its own
//! interest with [`Listener::interest`](crate::Listener::interest).

use crate::event::{Event, EventPayload, EventType};
use std::sync::Arc;

/// Which events a listener wants.
///
/// Each of the four filters is a set; an empty set admits everything. An
/// event matches when it passes all four: its connection is one of the names,
/// its kind one of the kinds, it has at least one of the tags, and its type
/// is one of the types.
///
/// Two kinds of events are special:
/// - events that concern no connection ([`ListenerRemoved`](crate::ListenerRemoved))
///   match only an interest with no name, kind or tag filter;
/// - [`Lagged`](crate::Lagged) markers and the replay that follows them go to the
///   listener that lagged whatever its interest. Replay events (the latest
///   event of each connection) pass the name, kind and tag filters but not the
///   type filter: a listener must learn that a connection is down even when it
///   does not listen for the event that brought it down.
///
/// ```
/// use linesman_observer::{Connected, Disconnected, Interest};
///
/// // Every event of the `feed` connections and of `audit`, tagged `eu`:
/// let feeds = Interest::all().kind("feed").conn("audit").tag("eu");
/// // Only ups and downs, of every connection:
/// let updown = Interest::all().event::<Connected>().event::<Disconnected>();
/// # let _ = (feeds, updown);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interest {
    conns: Vec<Arc<str>>,
    kinds: Vec<Arc<str>>,
    tags: Vec<Arc<str>>,
    /// Bit `t as u32` set for each admitted type; 0 admits every type.
    types: u32,
}

impl Interest {
    /// Every event of every connection. The default.
    pub fn all() -> Interest {
        Interest::default()
    }

    /// Also admits the connection `name` (default: every connection).
    pub fn conn(mut self, name: impl Into<Arc<str>>) -> Interest {
        self.conns.push(name.into());
        self
    }

    /// Also admits connections of kind `kind`, a label from the configuration
    /// such as `feed` (default: every kind, and connections without a kind).
    pub fn kind(mut self, kind: impl Into<Arc<str>>) -> Interest {
        self.kinds.push(kind.into());
        self
    }

    /// Also admits connections tagged `tag` (default: tagged or not).
    pub fn tag(mut self, tag: impl Into<Arc<str>>) -> Interest {
        self.tags.push(tag.into());
        self
    }

    /// Also admits events of type `T`, e.g. `.event::<Connected>()` (default:
    /// every type).
    pub fn event<T: EventPayload>(self) -> Interest {
        self.event_type(T::TYPE)
    }

    /// Also admits events of type `ty` (default: every type).
    pub fn event_type(mut self, ty: EventType) -> Interest {
        self.types |= 1 << ty as u32;
        self
    }

    /// Also admits each of `types`.
    pub fn event_types(self, types: impl IntoIterator<Item = EventType>) -> Interest {
        types.into_iter().fold(self, Interest::event_type)
    }

    /// Whether `event` is wanted. Replay events are matched as described on
    /// [`Interest`]: their type is not filtered.
    pub fn matches(&self, event: &Event) -> bool {
        if event.replay {
            self.matches_connection(event)
        } else {
            self.admits_type(event.event_type()) && self.matches_connection(event)
        }
    }

    /// Whether events of type `ty` pass the type filter.
    pub fn admits_type(&self, ty: EventType) -> bool {
        self.types == 0 || self.types & (1 << ty as u32) != 0
    }

    /// The name, kind and tag filters.
    pub(crate) fn matches_connection(&self, event: &Event) -> bool {
        if !event.is_connection_event() {
            return self.conns.is_empty() && self.kinds.is_empty() && self.tags.is_empty();
        }
        let name_ok = self.conns.is_empty() || self.conns.contains(&event.conn);
        let kind_ok = self.kinds.is_empty()
            || event
                .kind
                .as_ref()
                .is_some_and(|kind| self.kinds.iter().any(|k| k == kind));
        let tag_ok = self.tags.is_empty() || event.tags.iter().any(|t| self.tags.contains(t));
        name_ok && kind_ok && tag_ok
    }
}
