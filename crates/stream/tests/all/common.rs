//! Helpers shared by the tests: temp dirs, listeners, hook recorders.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use linesman_stream::Endpoint;
use tokio::net::TcpListener;

/// A directory under the system temp dir, unique to this process and call,
/// removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("linesman-stream-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP listener on 127.0.0.1 with an ephemeral port, and its endpoint.
pub(crate) async fn tcp_listener() -> (TcpListener, SocketAddr, Endpoint) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback listener");
    let addr = listener.local_addr().expect("listener address");
    let endpoint = Endpoint::Tcp {
        host: "127.0.0.1".into(),
        port: addr.port(),
    };
    (listener, addr, endpoint)
}

/// A port on 127.0.0.1 that nothing listens on: bound, then released.
pub(crate) fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind to find a free port");
    listener.local_addr().expect("listener address").port()
}
