//! What the bus carries: [`Event`], the closed set of things that can happen
//! to a connection ([`What`]), and one payload type per variant so listeners
//! can be typed (`bus.on::<Connected>(…)`).
//!
//! The set is closed on purpose: a connection's state is derived from these
//! events in one `match` (see [`ConnState::after`](crate::ConnState::after)),
//! and a listener can match them exhaustively.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// One thing that happened, as delivered to listeners.
///
/// Cloning is cheap for the names and tags (shared `Arc`s); the payload in
/// [`what`](Event::what) is cloned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// Bus-wide sequence number: every published event gets the next one, so
    /// live events reach each listener with strictly increasing `seq`.
    ///
    /// A [`Lagged`] marker carries the `seq` its fresh snapshot is taken at:
    /// the replayed state is as of that event, and the live events after the
    /// marker have a greater `seq`.
    pub seq: u64,
    /// Per-connection sequence number, 1 for the connection's first event.
    /// 0 for events that concern no connection ([`Lagged`], [`ListenerRemoved`]).
    pub conn_seq: u64,
    /// Wall-clock time at which the event was published.
    pub at: SystemTime,
    /// The connection's name; empty for events that concern no connection.
    pub conn: Arc<str>,
    /// The connection's kind, a label from the configuration such as `feed`.
    pub kind: Option<Arc<str>>,
    /// The connection's tags.
    pub tags: Arc<[Arc<str>]>,
    /// `true` when this is not a live event but a restatement of a
    /// connection's current state: the connection's latest event, delivered
    /// again to a listener that registered late or that lagged. Its `seq`,
    /// `conn_seq` and `at` are the original event's.
    pub replay: bool,
    /// What happened.
    pub what: What,
}

impl Event {
    /// The payload as `T`, if this event is a `T`.
    ///
    /// ```
    /// use linesman_observer::{Connected, Event};
    /// fn peer(event: &Event) -> Option<&str> {
    ///     event.payload::<Connected>().map(|up| up.peer.as_str())
    /// }
    /// ```
    pub fn payload<T: EventPayload>(&self) -> Option<&T> {
        T::from_what(&self.what)
    }

    /// Which type of event this is.
    pub fn event_type(&self) -> EventType {
        self.what.event_type()
    }

    /// Whether this event concerns a connection (and so the registry), as
    /// opposed to the bus itself ([`Lagged`], [`ListenerRemoved`]).
    pub fn is_connection_event(&self) -> bool {
        self.what.event_type().is_connection_event()
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} ", self.seq)?;
        if !self.conn.is_empty() {
            write!(f, "{}: ", self.conn)?;
        }
        write!(f, "{}", self.what)?;
        if self.replay {
            write!(f, " (replay)")?;
        }
        Ok(())
    }
}

macro_rules! event_types {
    // How a variant of `What` holds its payload: in place, or boxed.
    (@payload $name:ident) => { $name };
    (@payload $name:ident boxed) => { Box<$name> };
    ($( $(#[$doc:meta])* $name:ident $([$boxed:ident])? $({ $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)? })? => $label:literal ),* $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct $name { $( $( $(#[$fdoc])* pub $field: $ty, )* )? }

            impl EventPayload for $name {
                const TYPE: EventType = EventType::$name;
                fn from_what(what: &What) -> Option<&Self> {
                    match what {
                        What::$name(payload) => {
                            Some(<_ as std::borrow::Borrow<Self>>::borrow(payload))
                        }
                        _ => None,
                    }
                }
            }

            impl From<$name> for What {
                fn from(payload: $name) -> What {
                    What::$name(payload.into())
                }
            }
        )*

        /// What happened: one variant per event type, each carrying its own
        /// payload type. The payloads of the two rare and large ones,
        /// [`GaveUp`] and [`Reloaded`] (72 bytes each), are boxed: in place
        /// they would make every event 32 bytes larger, and a bus keeps
        /// every connection's latest event (with 10,000 connections, the
        /// `Arc`'d event falls from a 192-byte to a 160-byte allocation).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum What {
            $( $(#[$doc])* $name(event_types!(@payload $name $($boxed)?)), )*
        }

        /// The type of an event without its payload, as used by [`Interest`](crate::Interest).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $( $(#[$doc])* $name, )*
        }

        impl EventType {
            /// Every event type, in declaration order.
            pub const ALL: &'static [EventType] = &[ $( EventType::$name, )* ];

            /// The type's name in lowercase snake case, e.g. `connect_failed`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( EventType::$name => $label, )*
                }
            }
        }

        impl What {
            /// The type of this event.
            pub fn event_type(&self) -> EventType {
                match self {
                    $( What::$name(_) => EventType::$name, )*
                }
            }
        }
    };
}

