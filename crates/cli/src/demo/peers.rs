//! The demo's peers, in this process (testkit [`Peer`]s on tokio tasks),
//! each misbehaving in its own way:
//!
//! | connection | peer | misbehaviour |
//! | --- | --- | --- |
//! | `quotes` | TCP, a frame every 100 ms | none: the steady one |
//! | `orders` | Unix socket, a frame every 400 ms | starts late: refused for 2 s |
//! | `hw-programmer` | TCP, echo | drops every connection after 4 s |
//! | `audit` | TCP, echo | refuses for 6 s every 15 s (stopped, then restarted on the same port) |

use std::net::SocketAddr;
use std::time::Duration;

use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::CliError;

/// How long `orders` refuses connections after the start.
const ORDERS_LATE: Duration = Duration::from_secs(2);
/// How long an `hw-programmer` connection lives.
const HW_FLAP: Duration = Duration::from_secs(4);
/// How often `audit`'s peer goes away …
const AUDIT_EVERY: Duration = Duration::from_secs(15);
/// … and for how long.
const AUDIT_OUTAGE: Duration = Duration::from_secs(6);

/// The running peers.
#[derive(Debug)]
pub(crate) struct Peers {
    quotes: Peer,
    orders: Peer,
    hw: Peer,
    audit_endpoint: String,
    audit: JoinHandle<()>,
    stop_audit: oneshot::Sender<()>,
    /// Holds `orders`' socket; removed last.
    dir: TempDir,
}

/// One line per peer for the demo's introduction.
pub(crate) const ROLES: [(&str, &str); 4] = [
    ("quotes", "feed, a frame every 100ms, steady"),
    ("orders", "feed, starts late: refused for the first 2s"),
    (
        "hw-programmer",
        "needs quotes and orders; its peer drops it every 4s",
    ),
    (
        "audit",
        "needs quotes or orders; its peer refuses for 6s every 15s",
    ),
];

fn peer_error(name: &str, source: std::io::Error) -> CliError {
    CliError::io(format!("start the demo's `{name}` peer"), source)
}

impl Peers {
    /// Starts every peer; the schedule of `audit` runs until [`stop`](Self::stop).
    pub(crate) async fn start() -> Result<Peers, CliError> {
        let dir = TempDir::new("demo").map_err(|e| peer_error("orders", e))?;
        let quotes = Peer::start(
            Listen::tcp(),
            Behavior::SendForever {
                ty: 1,
                payload_len: 24,
                interval: Some(Duration::from_millis(100)),
            },
        )
        .await
        .map_err(|e| peer_error("quotes", e))?;
        let orders = Peer::start(
            Listen::unix(dir.join("orders.sock")),
            Behavior::SendForever {
                ty: 2,
                payload_len: 48,
                interval: Some(Duration::from_millis(400)),
            }
            .after_refusing(ORDERS_LATE),
        )
        .await
        .map_err(|e| peer_error("orders", e))?;
        let hw = Peer::start(Listen::tcp(), Behavior::Echo.flapping(HW_FLAP))
            .await
            .map_err(|e| peer_error("hw-programmer", e))?;
        let audit = Peer::start(Listen::tcp(), Behavior::Echo)
            .await
            .map_err(|e| peer_error("audit", e))?;
        let audit_endpoint = audit.endpoint().to_string();
        let (stop_audit, stopped) = oneshot::channel();
        let audit = tokio::spawn(audit_schedule(audit, stopped));
        Ok(Peers {
            quotes,
            orders,
            hw,
            audit_endpoint,
            audit,
            stop_audit,
            dir,
        })
    }

    /// The value of `${name}` in the embedded configuration.
    pub(crate) fn env(&self, name: &str) -> Option<String> {
        match name {
            "DEMO_QUOTES" => Some(self.quotes.endpoint().to_string()),
            "DEMO_ORDERS" => Some(self.orders.endpoint().to_string()),
            "DEMO_HW" => Some(self.hw.endpoint().to_string()),
            "DEMO_AUDIT" => Some(self.audit_endpoint.clone()),
            _ => None,
        }
    }

    /// Stops every peer and removes the temporary directory.
    pub(crate) async fn stop(self) {
        let Peers {
            quotes,
            orders,
            hw,
            audit,
            stop_audit,
            dir,
            ..
        } = self;
        let _ = stop_audit.send(());
        // The schedule stops its own peer; a panic in it has nothing to clean.
        drop(audit.await);
        quotes.stop().await;
        orders.stop().await;
        hw.stop().await;
        drop(dir);
    }
}

/// Every [`AUDIT_EVERY`], replaces `audit`'s peer with one on the same
/// address that refuses for [`AUDIT_OUTAGE`] first, until `stop`.
async fn audit_schedule(mut peer: Peer, mut stop: oneshot::Receiver<()>) {
    let Some(addr): Option<SocketAddr> = peer.local_addr() else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            () = tokio::time::sleep(AUDIT_EVERY) => {}
        }
        peer.stop().await;
        match Peer::start(
            Listen::Tcp(addr),
            Behavior::Echo.after_refusing(AUDIT_OUTAGE),
        )
        .await
        {
            Ok(next) => peer = next,
            Err(error) => {
                tracing::error!(%error, %addr, "the demo's audit peer cannot restart; it stays away");
                let _ = stop.await;
                return;
            }
        }
    }
    peer.stop().await;
}
