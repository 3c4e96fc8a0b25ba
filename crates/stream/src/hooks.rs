//! [`SocketHooks`]: application code that runs on the raw socket at the two
//! moments only the transport sees — after the socket is created but before
//! it connects, and right before linesman closes it.

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use socket2::SockRef;

type OnOpen = dyn Fn(&SockRef<'_>) -> io::Result<()> + Send + Sync;
type BeforeClose = dyn Fn(&SockRef<'_>) + Send + Sync;

/// Hooks on the raw socket of every connection opened by
/// [`connect`](crate::connect).
///
/// Cheap to clone (two `Arc`s); the default has no hooks.
///
/// - `on_open` runs once per address tried, after the socket is created and
///   its [`ConnectOptions`](crate::ConnectOptions) are applied, before
///   `connect(2)`: set options, bind a local address, set a mark. An `Err`
///   abandons the whole connect with [`ConnectError::Hook`](crate::ConnectError::Hook).
/// - `before_close` runs exactly once for every socket linesman created — a
///   [`Stream`](crate::Stream) closed with [`close`](crate::Stream::close),
///   dropped, or dropped after an I/O error, and also a socket whose connect
///   failed or whose `on_open` failed — always while its file descriptor is
///   still open and before the peer can see the close. (One exception: if
///   the runtime cannot register a new socket with its reactor, tokio closes
///   it and `connect` fails with that error.)
///
/// A hook that panics is caught: a panic in `on_open` becomes a
/// [`ConnectError::Hook`](crate::ConnectError::Hook); one in `before_close`
/// is logged and the socket is closed anyway.
///
/// ```
/// use linesman_stream::SocketHooks;
///
/// let hooks = SocketHooks::default()
///     .on_open(|sock| sock.set_reuse_address(true))
///     .before_close(|sock| {
///         if let Ok(addr) = sock.local_addr() {
///             eprintln!("closing {:?}", addr.as_socket());
///         }
///     });
/// assert!(hooks.has_on_open() && hooks.has_before_close());
/// ```
#[derive(Clone, Default)]
pub struct SocketHooks {
    on_open: Option<Arc<OnOpen>>,
    before_close: Option<Arc<BeforeClose>>,
}

impl SocketHooks {
    /// Sets the hook that runs after the socket is created and before it
    /// connects. Setting it again replaces the previous one. Default: none.
    #[must_use]
    pub fn on_open<F>(mut self, hook: F) -> Self
    where
        F: Fn(&SockRef<'_>) -> io::Result<()> + Send + Sync + 'static,
    {
        self.on_open = Some(Arc::new(hook));
        self
    }

    /// Sets the hook that runs right before linesman closes the socket,
    /// while its file descriptor is still open. Setting it again replaces
    /// the previous one. Default: none.
    #[must_use]
    pub fn before_close<F>(mut self, hook: F) -> Self
    where
        F: Fn(&SockRef<'_>) + Send + Sync + 'static,
    {
        self.before_close = Some(Arc::new(hook));
        self
    }

    /// Whether an `on_open` hook is set.
    pub fn has_on_open(&self) -> bool {
        self.on_open.is_some()
    }

    /// Whether a `before_close` hook is set.
    pub fn has_before_close(&self) -> bool {
        self.before_close.is_some()
    }

    /// Runs `on_open`, if set; a panic in the hook becomes an error.
    pub(crate) fn run_on_open(&self, sock: &SockRef<'_>) -> io::Result<()> {
        let Some(hook) = &self.on_open else {
            return Ok(());
        };
        panic::catch_unwind(AssertUnwindSafe(|| hook(sock)))
            .unwrap_or_else(|_| Err(io::Error::other("on_open hook panicked")))
    }

    /// Runs `before_close`, if set. It runs from `Drop`, where a panic could
    /// abort the process, so a panic in the hook is caught and logged.
    pub(crate) fn run_before_close(&self, sock: &SockRef<'_>) {
        self.close_hook().run_once(sock);
    }

    /// The `before_close` hook alone, for a stream to run once.
    pub(crate) fn close_hook(&self) -> CloseHook {
        CloseHook(self.before_close.clone())
    }
}

/// The `before_close` hook of one open stream, taken when it runs, so it
/// runs at most once. What a stream keeps of its [`SocketHooks`]: 16
/// bytes, where the hooks and a "ran" flag were 40 (a supervisor holds
/// one stream per connection; see `Stream`).
#[derive(Clone, Default)]
pub(crate) struct CloseHook(Option<Arc<BeforeClose>>);

impl CloseHook {
    /// Runs the hook unless it ran already (or there is none). It runs
    /// from `Drop`, where a panic could abort the process, so a panic in
    /// the hook is caught and logged.
    pub(crate) fn run_once(&mut self, sock: &SockRef<'_>) {
        let Some(hook) = self.0.take() else {
            return;
        };
        if panic::catch_unwind(AssertUnwindSafe(|| hook(sock))).is_err() {
            tracing::error!("before_close hook panicked; the socket is closed anyway");
        }
    }
}

impl fmt::Debug for CloseHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CloseHook").field(&self.0.is_some()).finish()
    }
}

impl fmt::Debug for SocketHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketHooks")
            .field("on_open", &self.on_open.is_some())
            .field("before_close", &self.before_close.is_some())
            .finish()
    }
}
