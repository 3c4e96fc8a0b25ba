//! The e2e linesman side: one `Connection::run_session` per repetition,
//! with a handler that counts frames (one `on_frame` call per frame, or one
//! `on_frames` call per burst), or requests through its handle.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use linesman_connection::{
    Burst, Connection, ConnectionSpec, Counting, DynHandler, Handler, HandlerError, Link,
    SessionControl,
};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, EventType};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::peers::Target;

/// Time a stopped session gets to flush (nothing is queued here).
const DRAIN: Duration = Duration::from_secs(1);

/// Counts frames and says when the last one expected arrived.
struct CountFrames {
    expected: u64,
    seen: u64,
    done: Option<oneshot::Sender<()>>,
}
impl Handler for CountFrames {
    async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        black_box(&frame);
        self.seen += 1;
        if self.seen == self.expected
            && let Some(done) = self.done.take()
        {
            let _ = done.send(());
        }
        Ok(())
    }
}

/// Counts frames a burst at a time (`on_frames`), with the same work per
/// frame as [`CountFrames`].
struct CountBursts(CountFrames);
impl Handler for CountBursts {
    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
        self.0.on_frame(frame, link).await
    }

    async fn on_frames(&mut self, frames: &mut Burst, _link: &Link) -> Result<(), HandlerError> {
        let counter = &mut self.0;
        for frame in frames {
            black_box(&frame);
            counter.seen += 1;
        }
        if counter.seen >= counter.expected
            && let Some(done) = counter.done.take()
        {
            let _ = done.send(());
        }
        Ok(())
    }
}

/// Which handler API the frames case uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Api {
    /// `on_frame`: one call per frame.
    OnFrame,
    /// `on_frames` overridden: one call per burst.
    OnFrames,
}

/// A session of a fresh connection to `target`, on its own task.
fn session(target: &Target, handler: Box<dyn DynHandler>) -> (Connection, SessionControl) {
    let bus = Bus::default();
    let spec = ConnectionSpec::new("e2e", target.endpoint.clone());
    let conn = Connection::new(spec, handler, &bus);
    let stop = conn.session_control();
    (conn, stop)
}

fn spawn(mut conn: Connection) -> JoinHandle<linesman_connection::SessionOutcome> {
    tokio::spawn(async move { conn.run_session(1, DRAIN).await })
}

/// Connects and receives `count` frames through `api`; the time from the
/// connect to the last.
pub(crate) async fn frames(target: &Target, count: u64, api: Api) -> anyhow::Result<Duration> {
    let (done, arrived) = oneshot::channel();
    let counter = CountFrames {
        expected: count,
        seen: 0,
        done: Some(done),
    };
    let handler: Box<dyn DynHandler> = match api {
        Api::OnFrame => Box::new(counter),
        Api::OnFrames => Box::new(CountBursts(counter)),
    };
    let (conn, stop) = session(target, handler);
    let start = Instant::now();
    let running = spawn(conn);
    let received = arrived.await;
    let elapsed = start.elapsed();
    stop.stop();
    let outcome = running.await.context("the session task failed")?;
    received.map_err(|_| anyhow::anyhow!("the session ended early: {}", outcome.reason))?;
    Ok(elapsed)
}

/// Connects, then times `count` sequential requests of `len`-byte payloads.
pub(crate) async fn round_trips(
    target: &Target,
    count: u64,
    len: usize,
) -> anyhow::Result<Duration> {
    let (conn, stop) = session(target, Box::new(Counting));
    let handle = conn.handle();
    let mut events = handle.events();
    let running = spawn(conn);
    loop {
        let event = events.next().await.context("the bus closed")?;
        match event.event_type() {
            EventType::Connected => break,
            EventType::ConnectFailed => anyhow::bail!("linesman could not connect: {event}"),
            _ => {}
        }
    }
    drop(events);
    let payload = Bytes::from(vec![0x5a; len]);
    let start = Instant::now();
    for _ in 0..count {
        let reply = handle
            .request(Frame::new(2, payload.clone()), super::REQUEST_TIMEOUT)
            .await
            .context("a request failed")?;
        black_box(&reply);
    }
    let elapsed = start.elapsed();
    stop.stop();
    running.await.context("the session task failed")?;
    Ok(elapsed)
}
