//! Run with: cargo run -p example-echo-client
//!
//! Lesson 1: the two bottom layers on their own, no supervision yet. A local
//! echo peer (from `linesman-testkit`) listens on loopback TCP and on a Unix
//! socket; this client connects to each through `linesman::stream` (with
//! socket hooks that print when they run), frames the stream with
//! `linesman::codec`, sends a typed message and a request with an id, and
//! prints what comes back: the message as it was, and the request's echo
//! marked as its reply. Lesson 2 hands all of this to the supervisor.

use anyhow::Context;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use linesman::codec::{Codec, Frame, Message, MessageError};
use linesman::stream::{ConnectOptions, Endpoint, SocketHooks, connect};
use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use std::os::fd::AsRawFd;
use tokio_util::codec::Framed;

/// A typed message: a price quote for a symbol.
#[derive(Debug, PartialEq)]
struct Quote {
    symbol: String,
    price_cents: u64,
}

impl Message for Quote {
    const TYPE: u32 = 0x0101;

    fn encode(&self, dst: &mut BytesMut) {
        dst.put_u64(self.price_cents);
        dst.put_slice(self.symbol.as_bytes());
    }

    fn decode(mut payload: Bytes) -> Result<Self, MessageError> {
        if payload.len() < 8 {
            return Err(MessageError::TooShort {
                ty: Self::TYPE,
                needed: 8,
                got: payload.len(),
            });
        }
        let price_cents = payload.get_u64();
        let symbol = String::from_utf8_lossy(&payload).into_owned();
        Ok(Quote {
            symbol,
            price_cents,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sockets = TempDir::new("echo-client").context("creating a temporary folder")?;
    let tcp_peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .context("starting the TCP echo peer")?;
    let unix_peer = Peer::start(Listen::unix(sockets.join("echo.sock")), Behavior::Echo)
        .await
        .context("starting the Unix echo peer")?;

    for endpoint in [tcp_peer.endpoint(), unix_peer.endpoint()] {
        talk_to(&endpoint).await?;
    }

    let stats = tcp_peer.stats();
    println!(
        "tcp peer saw {} connection(s) and {} frame(s)",
        stats.accepted, stats.frames_received
    );
    Ok(())
}

/// Connects to `endpoint`, sends a quote and a request, prints the echoes.
async fn talk_to(endpoint: &Endpoint) -> anyhow::Result<()> {
    let hooks = SocketHooks::default()
        .on_open(|socket| {
            let fd = socket.as_raw_fd();
            println!("  on_open: socket fd {fd} created, not yet connected");
            Ok(())
        })
        .before_close(|socket| {
            let fd = socket.as_raw_fd();
            match socket.local_addr().map(|address| address.as_socket()) {
                Ok(Some(local)) => println!("  before_close: fd {fd} still open, bound to {local}"),
                Ok(None) => println!("  before_close: fd {fd} still open (a Unix socket)"),
                Err(error) => println!("  before_close: fd {fd}: getsockname failed: {error}"),
            }
        });

    println!("connecting to {endpoint}");
    let stream = connect(endpoint, &ConnectOptions::default(), &hooks).await?;
    println!(
        "  connected: local {}, peer {}",
        stream.local_addr()?,
        stream.peer_addr()?
    );

    let mut framed = Framed::new(stream, Codec::default());
    let quote = Quote {
        symbol: "ACME".to_owned(),
        price_cents: 12_345,
    };
    framed.send(Frame::from_message(&quote)).await?;
    framed
        .send(Frame::request(0x0200, 7, Bytes::from_static(b"status?")))
        .await?;

    for _ in 0..2 {
        let frame = framed
            .next()
            .await
            .context("the echo peer closed the connection early")??;
        match frame.ty {
            Quote::TYPE => println!("  received {:?}", frame.decode::<Quote>()?),
            _ => println!(
                "  received frame type {:#06x}, id {:?}, reply {}, payload {:?}",
                frame.ty, frame.id, frame.reply, frame.payload
            ),
        }
    }

    framed.into_inner().close().await?;
    println!("  closed");
    Ok(())
}
