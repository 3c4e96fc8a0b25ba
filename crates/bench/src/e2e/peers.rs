//! The e2e peers: testkit peers on a thread of their own, with a
//! current-thread runtime, so they use the other core than the client.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::Context;
use linesman_stream::Endpoint;
use linesman_testkit::{Behavior, Listen, Peer};
use tokio::sync::oneshot;

/// Frame type the sending peers use.
const FRAME_TYPE: u32 = 1;

/// Where one peer listens, in both forms the two sides need.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) endpoint: Endpoint,
    pub(crate) addr: SocketAddr,
}

/// Three peers on their own thread: `Send` 64 B, `Send` 4 KiB, `Echo`.
#[derive(Debug)]
pub(crate) struct PeerThread {
    pub(crate) small: Target,
    pub(crate) large: Target,
    pub(crate) echo: Target,
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl PeerThread {
    /// Starts the peers; `Send` peers send `small` 64-byte or `large`
    /// 4 KiB frames to every connection.
    pub(crate) fn start(small: u64, large: u64) -> anyhow::Result<PeerThread> {
        let behaviors = [
            Behavior::Send {
                count: small,
                ty: FRAME_TYPE,
                payload_len: 64,
            },
            Behavior::Send {
                count: large,
                ty: FRAME_TYPE,
                payload_len: 4096,
            },
            Behavior::Echo,
        ];
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("e2e-peers".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(anyhow::Error::from(error)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut peers = Vec::new();
                    for behavior in behaviors {
                        match Peer::start(Listen::default(), behavior).await {
                            Ok(peer) => peers.push(peer),
                            Err(error) => {
                                let _ = ready_tx.send(Err(error.into()));
                                return;
                            }
                        }
                    }
                    let targets: Option<Vec<Target>> = peers
                        .iter()
                        .map(|p| {
                            p.local_addr().map(|addr| Target {
                                endpoint: p.endpoint(),
                                addr,
                            })
                        })
                        .collect();
                    let _ = ready_tx.send(targets.context("a TCP peer has a local address"));
                    let _ = stopped.await;
                    for peer in peers {
                        peer.stop().await;
                    }
                });
            })
            .context("cannot start the peer thread")?;
        let targets = ready_rx
            .recv()
            .context("the peer thread ended before its peers listened")??;
        let [small, large, echo]: [Target; 3] = targets
            .try_into()
            .map_err(|_| anyhow::anyhow!("expected three peers"))?;
        Ok(PeerThread {
            small,
            large,
            echo,
            stop,
            thread,
        })
    }

    /// Stops the peers and joins their thread.
    pub(crate) fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
