//! The body of `GET /v1/events`: [`EventsBody`], one JSON line per event of
//! a bus subscription, an empty line when the stream has been quiet for the
//! keep-alive interval, and an end.
//!
//! How a watcher's cost is bounded: the body turns events into lines only
//! when hyper asks for more, i.e. as fast as the client reads, so what waits
//! for a client is its subscription's queue (a pointer per queued event and
//! per replayed connection) and a few lines in hyper's buffer. A client
//! that reads nothing is cut by the socket's write timeout
//! ([`WriteDeadline`](crate::deadline::WriteDeadline)). A client that reads, but
//! slower than events come, overflows its queue and is sent a `lagged` line
//! and the current state again; if that happens more than `max_lags` times
//! in a row without the client catching up in between, the stream ends
//! with an [`ErrorBody`] line that says why, and the subscription is freed.
//!
//! A stream filtered on names, kinds or tags ends, with an [`ErrorBody`]
//! line that says why, once a reload leaves no connection it matches
//! (after the lines queued before): it would otherwise stay open and
//! silent for good, as a new stream with that filter is refused.
//!
//! A stream resumed with `?since=SEQ` is a subscription the bus started
//! with the kept events after SEQ (see `Bus::subscribe_since`); when those
//! are gone, the body sends a `gap` line first, then the subscription as
//! usual (the current state, then live events).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use linesman_observer::{Bus, Event, Subscription, What};
use tokio::time::{Instant, Sleep};
use tokio_stream::wrappers::WatchStream;

use crate::api::{self, ErrorBody, EventLine};
use crate::convert::EventLines;

/// Whether some connection still matches a stream's filter.
type StillMatches = Box<dyn Fn() -> bool + Send>;

/// The lines of one `/v1/events` response.
pub(crate) struct EventsBody {
    /// A `gap` line to send first.
    gap: Option<EventLine>,
    /// `None` once the stream has ended (which frees the subscription).
    subscription: Option<Subscription>,
    /// Resolves when the server shuts down and the stream must end.
    cut: Pin<Box<dyn Future<Output = ()> + Send>>,
    registry: Bus,
    states: EventLines,
    keepalive: Pin<Box<Sleep>>,
    interval: Duration,
    /// Overflows since the client last caught up.
    lags: u32,
    max_lags: u32,
    /// Events missed over those overflows.
    missed: u64,
    /// The stream's place among the event streams (`routes.rs`), given
    /// back when the body is dropped.
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
    /// For a filtered stream: the daemon's reloads (once each one's
    /// connections are in place), and whether some connection still
    /// matches the filter after one.
    reloads: Option<(WatchStream<u64>, StillMatches)>,
    /// A reload left nothing the filter matches: the stream ends once what
    /// is queued has been sent.
    unmatched: bool,
}

impl EventsBody {
    pub(crate) fn new(
        subscription: Subscription,
        registry: Bus,
        cut: impl Future<Output = ()> + Send + 'static,
        interval: Duration,
        max_lags: u32,
    ) -> EventsBody {
        EventsBody {
            gap: None,
            subscription: Some(subscription),
            cut: Box::pin(cut),
            registry,
            states: EventLines::default(),
            keepalive: Box::pin(tokio::time::sleep(interval)),
            interval,
            lags: 0,
            max_lags,
            missed: 0,
            slot: None,
            reloads: None,
            unmatched: false,
        }
    }

    /// Ends the stream, with a line that says why, after a reload (one of
    /// `reloads`) that leaves no connection for which `matches` holds: a
    /// filtered stream would otherwise stay open and silent for good.
    pub(crate) fn ending_when_unmatched(
        mut self,
        reloads: tokio::sync::watch::Receiver<u64>,
        matches: impl Fn() -> bool + Send + 'static,
    ) -> EventsBody {
        self.reloads = Some((WatchStream::from_changes(reloads), Box::new(matches)));
        self
    }

    /// Whether a reload left nothing the filter matches (polls `reloads`).
    fn poll_unmatched(&mut self, cx: &mut Context<'_>) -> bool {
        while !self.unmatched
            && let Some((reloads, matches)) = self.reloads.as_mut()
        {
            match Pin::new(reloads).poll_next(cx) {
                Poll::Ready(Some(_reload)) => self.unmatched = !matches(),
                Poll::Ready(None) => self.reloads = None,
                Poll::Pending => break,
            }
        }
        self.unmatched
    }

    /// The stream's last line after a reload left nothing it matches.
    fn unmatched_line(&mut self) -> Option<Bytes> {
        self.last_line("a reload left no connection this events stream's filter matches, so nothing more would ever come; it is closed: follow again with a filter that matches".to_owned())
    }

