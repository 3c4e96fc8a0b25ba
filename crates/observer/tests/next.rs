//! A subscription read with its own `next()`: an application needs no
//! stream crate (no `tokio_stream` or `futures` import in this file).

use linesman_observer::{Bus, Connected, Connecting, EventType, Interest};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_yields_its_events_with_its_own_next_then_ends() {
    let bus = Bus::default();
    let mut feeds = bus.subscribe(Interest::all().conn("quotes"));
    let quotes = bus.publisher("quotes");
    quotes.publish(Connecting { attempt: 1 }).expect("open");
    bus.publisher("audit")
        .publish(Connecting { attempt: 1 })
        .expect("open");

    // A live wait: the event arrives while `next` is pending.
    let next = tokio::spawn(async move {
        let first = feeds.next().await.map(|e| (e.seq, e.event_type()));
        let second = feeds.next().await.map(|e| (e.seq, e.event_type()));
        (feeds, first, second)
    });
    quotes
        .publish(Connected {
            peer: "127.0.0.1:7001".into(),
        })
        .expect("open");
    let (mut feeds, first, second) = tokio::time::timeout(Duration::from_secs(10), next)
        .await
        .expect("both events arrive")
        .expect("the reader does not panic");
    assert_eq!(first, Some((1, EventType::Connecting)));
    assert_eq!(second, Some((3, EventType::Connected)));

    bus.close().await;
    assert!(feeds.next().await.is_none(), "ends once the bus is closed");
    assert!(feeds.next().await.is_none(), "and stays ended");
    assert_eq!(feeds.stats().delivered, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_given_up_on_loses_no_event() {
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all());
    // Nothing published yet: the wait is cancelled by the timeout.
    let nothing = tokio::time::timeout(Duration::from_millis(10), events.next()).await;
    assert!(nothing.is_err(), "nothing to take yet");
    bus.publisher("quotes")
        .publish(Connecting { attempt: 1 })
        .expect("open");
    let event = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the event arrives");
    assert_eq!(event.map(|e| e.seq), Some(1));
}
