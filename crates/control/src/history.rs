//! [`History`]: the bus's recent events, kept so that a `/v1/events`
//! watcher that reconnects with `?since=SEQ` gets every event it missed,
//! or is told that they are gone.
//!
//! Why a recorder of its own: a watcher's subscription starts at "now"
//! (the current state, then live events), so what happened while it was
//! away is only known if something kept it. The recorder is one bus
//! subscription, started with the server (before the supervisor runs), that
//! appends every event it is given to a ring bounded both in events and in
//! bytes. What the ring no longer holds is below its `floor`: events
//! evicted for room, and events the recorder itself missed (its queue
//! overflowed: a `lagged` marker) or that came before it started.
//!
//! How a resume has no gap and no duplicate: the handler subscribes first
//! (live events then start after some `seq` N), reads the bus's latest
//! `seq` M ≥ N, and waits until the recorder has taken everything up to M.
//! The ring then holds (floor, M]; the stream sends the ring's events after
//! SEQ, then the subscription's live events after M.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use linesman_observer::{Bus, Event, Interest, Subscription, What};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How long a resume waits for the recorder to catch up with the bus.
const CATCH_UP: Duration = Duration::from_secs(2);

/// The recent events of one bus.
#[derive(Debug)]
pub(crate) struct History {
    ring: Mutex<Ring>,
    /// The latest `seq` the recorder has taken in (recorded, or known lost).
    taken: watch::Sender<u64>,
    max_events: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Ring {
    events: VecDeque<(Arc<Event>, usize)>,
    bytes: usize,
    /// Events with this `seq` or lower may be missing from the ring.
    floor: u64,
}

/// What a resume after `since` gets from the history.
#[derive(Debug)]
pub(crate) enum Resume {
    /// Every event after `since` up to `through`, in order (those the
    /// interest admits); live events after `through` follow.
    Events {
        events: Vec<Arc<Event>>,
        through: u64,
    },
    /// Events `from` to `to` are gone: the current state follows.
    Gap { from: u64, to: u64 },
}

impl History {
    /// A history of at most `max_events` events and about `max_bytes`
    /// bytes, and its recorder's subscription (subscribed now, so nothing
    /// published from here on is missed); run it with [`History::record`].
    pub(crate) fn new(bus: &Bus, max_events: usize, max_bytes: usize) -> (Arc<History>, Recorder) {
        let subscription = bus.subscribe(Interest::all());
        // Events before the subscription, up to now, are not recorded.
        let start = bus.metrics().published;
        let history = Arc::new(History {
            ring: Mutex::new(Ring {
                floor: start,
                ..Ring::default()
            }),
            taken: watch::Sender::new(start),
            max_events: max_events.max(1),
            max_bytes,
        });
        let recorder = Recorder {
            history: Arc::clone(&history),
            subscription,
        };
        (history, recorder)
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        // Every critical section leaves the ring consistent.
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, event: Event) {
        let seq = event.seq;
        let size = size_of(&event);
        let mut ring = self.ring();
        ring.events.push_back((Arc::new(event), size));
        ring.bytes += size;
        while ring.events.len() > self.max_events || ring.bytes > self.max_bytes {
            let Some((old, size)) = ring.events.pop_front() else {
                break;
            };
            ring.bytes -= size;
            ring.floor = ring.floor.max(old.seq);
        }
        drop(ring);
        self.taken.send_replace(seq);
    }

    /// The recorder missed events up to `seq` (its queue overflowed).
    fn lost_through(&self, seq: u64) {
        let mut ring = self.ring();
        ring.events.clear();
        ring.bytes = 0;
        ring.floor = ring.floor.max(seq);
        drop(ring);
        self.taken.send_replace(seq);
    }

