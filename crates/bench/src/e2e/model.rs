//! Models of request designs in plain tokio, measured against the plain
//! single-task client (`LINESMAN_BENCH_E2E_ONLY=models`; not part of
//! `all`). In these cases the "linesman" column is the model, not
//! linesman: they measure how close to the single task a design can come
//! at all, before any of linesman's own work, so that linesman's figure
//! can be read against the ceiling of its design.
//!
//! Every model keeps what linesman's sessions need besides requests: a
//! task that owns the connection's reads and gets every frame no request
//! is waiting for (a peer's own messages, the end of the stream). What
//! differs is who reads a request's reply:
//! - `two tasks` ([`plain::round_trips_matched`](super::plain)): the
//!   session reads it and hands it over through a oneshot, as linesman
//!   does today;
//! - `lent reader` ([`round_trips_lent`] with [`Rearm::WakeSession`]): the
//!   requester borrows the session's reader and reads its reply itself;
//!   when it gives the reader back it wakes the session, which polls the
//!   socket again so that it is woken by the next bytes;
//! - `lent reader, re-armed` ([`Rearm::SessionWaker`]): the same, but the
//!   requester polls the reader once more with the session's waker as it
//!   gives it back, so the session is never woken for nothing.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::{AsyncWriteExt, ReadHalf};
use tokio::net::TcpStream;
use tokio_util::codec::{FramedRead, LengthDelimitedCodec};

use super::peers::Target;
use super::plain::{connect_stream, encode_request, header_codec, lock};

type Reader = FramedRead<ReadHalf<TcpStream>, LengthDelimitedCodec>;

/// How the session is told that its reader is back.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rearm {
    /// Woken, to poll the socket itself.
    WakeSession,
    /// Its waker registered with the socket by the requester's last poll.
    SessionWaker,
}

/// The session's reader while nobody reads, and the session's waker.
struct Slot {
    reader: Option<Reader>,
    session: Option<Waker>,
}

/// The model's session: whenever its reader is home, reads every frame
/// the socket holds (none come here: the echo peer sends only replies),
/// then waits for the next bytes; while a requester has the reader, waits
/// for it to come back.
async fn session(slot: Arc<Mutex<Slot>>) {
    std::future::poll_fn(|cx| {
        let mut slot = lock(&slot);
        let Some(mut reader) = slot.reader.take() else {
            slot.session = Some(cx.waker().clone());
            return Poll::Pending;
        };
        let polled = loop {
            match reader.poll_next_unpin(cx) {
                Poll::Ready(Some(frame)) => {
                    black_box(&frame);
                }
                Poll::Ready(None) => break Poll::Ready(()),
                Poll::Pending => break Poll::Pending,
            }
        };
        slot.reader = Some(reader);
        if !slot
            .session
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            slot.session = Some(cx.waker().clone());
        }
        polled
    })
    .await;
}

/// Times `count` sequential round trips of `len`-byte payloads, each
/// reply read by its requester with the session's reader (borrowed before
/// the write, so no other reader can take the reply), within `deadline`.
pub(super) async fn round_trips_lent(
    target: &Target,
    count: u64,
    len: usize,
    deadline: Duration,
    rearm: Rearm,
) -> anyhow::Result<Duration> {
    let (read, mut write) = tokio::io::split(connect_stream(target).await?);
    let slot = Arc::new(Mutex::new(Slot {
        reader: Some(FramedRead::new(read, header_codec())),
        session: None,
    }));
    let session = tokio::spawn(session(Arc::clone(&slot)));
    let payload = vec![0x5a; len];
    let mut out = BytesMut::with_capacity(8 + len);
    let start = Instant::now();
    for _ in 0..count {
        let mut reader = lock(&slot)
            .reader
            .take()
            .context("the reader is lent to nobody else")?;
        encode_request(&mut out, &payload);
        write.write_all(&out).await?;
        let reply = tokio::time::timeout(deadline, reader.next())
            .await
            .context("the model's request timed out")?;
        give_back(&slot, reader, rearm);
        match reply {
            Some(Ok(reply)) => {
                black_box(&reply);
            }
            Some(Err(error)) => return Err(error).context("the model's read failed"),
            None => anyhow::bail!("the echo peer closed"),
        }
    }
    let elapsed = start.elapsed();
    session.abort();
    Ok(elapsed)
}

/// Puts the reader back and lets the session know, as `rearm` says.
fn give_back(slot: &Mutex<Slot>, mut reader: Reader, rearm: Rearm) {
    let mut slot = lock(slot);
    if let Some(waker) = slot.session.clone() {
        match rearm {
            Rearm::WakeSession => waker.wake(),
            Rearm::SessionWaker => {
                // Bytes already there (a frame for the session) wake it.
                let mut cx = Context::from_waker(&waker);
                if let Poll::Ready(item) = reader.poll_next_unpin(&mut cx) {
                    black_box(&item);
                    waker.wake();
                }
            }
        }
    }
    slot.reader = Some(reader);
}
