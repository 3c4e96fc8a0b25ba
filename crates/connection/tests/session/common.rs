//! Shared test helpers: a recording handler, running a session in the
//! background, and waiting for events.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use linesman_connection::{
    Connection, ConnectionHandle, ConnectionSpec, Handler, HandlerError, Link, Reason,
    SessionControl, SessionOutcome,
};
use linesman_ipc_codec::Frame;
use linesman_observer::{Bus, Event, EventType, Interest, Subscription};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Upper bound on any wait in a test, so a broken test fails instead of
/// hanging. Never asserted as a duration.
pub(crate) const T: Duration = Duration::from_secs(10);

/// What a [`Recorder`] was told, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    Connect,
    Frame(Frame),
    Disconnect(Reason),
}

/// A shared, ordered log of calls and other marks.
#[derive(Debug, Clone)]
pub(crate) struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Arc::new(Mutex::new(Vec::new())))
    }
}

impl<T: Clone> Log<T> {
    pub(crate) fn push(&self, item: T) {
        self.0.lock().expect("log lock").push(item);
    }

    pub(crate) fn items(&self) -> Vec<T> {
        self.0.lock().expect("log lock").clone()
    }
}

/// A handler that records every call, forwards frames to a channel, and
/// misbehaves on request.
pub(crate) struct Recorder {
    pub(crate) log: Log<Call>,
    pub(crate) frames: mpsc::UnboundedSender<Frame>,
    /// Frames to send through the link in `on_connect` (requests if `request`).
    pub(crate) handshake: Vec<Frame>,
    /// Whether the handshake frames are sent as requests.
    pub(crate) request: bool,
    /// `on_connect` fails with this message.
    pub(crate) fail_connect: Option<&'static str>,
    /// `on_frame` panics on a frame of this type.
    pub(crate) panic_on: Option<u32>,
    /// `on_frame` fails on a frame of this type.
    pub(crate) fail_on: Option<u32>,
    /// `on_frame` finishes the session on a frame of this type.
    pub(crate) finish_on: Option<u32>,
}

impl Recorder {
    pub(crate) fn new() -> (Recorder, Log<Call>, mpsc::UnboundedReceiver<Frame>) {
        let (frames, rx) = mpsc::unbounded_channel();
        let log = Log::default();
        let recorder = Recorder {
            log: log.clone(),
            frames,
            handshake: Vec::new(),
            request: false,
            fail_connect: None,
            panic_on: None,
            fail_on: None,
            finish_on: None,
        };
        (recorder, log, rx)
    }
}
impl Handler for Recorder {
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        if let Some(message) = self.fail_connect {
            return Err(HandlerError::msg(message));
        }
        for frame in self.handshake.clone() {
            if self.request {
                link.request(frame, T).await?;
            } else {
                link.send(frame).await?;
            }
        }
        self.log.push(Call::Connect);
        Ok(())
    }

    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
        self.log.push(Call::Frame(frame.clone()));
        if self.finish_on == Some(frame.ty) {
            link.finish();
        }
        if self.panic_on == Some(frame.ty) {
            panic!("boom on frame type {}", frame.ty);
        }
        if self.fail_on == Some(frame.ty) {
            return Err(HandlerError::msg(format!(
                "refused frame type {}",
                frame.ty
            )));
        }
        let _ = self.frames.send(frame);
        Ok(())
    }

    async fn on_disconnect(&mut self, reason: &Reason) {
        self.log.push(Call::Disconnect(reason.clone()));
    }
}

/// How long a stopped session may take to write what was queued.
pub(crate) const DRAIN: Duration = Duration::from_millis(200);

/// Runs one session of `conn` in the background; gives the connection back
/// with the outcome.
pub(crate) fn start(
    mut conn: Connection,
    attempt: u32,
) -> JoinHandle<(Connection, SessionOutcome)> {
    tokio::spawn(async move {
        let outcome = conn.run_session(attempt, DRAIN).await;
        (conn, outcome)
    })
}

/// Waits (bounded) for the session to end.
pub(crate) async fn finish(
    session: JoinHandle<(Connection, SessionOutcome)>,
) -> (Connection, SessionOutcome) {
    tokio::time::timeout(T, session)
        .await
        .expect("the session ends in time")
        .expect("the session task does not panic")
}

/// The next event of the subscription (bounded wait).
pub(crate) async fn next_event(events: &mut Subscription) -> Event {
    tokio::time::timeout(T, events.next())
        .await
        .expect("an event comes in time")
        .expect("the bus is open")
}

/// Skips events until one of type `ty` comes, and returns it.
pub(crate) async fn wait_for(events: &mut Subscription, ty: EventType) -> Event {
    loop {
        let event = next_event(events).await;
        if event.event_type() == ty {
            return event;
        }
    }
}

/// The next frame a [`Recorder`] forwarded (bounded wait).
pub(crate) async fn next_frame(frames: &mut mpsc::UnboundedReceiver<Frame>) -> Frame {
    tokio::time::timeout(T, frames.recv())
        .await
        .expect("a frame comes in time")
        .expect("the handler is alive")
}

/// A spec for connection `name` to `peer`.
pub(crate) fn spec(name: &str, peer: &linesman_testkit::Peer) -> ConnectionSpec {
    ConnectionSpec::new(name, peer.endpoint())
}

/// Starts a session of `spec` with a [`Recorder`]; returns its handle,
/// its control, the session and the frames its handler gets.
pub(crate) async fn up(
    spec: ConnectionSpec,
) -> (
    ConnectionHandle,
    SessionControl,
    JoinHandle<(Connection, SessionOutcome)>,
    mpsc::UnboundedReceiver<Frame>,
) {
    let bus = Bus::default();
    let name = spec.name.clone();
    let mut events = bus.subscribe(Interest::all().conn(name.as_str()));
    let (recorder, _log, frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let control = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    (handle, control, session, frames)
}