event_types! {
    /// The connection was started (declared, or started again after it had
    /// stopped or failed).
    Started => "started",
    /// The connection's start rule does not hold: it waits for other connections.
    Waiting {
        /// The connections it waits on.
        on: Vec<String>,
    } => "waiting",
    /// A connection attempt began (socket connect, then the handshake).
    Connecting {
        /// The attempt number, 1 for the first attempt since the last success.
        attempt: u32,
    } => "connecting",
    /// The connection is up: connected and its handshake done.
    Connected {
        /// The peer's address.
        peer: String,
    } => "connected",
    /// A connection attempt failed.
    ConnectFailed {
        /// Why it failed.
        error: String,
        /// The attempt that failed.
        attempt: u32,
    } => "connect_failed",
    /// A session that was up ended.
    Disconnected {
        /// Why it ended.
        reason: String,
    } => "disconnected",
    /// The next attempt waits for a backoff delay.
    Backoff {
        /// The attempt that will be made when the delay ends.
        attempt: u32,
        /// The delay.
        delay: Duration,
        /// When the next attempt is made.
        until: SystemTime,
    } => "backoff",
    /// The supervisor gave up on the connection: it is failed until it is
    /// started again. Either the restart intensity was exceeded (`reason`
    /// is `None`), or something else failed it and `reason` says what (the
    /// supervisor's task for it panicked; `restarts` and `window` are 0).
    GaveUp [boxed] {
        /// Restarts counted within the window.
        restarts: u32,
        /// The sliding window they were counted in.
        window: Duration,
        /// Why, when it is not the restart intensity.
        reason: Option<String>,
        /// Why the last session ended, when the restart intensity gave up
        /// (the cause an operator looks for first).
        last: Option<String>,
    } => "gave_up",
    /// The connection is draining before it stops.
    Stopping => "stopping",
    /// The connection stopped (asked, shutdown, or a dependency was lost).
    Stopped {
        /// Why it stopped.
        reason: String,
    } => "stopped",
    /// This listener's queue overflowed: `missed` events it was interested in
    /// were not delivered. A fresh snapshot (replay events) follows at once.
    /// Delivered only to the listener that lagged.
    Lagged {
        /// How many events this listener missed.
        missed: u64,
    } => "lagged",
    /// A listener panicked too often and was removed from the bus.
    ListenerRemoved {
        /// The removed listener's name.
        listener: String,
        /// How many times it panicked.
        panics: u32,
    } => "listener_removed",
    /// The supervisor's set of connections was reloaded: these were added,
    /// removed and changed (restarted with new settings); the others were
    /// left alone. A bus event: it concerns no one connection.
    Reloaded [boxed] {
        /// The connections added, in declaration order.
        added: Vec<String>,
        /// The connections removed (stopped, their records dropped).
        removed: Vec<String>,
        /// The connections whose settings changed (restarted).
        changed: Vec<String>,
    } => "reloaded",
}

impl EventType {
    /// Whether events of this type concern a connection (and so update the
    /// registry), as opposed to the bus itself.
    pub fn is_connection_event(self) -> bool {
        !matches!(
            self,
            EventType::Lagged | EventType::ListenerRemoved | EventType::Reloaded
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            What::Started(_) => f.write_str("started"),
            What::Waiting(w) => write!(f, "waiting on [{}]", w.on.join(", ")),
            What::Connecting(c) => write!(f, "connecting (attempt {})", c.attempt),
            What::Connected(c) => write!(f, "connected to {}", c.peer),
            What::ConnectFailed(c) => {
                write!(f, "connect failed (attempt {}): {}", c.attempt, c.error)
            }
            What::Disconnected(d) => write!(f, "disconnected: {}", d.reason),
            What::Backoff(b) => write!(
                f,
                "backoff {} before attempt {}",
                humanize(b.delay),
                b.attempt
            ),
            What::GaveUp(g) => {
                if let Some(reason) = &g.reason {
                    return write!(f, "failed: {reason}");
                }
                write!(
                    f,
                    "gave up after {} restarts within {}",
                    g.restarts,
                    humanize(g.window)
                )?;
                match &g.last {
                    Some(last) => write!(f, "; last: {last}"),
                    None => Ok(()),
                }
            }
            What::Stopping(_) => f.write_str("stopping"),
            What::Stopped(s) => write!(f, "stopped: {}", s.reason),
            What::Lagged(l) => write!(f, "lagged: missed {} events", l.missed),
            What::ListenerRemoved(r) => {
                write!(
                    f,
                    "listener {} removed after {} panics",
                    r.listener, r.panics
                )
            }
            What::Reloaded(r) => write!(
                f,
                "reloaded: added [{}], removed [{}], changed [{}]",
                r.added.join(", "),
                r.removed.join(", "),
                r.changed.join(", ")
            ),
        }
    }
}

/// A duration as people write it, to the millisecond: `163ms`, `1s 563ms`,
/// `1m 30s` (a jittered delay's nanoseconds are noise in a message).
fn humanize(d: Duration) -> String {
    let millis = Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    humantime::format_duration(millis).to_string()
}

/// A payload type of [`What`], so listeners and lookups can be typed.
///
/// Implemented for every payload struct ([`Connected`], [`Backoff`], …); the
/// set is closed.
pub trait EventPayload: Sized + Send + Sync + 'static {
    /// The event type this payload belongs to.
    const TYPE: EventType;

    /// The payload, if `what` is of this type.
    fn from_what(what: &What) -> Option<&Self>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn messages_show_durations_to_the_millisecond() {
        let backoff = What::from(Backoff {
            attempt: 2,
            delay: Duration::from_nanos(163_425_568),
            until: SystemTime::UNIX_EPOCH,
        });
        assert_eq!(backoff.to_string(), "backoff 163ms before attempt 2");
        let gave_up = What::from(GaveUp {
            restarts: 20,
            window: Duration::from_secs(90),
            reason: None,
            last: None,
        });
        assert_eq!(
            gave_up.to_string(),
            "gave up after 20 restarts within 1m 30s"
        );
        let with_last = What::from(GaveUp {
            restarts: 10,
            window: Duration::from_secs(600),
            reason: None,
            last: Some("connection refused".into()),
        });
        assert_eq!(
            with_last.to_string(),
            "gave up after 10 restarts within 10m; last: connection refused"
        );
        let panicked = What::from(GaveUp {
            restarts: 0,
            window: Duration::ZERO,
            reason: Some("supervisor task panicked: boom".into()),
            last: None,
        });
        assert_eq!(
            panicked.to_string(),
            "failed: supervisor task panicked: boom"
        );
    }
}
