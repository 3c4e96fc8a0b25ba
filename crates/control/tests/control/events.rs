//! `GET /v1/events`: the current state first, then live events, until the
//! daemon shuts down.

use futures_util::StreamExt;
use linesman_control::{State, What};

use crate::support::{Daemon, patiently, read_until};

#[tokio::test]
async fn events_start_with_the_current_state_then_deliver_live_events() {
    let daemon = Daemon::start("control-events").await;
    let mut events = daemon.client.events().await.expect("the events stream");

    let mut replay = Vec::new();
    for _ in 0..3 {
        let line = patiently("a replay line", events.next())
            .await
            .expect("a line")
            .expect("an event line");
        replay.push(line);
    }
    assert!(replay.iter().all(|l| l.replay), "{replay:?}");
    let mut conns: Vec<&str> = replay.iter().map(|l| l.conn.as_str()).collect();
    conns.sort_unstable();
    assert_eq!(conns, ["audit", "orders", "quotes"]);
    assert!(
        replay
            .iter()
            .all(|l| matches!(l.what, What::Connected { .. }) && l.state == Some(State::Up))
    );
    assert!(
        replay.windows(2).all(|w| w[0].seq < w[1].seq),
        "replay in seq order"
    );
    let quotes = replay.iter().find(|l| l.conn == "quotes").expect("quotes");
    assert_eq!(quotes.kind.as_deref(), Some("feed"));
    assert_eq!(quotes.tags, ["eu"]);
    assert!(
        matches!(&quotes.what, What::Connected { peer } if !peer.is_empty()),
        "{quotes:?}"
    );

    daemon.client.stop("audit").await.expect("audit stops");
    let live = read_until(&mut events, "audit's stopped event", |l| {
        l.conn == "audit" && matches!(l.what, What::Stopped { .. })
    })
    .await;
    let last = live.last().expect("a line");
    assert!(!last.replay);
    assert_eq!(last.state, Some(State::Stopped));
    assert!(
        matches!(&last.what, What::Stopped { reason } if !reason.is_empty()),
        "{last:?}"
    );
    assert!(
        live.iter().all(|l| l.seq > replay[2].seq),
        "live after replay"
    );
    assert!(
        live.windows(2).all(|w| w[0].seq < w[1].seq),
        "live in seq order"
    );

    // The stream ends when the daemon shuts down, after the shutdown's own
    // events: every connection still running is seen stopping.
    let stopping = tokio::spawn(daemon.stop());
    let rest = patiently("the stream to end", async {
        let mut rest = Vec::new();
        while let Some(line) = events.next().await {
            rest.push(line.expect("an event line"));
        }
        rest
    })
    .await;
    stopping.await.expect("the daemon stops");
    for name in ["quotes", "orders"] {
        assert!(
            rest.iter().any(|l| l.conn == name
                && matches!(l.what, What::Stopped { .. })
                && l.state == Some(State::Stopped)),
            "{name}'s final stopped event reached the follower: {rest:?}"
        );
    }
}

#[tokio::test]
async fn shutting_the_server_down_ends_open_streams_while_the_bus_lives() {
    let dir = linesman_testkit::TempDir::new("control-events-end").expect("a temp dir");
    let socket = dir.join("control.sock");
    let state = crate::support::idle_state();
    let bus = state.bus().clone();
    let server = linesman_control::ControlServer::bind(&socket, state)
        .expect("binds")
        .spawn();
    let client = linesman_control::Client::new(&socket);
    let mut events = client.events().await.expect("the events stream");

    // Without the server's own end of the stream, a graceful shutdown would
    // wait for this response forever.
    patiently("the server to shut down", server.shutdown())
        .await
        .expect("a clean shutdown");
    let rest = patiently("the stream to end", async {
        let mut rest = Vec::new();
        while let Some(line) = events.next().await {
            rest.push(line.expect("an event line"));
        }
        rest
    })
    .await;
    assert!(
        rest.is_empty(),
        "an idle supervisor has no events: {rest:?}"
    );
    assert!(!bus.is_closed(), "the bus was not what ended it");
    assert!(!socket.exists());
}

