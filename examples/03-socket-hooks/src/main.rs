//! Run with: cargo run -p example-socket-hooks
//!
//! Lesson 3: socket hooks, the two moments only the transport sees.
//!
//! - `on_open` runs on the raw socket after it is created and before it
//!   connects: the place for options that must be set before the handshake
//!   (here the IP type of service and the send buffer; a source address, a
//!   firewall mark or a device binding would go here too). It runs for every
//!   attempt, the refused ones included.
//! - `before_close` runs right before linesman closes the socket, while the
//!   file descriptor is still open: the place to read what only the open
//!   socket can tell (its addresses, its options) and to clean up. linesman owns every close, so it runs exactly once for every
//!   socket, connected or refused, dropped by the peer or shut down.
//!
//! The peer refuses connections for a moment, then accepts and drops each
//! connection after 400 ms; the example ends once two sessions came up.

use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, Peer};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `IPTOS_LOWDELAY`: an option that must be set before the connect to
/// apply to the handshake's packets.
const TOS_LOW_DELAY: u32 = 0x10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let peer = Peer::start(
        Listen::tcp(),
        Behavior::Echo
            .flapping(Duration::from_millis(400))
            .after_refusing(Duration::from_millis(300)),
    )
    .await?;

    let opened = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    let hooks = SocketHooks::default()
        .on_open({
            let opened = opened.clone();
            move |socket| {
                opened.fetch_add(1, Ordering::Relaxed);
                let fd = socket.as_raw_fd();
                // Not connected yet: there is no peer address to ask for.
                let peer = match socket.peer_addr() {
                    Ok(_) => "already connected?".to_owned(),
                    Err(error) => format!("no peer yet ({})", error.kind()),
                };
                socket.set_tos_v4(TOS_LOW_DELAY)?;
                socket.set_send_buffer_size(64 * 1024)?;
                println!("on_open:      fd {fd}, {peer}; set TOS {TOS_LOW_DELAY:#04x} and SO_SNDBUF 64 KiB");
                Ok(())
            }
        })
        .before_close({
            let closed = closed.clone();
            move |socket| {
                closed.fetch_add(1, Ordering::Relaxed);
                let fd = socket.as_raw_fd();
                // The fd is still open: everything the socket knows can be read.
                let tos = socket.tos_v4().map_or_else(|e| e.to_string(), |t| format!("{t:#04x}"));
                match (socket.local_addr(), socket.peer_addr()) {
                    (Ok(local), Ok(peer)) => println!(
                        "before_close: fd {fd} still open, connected {} -> {}, TOS {tos}",
                        show(&local),
                        show(&peer)
                    ),
                    _ => println!(
                        "before_close: fd {fd} still open, never connected (the attempt failed), TOS {tos}"
                    ),
                }
            }
        });

    let quick = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(100))
                .max(Duration::from_millis(200)),
        )
        .build()?;
    let spec = Spec::builder()
        .connection(
            Supervised::new(ConnectionSpec::new("metered", peer.endpoint()).hooks(hooks))
                .restart(quick),
        )
        .build()?;
    let supervisor = Supervisor::new(spec);
    let metered = supervisor
        .handle("metered")
        .ok_or_else(|| anyhow::anyhow!("the spec declares `metered`"))?;
    let mut ups = supervisor
        .bus()
        .subscribe(Interest::all().event::<Connected>());
    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());

    // Two `Connected` events: the peer dropped the first session, linesman
    // reconnected.
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        ups.next().await;
        ups.next().await;
    })
    .await;
    control.shutdown();
    running.await?;
    waited.map_err(|_| anyhow::anyhow!("two sessions did not come up within 20 s"))?;

    let (opened, closed) = (
        opened.load(Ordering::Relaxed),
        closed.load(Ordering::Relaxed),
    );
    println!(
        "{} sessions; on_open ran {opened} times, before_close {closed} times",
        metered.counters().sessions
    );
    if opened == closed {
        println!("every socket linesman opened, it closed after before_close");
    } else {
        anyhow::bail!("{opened} sockets opened but {closed} closed through before_close");
    }
    Ok(())
}

/// An address as a person writes it.
fn show(address: &linesman::stream::socket2::SockAddr) -> String {
    address
        .as_socket()
        .map_or_else(|| "(not an IP address)".to_owned(), |a| a.to_string())
}
