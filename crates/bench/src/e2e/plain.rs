//! The e2e baseline: plain tokio `Framed<TcpStream, LengthDelimitedCodec>`,
//! its codec configured to linesman's 8-byte header so it splits the same
//! bytes into the same frames.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::{BufMut, BytesMut};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use super::peers::Target;

/// linesman's header as `LengthDelimitedCodec` sees it: a 4-byte length at
/// offset 4 (after type and flags) that counts the payload only; the whole
/// frame, header included, is yielded. With `num_skip(0)` the codec reads
/// `length + length_adjustment` bytes from the start of the frame, so the
/// adjustment is the header's 8 bytes (with 0 it would cut every frame
/// short by 8 bytes and lose step with the stream).
fn header_codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_offset(4)
        .length_field_length(4)
        .length_adjustment(8)
        .num_skip(0)
        .max_frame_length(16 * 1024 * 1024)
        .new_codec()
}

async fn connect(target: &Target) -> anyhow::Result<Framed<TcpStream, LengthDelimitedCodec>> {
    let stream = TcpStream::connect(target.addr)
        .await
        .with_context(|| format!("baseline cannot connect to {}", target.addr))?;
    // linesman's default too.
    stream.set_nodelay(true)?;
    Ok(Framed::new(stream, header_codec()))
}

/// Connects and reads `count` frames; the time from the connect to the last.
pub(super) async fn frames(target: &Target, count: u64) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut framed = connect(target).await?;
    for seen in 0..count {
        match framed.next().await {
            Some(Ok(frame)) => {
                black_box(&frame);
            }
            Some(Err(error)) => return Err(error).context("baseline read failed"),
            None => anyhow::bail!("the peer closed after {seen} of {count} frames"),
        }
    }
    Ok(start.elapsed())
}

/// Connects, then times `count` sequential round trips of `len`-byte
/// payloads: header and payload written with one `write_all`, one frame
/// read, within `deadline` if one is given (as linesman's `request` always
/// has one).
pub(super) async fn round_trips(
    target: &Target,
    count: u64,
    len: usize,
    deadline: Option<Duration>,
) -> anyhow::Result<Duration> {
    let mut framed = connect(target).await?;
    let payload = vec![0x5a; len];
    let mut out = BytesMut::with_capacity(8 + len);
    let start = Instant::now();
    for _ in 0..count {
        out.clear();
        out.put_u16(2); // type
        out.put_u16(0); // flags: no id
        out.put_u32(len as u32);
        out.put_slice(&payload);
        framed.get_mut().write_all(&out).await?;
        let reply = match deadline {
            Some(deadline) => tokio::time::timeout(deadline, framed.next())
                .await
                .context("the baseline's request timed out")?,
            None => framed.next().await,
        };
        match reply {
            Some(Ok(reply)) => {
                black_box(&reply);
            }
            Some(Err(error)) => return Err(error).context("baseline read failed"),
            None => anyhow::bail!("the echo peer closed"),
        }
    }
    Ok(start.elapsed())
}
