//! [`TempDir`]: a fresh directory under the system temp dir, removed on
//! drop, for Unix sockets and files in tests (the workspace has no tempfile
//! crate).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes names unique within the process; the pid makes them unique across processes.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A directory `linesman-<label>-<pid>-<n>` under [`std::env::temp_dir`],
/// removed with its content when dropped.
///
/// ```
/// use linesman_testkit::TempDir;
///
/// let dir = TempDir::new("doc")?;
/// let socket = dir.join("peer.sock");
/// assert!(socket.starts_with(dir.path()));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates the directory; `label` names it for whoever finds it left over.
    pub fn new(label: &str) -> io::Result<TempDir> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("linesman-{label}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