    /// What a watcher that saw every event through `since` missed, up to
    /// the bus's latest event `now` (read after its subscription was made),
    /// among those `interest` admits. Waits (briefly) for the recorder to
    /// have taken `now`; if it does not, the events are reported gone.
    pub(crate) async fn resume(&self, since: u64, now: u64, interest: &Interest) -> Resume {
        if since > now {
            // A `seq` from the future: the daemon was restarted and counts
            // from 1 again. Everything it has done may be news.
            return Resume::Gap { from: 1, to: now };
        }
        let mut taken = self.taken.subscribe();
        let caught_up = tokio::time::timeout(CATCH_UP, taken.wait_for(|seq| *seq >= now)).await;
        if !matches!(caught_up, Ok(Ok(_))) {
            return Resume::Gap {
                from: since + 1,
                to: now,
            };
        }
        let ring = self.ring();
        if since < ring.floor {
            return Resume::Gap {
                from: since + 1,
                to: ring.floor,
            };
        }
        let events = ring
            .events
            .iter()
            .map(|(event, _)| event)
            .filter(|event| event.seq > since && event.seq <= now && interest.matches(event))
            .cloned()
            .collect();
        Resume::Events {
            events,
            through: now,
        }
    }
}

/// The task that fills a [`History`] from its subscription.
#[derive(Debug)]
pub(crate) struct Recorder {
    history: Arc<History>,
    subscription: Subscription,
}

impl Recorder {
    /// Records until the bus closes or `stop` is cancelled.
    pub(crate) async fn record(mut self, stop: CancellationToken) {
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => return,
                event = self.subscription.next() => event,
            };
            let Some(event) = event else { return };
            match &event.what {
                // The marker carries the `seq` its fresh snapshot is as of.
                What::Lagged(_) => self.history.lost_through(event.seq),
                _ if event.replay => {}
                _ => self.history.push(event),
            }
        }
    }
}

/// About how many bytes `event` holds: the struct, its name and the
/// payload's text (what its strings take), without allocating.
fn size_of(event: &Event) -> usize {
    struct Count(usize);
    impl fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = write!(count, "{}", event.what);
    std::mem::size_of::<Event>()
        + std::mem::size_of::<(Arc<Event>, usize)>()
        + event.conn.len()
        + count.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use linesman_observer::Connecting;

    async fn recorded(
        bus: &Bus,
        max_events: usize,
        max_bytes: usize,
        publish: u32,
    ) -> Arc<History> {
        let (history, recorder) = History::new(bus, max_events, max_bytes);
        let stop = CancellationToken::new();
        let task = tokio::spawn(recorder.record(stop.clone()));
        let publisher = bus.publisher("a");
        for attempt in 1..=publish {
            publisher.publish(Connecting { attempt }).expect("open");
        }
        let now = bus.metrics().published;
        let mut taken = history.taken.subscribe();
        taken.wait_for(|seq| *seq >= now).await.expect("recorded");
        stop.cancel();
        task.await.expect("the recorder ends");
        history
    }

    #[tokio::test]
    async fn a_resume_within_the_ring_gets_exactly_the_events_after_since() {
        let bus = Bus::default();
        let history = recorded(&bus, 100, usize::MAX, 10).await;
        let Resume::Events { events, through } = history.resume(4, 10, &Interest::all()).await
        else {
            panic!("the ring holds them");
        };
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!((seqs, through), ((5..=10).collect(), 10));
    }

    #[tokio::test]
    async fn a_resume_before_the_ring_is_a_gap_up_to_its_floor() {
        let bus = Bus::default();
        let history = recorded(&bus, 5, usize::MAX, 12).await;
        let gap = history.resume(2, 12, &Interest::all()).await;
        assert!(matches!(gap, Resume::Gap { from: 3, to: 7 }), "{gap:?}");
        let kept = history.resume(7, 12, &Interest::all()).await;
        assert!(
            matches!(&kept, Resume::Events { events, .. } if events.len() == 5),
            "{kept:?}"
        );
        let ahead = history.resume(99, 12, &Interest::all()).await;
        assert!(
            matches!(ahead, Resume::Gap { from: 1, to: 12 }),
            "{ahead:?}"
        );
    }

    #[tokio::test]
    async fn the_byte_bound_evicts_too() {
        let bus = Bus::default();
        let one = std::mem::size_of::<Event>() + 40;
        let history = recorded(&bus, 1000, 3 * one, 10).await;
        let ring = history.ring();
        assert!(ring.bytes <= 3 * one, "{} > {}", ring.bytes, 3 * one);
        assert!(
            (1..10).contains(&ring.events.len()),
            "{}",
            ring.events.len()
        );
        assert_eq!(ring.floor, 10 - ring.events.len() as u64);
    }
}
