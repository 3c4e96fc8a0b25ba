//! Interest filtering by connection name, kind, tag and event type, and the
//! typed `bus.on::<T>` listener.

use linesman_observer::{
    Bus, Connected, Connecting, Disconnected, DynListener, Event, EventType, Interest, Listener,
    Publisher,
};
use std::sync::{Arc, Mutex};
use tokio_stream::StreamExt;

fn connections(bus: &Bus) -> Vec<Publisher> {
    vec![
        bus.publisher("quotes").kind("feed").tags(["eu"]),
        bus.publisher("orders").kind("feed").tags(["us"]),
        bus.publisher("programmer").tags(["eu", "hw"]),
        bus.publisher("audit"),
    ]
}

fn publish_all(publishers: &[Publisher]) {
    for p in publishers {
        p.publish(Connecting { attempt: 1 }).expect("open");
        p.publish(Connected {
            peer: format!("{}-peer", p.name()),
        })
        .expect("open");
        p.publish(Disconnected {
            reason: "gone".into(),
        })
        .expect("open");
    }
}

/// (connection, event type) of every event the stream yields until it ends.
async fn seen(stream: linesman_observer::Subscription) -> Vec<(String, EventType)> {
    stream
        .map(|e: Event| (e.conn.to_string(), e.event_type()))
        .collect()
        .await
}

fn expect(conns: &[&str], types: &[EventType]) -> Vec<(String, EventType)> {
    let order = ["quotes", "orders", "programmer", "audit"];
    order
        .iter()
        .filter(|c| conns.contains(c))
        .flat_map(|c| types.iter().map(move |t| (c.to_string(), *t)))
        .collect()
}

const ALL_TYPES: [EventType; 3] = [
    EventType::Connecting,
    EventType::Connected,
    EventType::Disconnected,
];

#[tokio::test]
async fn interest_filters_by_name_kind_tag_and_type() {
    let bus = Bus::default();
    let by_name = bus.subscribe(Interest::all().conn("programmer").conn("audit"));
    let by_kind = bus.subscribe(Interest::all().kind("feed"));
    let by_tag = bus.subscribe(Interest::all().tag("eu"));
    let by_type = bus.subscribe(Interest::all().event::<Connected>());
    let kind_and_tag = bus.subscribe(Interest::all().kind("feed").tag("eu"));
    let types = bus
        .subscribe(Interest::all().event_types([EventType::Connecting, EventType::Disconnected]));
    publish_all(&connections(&bus));
    bus.close().await;

    assert_eq!(
        seen(by_name).await,
        expect(&["programmer", "audit"], &ALL_TYPES)
    );
    assert_eq!(
        seen(by_kind).await,
        expect(&["quotes", "orders"], &ALL_TYPES)
    );
    assert_eq!(
        seen(by_tag).await,
        expect(&["quotes", "programmer"], &ALL_TYPES)
    );
    assert_eq!(
        seen(by_type).await,
        expect(
            &["quotes", "orders", "programmer", "audit"],
            &[EventType::Connected]
        )
    );
    assert_eq!(seen(kind_and_tag).await, expect(&["quotes"], &ALL_TYPES));
    assert_eq!(
        seen(types).await,
        expect(
            &["quotes", "orders", "programmer", "audit"],
            &[EventType::Connecting, EventType::Disconnected]
        )
    );
}

#[tokio::test]
async fn replay_ignores_the_type_filter_so_a_down_connection_is_known() {
    let bus = Bus::default();
    publish_all(&connections(&bus));
    // Only listens for `Connected`, yet learns that `quotes` is down now.
    let late = bus.subscribe(Interest::all().conn("quotes").event::<Connected>());
    bus.close().await;
    let events: Vec<Event> = late.collect().await;
    assert_eq!(events.len(), 1);
    assert!(events[0].replay);
    assert_eq!(events[0].event_type(), EventType::Disconnected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_listener_gets_only_its_type_with_the_payload() {
    let bus = Bus::default();
    let ups = Arc::new(Mutex::new(Vec::new()));
    let _handle = bus.on::<Connected>({
        let ups = ups.clone();
        move |event, up| {
            ups.lock()
                .expect("not poisoned")
                .push((event.conn.to_string(), up.peer.clone()));
        }
    });
    publish_all(&connections(&bus));
    bus.close().await;
    let ups = ups.lock().expect("not poisoned").clone();
    assert_eq!(
        ups,
        ["quotes", "orders", "programmer", "audit"].map(|c| (c.to_string(), format!("{c}-peer")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_listener_narrowed_by_an_interest_gets_only_those_events() {
    let bus = Bus::default();
    let publishers = connections(&bus);
    // `quotes`, a feed tagged `eu`, has a `Disconnected` before the
    // listener exists: not even its replay may arrive.
    publish_all(&publishers[..1]);
    let downs = Arc::new(Mutex::new(Vec::new()));
    let _handle = bus.on_with::<Disconnected>(Interest::all().kind("feed").tag("us"), {
        let downs = downs.clone();
        move |event, down| {
            downs.lock().expect("not poisoned").push((
                event.conn.to_string(),
                down.reason.clone(),
                event.replay,
            ));
        }
    });
    publish_all(&publishers[1..]);
    bus.close().await;
    let downs = downs.lock().expect("not poisoned").clone();
    // `orders` is the one feed tagged `us`; of its events only the down.
    assert_eq!(downs, [("orders".to_string(), "gone".to_string(), false)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_listener_narrowed_to_one_connection_learns_its_state_by_replay() {
    let bus = Bus::default();
    let publishers = connections(&bus);
    for p in &publishers {
        p.publish(Connected {
            peer: format!("{}-peer", p.name()),
        })
        .expect("open");
    }
    let ups = Arc::new(Mutex::new(Vec::new()));
    let _handle = bus.on_with::<Connected>(Interest::all().conn("audit"), {
        let ups = ups.clone();
        move |event, up| {
            ups.lock().expect("not poisoned").push((
                event.conn.to_string(),
                up.peer.clone(),
                event.replay,
            ));
        }
    });
    bus.publisher("audit")
        .publish(Connected {
            peer: "again".into(),
        })
        .expect("open");
    bus.close().await;
    let ups = ups.lock().expect("not poisoned").clone();
    assert_eq!(
        ups,
        [
            ("audit".to_string(), "audit-peer".to_string(), true),
            ("audit".to_string(), "again".to_string(), false),
        ]
    );
}

/// Records the connections of its events; wants the feeds only.
struct Feeds {
    seen: Mutex<Vec<String>>,
}

impl Listener for Feeds {
    async fn on_event(&self, event: &Event) {
        self.seen
            .lock()
            .expect("not poisoned")
            .push(event.conn.to_string());
    }
    fn name(&self) -> &str {
        "feeds"
    }
    fn interest(&self) -> Interest {
        Interest::all().kind("feed").event::<Connected>()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_held_as_dyn_keeps_its_name_and_interest() {
    let bus = Bus::default();
    let shared: Arc<dyn DynListener> = Arc::new(Feeds {
        seen: Mutex::default(),
    });
    let boxed: Box<dyn DynListener> = Box::new(Feeds {
        seen: Mutex::default(),
    });
    let by_arc = bus.listen(shared.clone());
    let by_box = bus.listen(boxed);
    assert_eq!((by_arc.name(), by_box.name()), ("feeds", "feeds"));
    publish_all(&connections(&bus));
    bus.close().await;
    assert_eq!(by_arc.stats().delivered, 2, "the Connected of each feed");
    assert_eq!(by_box.stats().delivered, 2, "the Connected of each feed");
}
