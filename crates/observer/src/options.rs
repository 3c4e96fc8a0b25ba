//! The bus's settings ([`BusOptions`]) and its counters ([`BusMetrics`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Settings of a [`Bus`](crate::Bus).
///
/// ```
/// use linesman_observer::{Bus, BusOptions};
/// use std::time::Duration;
/// let bus = Bus::new(
///     BusOptions::default()
///         .queue_capacity(4096)
///         .max_panics(3)
///         .listener_drain(Duration::from_millis(500)),
/// );
/// # let _ = bus;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusOptions {
    /// Events each listener's queue holds before it lags. Default 1024.
    pub queue_capacity: usize,
    /// Panics after which a listener is removed; `None` keeps it forever.
    /// Default `None`.
    pub max_panics: Option<u32>,
    /// How long listeners get, once the bus closes at the end of a run, to
    /// handle what they were given before they are cut off. Default 1 s.
    pub listener_drain: Duration,
}

impl Default for BusOptions {
    fn default() -> BusOptions {
        BusOptions {
            queue_capacity: 1024,
            max_panics: None,
            listener_drain: BusOptions::DEFAULT_LISTENER_DRAIN,
        }
    }
}

impl BusOptions {
    /// The default [`listener_drain`](Self::listener_drain): 1 s.
    pub const DEFAULT_LISTENER_DRAIN: Duration = Duration::from_secs(1);

    /// How many events each listener's queue holds (counting the batch it is
    /// working through) before it lags. Default 1024; 0 is taken as 1.
    ///
    /// A listener that keeps up never lags; one that falls this far behind
    /// misses events and then gets `Lagged { missed }` and a fresh snapshot.
    ///
    /// ```
    /// use linesman_observer::BusOptions;
    /// assert_eq!(BusOptions::default().queue_capacity, 1024);
    /// assert_eq!(BusOptions::default().queue_capacity(16).queue_capacity, 16);
    /// ```
    pub fn queue_capacity(mut self, events: usize) -> BusOptions {
        self.queue_capacity = events.max(1);
        self
    }

    /// Removes a listener after it has panicked `panics` times (default:
    /// never). A removed listener gets nothing more, its handle says so, and a
    /// [`ListenerRemoved`](crate::ListenerRemoved) event is published.
    ///
    /// ```
    /// use linesman_observer::BusOptions;
    /// assert_eq!(BusOptions::default().max_panics, None);
    /// assert_eq!(BusOptions::default().max_panics(3).max_panics, Some(3));
    /// ```
    pub fn max_panics(mut self, panics: u32) -> BusOptions {
        self.max_panics = Some(panics);
        self
    }

    /// How long listeners get to finish what they were given when the bus
    /// is closed at the end of a supervisor's run (after its connections
    /// have stopped, so it adds at most this much to a shutdown). Default
    /// 1 s. A listener still busy then — stuck in `on_event`, or slow with
    /// a backlog — is cut off: the supervisor's run report lists it with
    /// the number of events it was not given, and a warning says the same
    /// (see [`Bus::close_within`](crate::Bus::close_within)).
    ///
    /// ```
    /// use linesman_observer::BusOptions;
    /// use std::time::Duration;
    /// assert_eq!(BusOptions::default().listener_drain, Duration::from_secs(1));
    /// let options = BusOptions::default().listener_drain(Duration::from_millis(200));
    /// assert_eq!(options.listener_drain, Duration::from_millis(200));
    /// ```
    pub fn listener_drain(mut self, drain: Duration) -> BusOptions {
        self.listener_drain = drain;
        self
    }
}

/// The bus's counters, read with [`Bus::metrics`](crate::Bus::metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BusMetrics {
    /// Events published (the last `seq` given out).
    pub published: u64,
    /// Events handed to listeners and streams, counted once per receiver,
    /// replay and `Lagged` markers included.
    pub delivered: u64,
    /// Events that receivers missed because their queue was full.
    pub lagged: u64,
    /// Listener panics caught.
    pub panics: u64,
    /// Listeners removed for panicking too often.
    pub listeners_removed: u64,
    /// Listeners and streams registered now.
    pub receivers: u64,
}

/// Written under the publish lock (`published`) and by every consumer
/// (`delivered`): each on its own cache line so they do not slow each other.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: CacheLine,
    pub(crate) delivered: CacheLine,
    pub(crate) lagged: AtomicU64,
    pub(crate) panics: AtomicU64,
    pub(crate) listeners_removed: AtomicU64,
    pub(crate) receivers: AtomicU64,
}

#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CacheLine(AtomicU64);

impl std::ops::Deref for CacheLine {
    type Target = AtomicU64;
    fn deref(&self) -> &AtomicU64 {
        &self.0
    }
}

impl Counters {
    pub(crate) fn read(&self) -> BusMetrics {
        BusMetrics {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            lagged: self.lagged.load(Ordering::Relaxed),
            panics: self.panics.load(Ordering::Relaxed),
            listeners_removed: self.listeners_removed.load(Ordering::Relaxed),
            receivers: self.receivers.load(Ordering::Relaxed),
        }
    }
}
