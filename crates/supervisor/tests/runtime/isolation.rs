//! A panicking handler ends only its own session; the connection restarts
//! and every other connection keeps working.

use linesman_connection::{Burst, Handler, HandlerError, Link};
use linesman_ipc_codec::Frame;
use linesman_observer::{Disconnected, EventType};
use linesman_supervisor::{Spec, Supervisor, SupervisorError};
use linesman_testkit::Behavior;
use tokio::sync::watch;

use crate::common::{LIMIT, Running, conn, peer};

struct Panics;
impl Handler for Panics {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        panic!("this handler panics on every frame");
    }
}

struct Counts(watch::Sender<u64>);
impl Handler for Counts {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        self.0.send_modify(|n| *n += 1);
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_handler_is_isolated() {
    let send = Behavior::Send {
        count: 5,
        ty: 1,
        payload_len: 8,
    };
    let bad = peer(send.clone()).await;
    let good = peer(send).await;
    let spec = Spec::builder()
        .connection(conn("bad", bad.endpoint()))
        .connection(conn("good", good.endpoint()))
        .build()
        .expect("valid spec");
    let (frames, mut seen) = watch::channel(0u64);
    let supervisor = Supervisor::new(spec)
        .handler("bad", Panics)
        .expect("bad is declared")
        .handler("good", Counts(frames))
        .expect("good is declared");
    let mut run = Running::start(supervisor);

    let mut from = 0;
    for _ in 0..3 {
        let down = run
            .log
            .wait(from, "bad", |e| e.event_type() == EventType::Disconnected)
            .await;
        let reason = &run.log.events[down]
            .payload::<Disconnected>()
            .expect("a disconnect")
            .reason;
        assert!(reason.contains("panic"), "{reason}");
        from = down + 1;
    }
    tokio::time::timeout(LIMIT, seen.wait_for(|n| *n == 5))
        .await
        .expect("the good handler got every frame")
        .expect("the counter lives");
    assert_eq!(run.state("good").name(), "up");
    let log = run.stop().await;
    assert_eq!(log.count("good", EventType::Connected), 1);
    let good_types = log.types("good");
    let stopping = good_types.iter().position(|t| *t == EventType::Stopping);
    let down = good_types
        .iter()
        .position(|t| *t == EventType::Disconnected);
    assert!(down > stopping, "{}", log.render());
    assert!(log.count("bad", EventType::Backoff) >= 3);
}

#[tokio::test]
async fn handlers_for_unknown_or_handled_connections_are_refused() {
    let spec = Spec::builder()
        .connection(conn(
            "quotes",
            "tcp://127.0.0.1:1".parse().expect("endpoint"),
        ))
        .build()
        .expect("valid spec");
    let error = Supervisor::new(spec.clone())
        .handler("qoutes", Panics)
        .expect_err("no such connection");
    assert!(
        matches!(&error, SupervisorError::UnknownConnection { name, suggestion }
            if name == "qoutes" && suggestion.as_deref() == Some("quotes")),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "cannot set a handler for unknown connection `qoutes`: did you mean `quotes`?"
    );
    let error = Supervisor::new(spec)
        .handler("quotes", Panics)
        .expect("declared")
        .handler("quotes", Panics)
        .expect_err("a second handler");
    assert!(
        matches!(error, SupervisorError::DuplicateHandler { .. }),
        "{error}"
    );
}

/// Takes frames only in bursts; a frame handed to `on_frame` is a failure.
struct Bursts(watch::Sender<u64>);
impl Handler for Bursts {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        Err(HandlerError::msg("a frame bypassed on_frames"))
    }

    async fn on_frames(&mut self, frames: &mut Burst, _link: &Link) -> Result<(), HandlerError> {
        let n = frames.count() as u64;
        self.0.send_modify(|seen| *seen += n);
        Ok(())
    }
}

#[tokio::test]
async fn a_supervised_handler_gets_its_frames_in_bursts() {
    let feed = peer(Behavior::Send {
        count: 200,
        ty: 1,
        payload_len: 8,
    })
    .await;
    let spec = Spec::builder()
        .connection(conn("feed", feed.endpoint()))
        .build()
        .expect("valid spec");
    let (frames, mut seen) = watch::channel(0u64);
    let supervisor = Supervisor::new(spec)
        .handler("feed", Bursts(frames))
        .expect("feed is declared");
    let run = Running::start(supervisor);
    tokio::time::timeout(LIMIT, seen.wait_for(|n| *n == 200))
        .await
        .expect("every frame arrived through on_frames")
        .expect("the counter lives");
    let log = run.stop().await;
    assert_eq!(
        log.count("feed", EventType::Connected),
        1,
        "{}",
        log.render()
    );
}