/// A server on an idle supervisor keeping `history` events.
fn history_server(
    dir: &linesman_testkit::TempDir,
    history: usize,
) -> (linesman_control::ServerHandle, linesman_observer::Bus) {
    let state = crate::support::idle_state();
    let bus = state.bus().clone();
    let server = linesman_control::ControlServer::bind(dir.join("control.sock"), state)
        .expect("binds")
        .with_options(linesman_control::ServerOptions::default().event_history(history))
        .spawn();
    (server, bus)
}

#[tokio::test]
async fn since_resumes_with_every_kept_event_then_says_when_they_are_gone() {
    use linesman_control::{Client, EventFilter};
    use linesman_observer::Connecting;

    let dir = linesman_testkit::TempDir::new("events-since").expect("a temp dir");
    let (server, bus) = history_server(&dir, 5);
    let client = Client::new(server.path());
    let idle = bus.publisher("idle");
    let publish = |n: u32| {
        for attempt in 1..=n {
            idle.publish(Connecting { attempt })
                .expect("the bus is open");
        }
    };
    publish(4);
    // Seqs 1..=4 are kept: a resume after 1 gets 2, 3, 4, then live 5.
    let mut events = client
        .events_with(&EventFilter::default().since(1))
        .await
        .expect("a stream");
    publish(1);
    let mut seqs = Vec::new();
    while seqs.len() < 4 {
        let line = patiently("a line", events.next())
            .await
            .expect("a line")
            .expect("an event");
        assert!(!line.replay, "no current-state lines on a resume: {line:?}");
        seqs.push(line.seq);
    }
    assert_eq!(seqs, [2, 3, 4, 5]);
    drop(events);

    // Ten more: only the last five are kept; a resume after 1 is a gap
    // up to the oldest evicted, then the current state.
    publish(10);
    let mut events = client
        .events_with(&EventFilter::default().since(1))
        .await
        .expect("a stream");
    let gap = patiently("the gap line", events.next())
        .await
        .expect("a line")
        .expect("an event");
    assert_eq!(gap.what, What::Gap { from: 2, to: 10 }, "{gap:?}");
    let state = patiently("the current state", events.next())
        .await
        .expect("a line")
        .expect("an event");
    assert!(state.replay && state.conn == "idle", "{state:?}");
    drop(events);

    // A seq ahead of the newest (from a daemon before a restart): the whole
    // run of this one may be unseen, and the line says why.
    let mut events = client
        .events_with(&EventFilter::default().since(1_000))
        .await
        .expect("a stream");
    let ahead = patiently("the gap line", events.next())
        .await
        .expect("a line")
        .expect("an event");
    assert_eq!(ahead.what, What::Gap { from: 1, to: 15 }, "{ahead:?}");
    assert!(
        ahead
            .message
            .contains("seq 1000 is ahead of this daemon's newest event (15)")
            && ahead.message.contains("restarted"),
        "{ahead:?}"
    );
    drop(events);

    // Filters narrow a resume too; a bad one is a 400 that says why.
    let mut events = client
        .events_with(&EventFilter::default().event_type("connected").since(12))
        .await
        .expect("a stream");
    idle.publish(linesman_observer::Connected { peer: "p".into() })
        .expect("the bus is open");
    let line = patiently("the connected line", events.next())
        .await
        .expect("a line")
        .expect("an event");
    assert_eq!((line.seq, line.what.type_name()), (16, "connected"));
    drop(events);
    let refused = client
        .events_with(&EventFilter::default().event_type("bogus"))
        .await
        .expect_err("an unknown type");
    assert!(
        matches!(
            &refused,
            linesman_control::ClientError::Api { status: 400, .. }
        ),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("unknown event type `bogus`"),
        "{refused}"
    );
    // A kind or tag no connection has would stream nothing for as long as
    // it stayed open: refused, saying so.
    for filter in [
        EventFilter::default().kind("nope"),
        EventFilter::default().tag("nope"),
    ] {
        let refused = client
            .events_with(&filter)
            .await
            .expect_err("a label no connection has");
        assert!(
            matches!(
                &refused,
                linesman_control::ClientError::Api { status: 404, .. }
            ) && refused.to_string().contains("`nope`")
                && refused.to_string().contains("nothing would ever match"),
            "{refused}"
        );
    }
    server.shutdown().await.expect("a clean shutdown");
}