    /// Holds `slot` for as long as the stream lasts.
    pub(crate) fn holding(mut self, slot: tokio::sync::OwnedSemaphorePermit) -> EventsBody {
        self.slot = Some(slot);
        self
    }

    /// Starts with a `gap` line: events `from` to `to` are gone; asked
    /// for after `since`.
    pub(crate) fn gap(mut self, since: u64, from: u64, to: u64) -> EventsBody {
        self.gap = Some(gap_line(since, from, to));
        self
    }

    /// The line of `event`, noting the keep-alive.
    fn event_line(&mut self, event: &Event) -> Option<Bytes> {
        let registry = &self.registry;
        let line = self
            .states
            .line(event, || registry.state(&event.conn).map(|s| s.state));
        let line = Self::json_line(&line)?;
        let next = Instant::now() + self.interval;
        self.keepalive.as_mut().reset(next);
        Some(line)
    }

    /// The JSON line of `value`, newline included.
    fn json_line(value: &impl serde::Serialize) -> Option<Bytes> {
        match serde_json::to_vec(value) {
            Ok(mut line) => {
                line.push(b'\n');
                Some(Bytes::from(line))
            }
            Err(error) => {
                tracing::error!(%error, "cannot encode an events line as JSON");
                None
            }
        }
    }

    /// The stream's last line after it kept falling behind.
    fn dropped(&mut self) -> Option<Bytes> {
        tracing::warn!(
            lags = self.lags,
            missed = self.missed,
            "an events watcher kept falling behind and was dropped"
        );
        let why = format!(
            "this events stream fell behind the daemon's events {} times in a row ({} events missed) and is closed; read faster (do not pause the terminal or pipe) and follow again for the current state",
            self.lags, self.missed
        );
        self.last_line(why)
    }

    /// Ends the stream (its subscription is freed): its last line, an
    /// [`ErrorBody`] saying `why`.
    fn last_line(&mut self, why: String) -> Option<Bytes> {
        self.subscription = None;
        Self::json_line(&ErrorBody {
            error: why,
            known: Vec::new(),
        })
    }
}

impl Stream for EventsBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(subscription) = this.subscription.as_mut() else {
                return Poll::Ready(None);
            };
            if this.cut.as_mut().poll(cx).is_ready() {
                this.subscription = None;
                return Poll::Ready(None);
            }
            if let Some(gap) = this.gap.take()
                && let Some(line) = Self::json_line(&gap)
            {
                return Poll::Ready(Some(Ok(line)));
            }
            match Pin::new(subscription).poll_next(cx) {
                Poll::Ready(Some(event)) => {
                    if let What::Lagged(lagged) = &event.what {
                        this.lags += 1;
                        this.missed += lagged.missed;
                        if this.lags > this.max_lags {
                            return Poll::Ready(this.dropped().map(Ok));
                        }
                    }
                    if let Some(line) = this.event_line(&event) {
                        return Poll::Ready(Some(Ok(line)));
                    }
                }
                Poll::Ready(None) => {
                    this.subscription = None;
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    if this.poll_unmatched(cx) {
                        return Poll::Ready(this.unmatched_line().map(Ok));
                    }
                    // Nothing queued: the client has caught up.
                    this.lags = 0;
                    this.missed = 0;
                    if this.keepalive.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let next = Instant::now() + this.interval;
                    this.keepalive.as_mut().reset(next);
                    return Poll::Ready(Some(Ok(Bytes::from_static(b"\n"))));
                }
            }
        }
    }
}

/// The `gap` line: events `from` to `to` are no longer kept, or, when
/// `since` is ahead of the newest event `to`, were never seen by the
/// client: the daemon it saw `since` from is not this one (it restarted).
fn gap_line(since: u64, from: u64, to: u64) -> EventLine {
    let message = if since > to {
        format!(
            "seq {since} is ahead of this daemon's newest event ({to}): it was restarted since, so its events {from} to {to} were never sent to you; the current state of each connection follows"
        )
    } else {
        format!(
            "events {from} to {to} are no longer kept (or were never seen by this daemon); the current state of each connection follows"
        )
    };
    EventLine {
        seq: to,
        conn_seq: 0,
        at_ms: crate::convert::epoch_millis(std::time::SystemTime::now()),
        conn: String::new(),
        kind: None,
        tags: Vec::new(),
        replay: false,
        state: None,
        message,
        what: api::What::Gap { from, to },
    }
}
