//! [`PeerOptions`]: how a peer runs, beyond what it listens on and does.

use std::path::PathBuf;

/// How a [`Peer`](crate::Peer) runs, beyond what it listens on and does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerOptions {
    /// Append every frame received whole to this file (see
    /// [`Recording`](crate::Recording)), which outlives the peer. Default: none.
    pub record: Option<PathBuf>,
}

impl PeerOptions {
    /// Records every frame received in `path`.
    #[must_use]
    pub fn record(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }
}
