//! A blocking driver supervised as a connection: frames cut from what it
//! returns, receive only, and the idle timeout on paused time.

use std::io;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use linesman_connection::{BlockingTarget, Connection, ConnectionSpec, Reason, SendError};
use linesman_ipc_codec::{Codec, Frame};
use linesman_observer::{Bus, Connected, EventType, Interest};
use linesman_stream::{BlockingSource, BlockingSourceOptions};
use tokio_util::codec::Encoder;

use crate::common::{Call, Recorder, finish, next_frame, start, wait_for};

/// A target whose driver returns the chunks sent on the returned channel,
/// blocking until one comes; end of input once the sender is dropped.
fn channel_target() -> (BlockingTarget, std_mpsc::Sender<Vec<u8>>) {
    let (tx, rx) = std_mpsc::channel::<Vec<u8>>();
    let rx = Arc::new(Mutex::new(rx));
    let target = BlockingTarget::new("test-driver", move || {
        let rx = Arc::clone(&rx);
        let driver = move |buf: &mut [u8]| -> io::Result<usize> {
            let chunk = match rx.lock().map_err(|_| io::Error::other("poisoned"))?.recv() {
                Ok(chunk) => chunk,
                Err(_) => return Ok(0),
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            Ok(n)
        };
        BlockingSource::spawn(driver, BlockingSourceOptions::default().name("test-driver"))
            .map_err(io::Error::other)
    });
    (target, tx)
}

fn encode(frames: &[Frame]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for frame in frames {
        Codec::default().encode(frame, &mut out).expect("encodes");
    }
    out.to_vec()
}

#[tokio::test]
async fn a_blocking_source_delivers_frames_and_refuses_sends() {
    let (target, driver) = channel_target();
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("hw"));
    let (recorder, log, mut frames) = Recorder::new();
    let conn = Connection::new(
        ConnectionSpec::blocking("hw", target),
        Box::new(recorder),
        &bus,
    );
    let handle = conn.handle();
    let session = start(conn, 1);
    let up = wait_for(&mut events, EventType::Connected).await;
    assert_eq!(
        up.payload::<Connected>().map(|c| c.peer.as_str()),
        Some("blocking:test-driver")
    );

    // Two frames, the second split across two driver calls.
    let bytes = encode(&[Frame::new(1, "first"), Frame::request(2, 9, "second")]);
    driver.send(bytes[..20].to_vec()).expect("driver alive");
    driver.send(bytes[20..].to_vec()).expect("driver alive");
    assert_eq!(next_frame(&mut frames).await, Frame::new(1, "first"));
    assert_eq!(
        next_frame(&mut frames).await,
        Frame::request(2, 9, "second")
    );
    assert_eq!(
        handle.send(Frame::new(1, "no")).await,
        Err(SendError::ReceiveOnly)
    );

    drop(driver);
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::PeerClosed);
    assert_eq!(
        log.items().last(),
        Some(&Call::Disconnect(Reason::PeerClosed))
    );
    assert_eq!(handle.counters().frames_in, 2);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_blocking_source_ends_with_idle_timeout_on_paused_time() {
    let (target, driver) = channel_target();
    let bus = Bus::default();
    let after = Duration::from_secs(3); // below `T`, the bound of `finish`
    let spec = ConnectionSpec::blocking("quiet", target).idle_timeout(Some(after));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let (_conn, outcome) = finish(start(conn, 1)).await;
    assert_eq!(outcome.reason, Reason::IdleTimeout { after });
    assert!(outcome.was_up);
    drop(driver);
}
