//! [`ConnectionSpec`]: everything one connection needs — where its bytes
//! come from ([`Target`]), how to open and frame them, and its liveness and
//! outbox settings — built once and kept across sessions.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use linesman_ipc_codec::{DEFAULT_MAX_FRAME, FrameLayout};
use linesman_stream::{BlockingSource, ConnectOptions, Endpoint, SocketHooks};

/// The default [`ConnectionSpec::write_timeout`]: 20 s.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything one connection needs; built by the supervisor (or the
/// config) and kept across sessions.
///
/// Fields are public; the setters of the same name allow a builder style.
///
/// ```
/// use std::time::Duration;
/// use linesman_connection::{ConnectionSpec, Heartbeat, Outbox};
///
/// let spec = ConnectionSpec::new("quotes", "tcp://127.0.0.1:7001".parse()?)
///     .kind("feed")
///     .tags(["eu"])
///     .idle_timeout(Some(Duration::from_secs(30)))
///     .heartbeat(Some(Heartbeat { ty: 0, interval: Duration::from_secs(10) }))
///     .outbox(Some(Outbox { max_frames: 1000, max_bytes: 1 << 20 }));
/// assert_eq!(spec.name, "quotes");
/// assert_eq!(spec.max_frame, 16 * 1024 * 1024);
/// # Ok::<(), linesman_stream::EndpointError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ConnectionSpec {
    /// The connection's name, unique on its bus.
    pub name: String,
    /// Its kind, a label such as `feed`. Default: none.
    pub kind: Option<String>,
    /// Its tags. Default: none.
    pub tags: Vec<String>,
    /// Where the bytes come from.
    pub target: Target,
    /// Connect timeout and TCP options (keepalive and `TCP_USER_TIMEOUT` on
    /// by default). Default: [`ConnectOptions::default`].
    pub connect: ConnectOptions,
    /// Hooks on the raw socket. Default: none.
    pub hooks: SocketHooks,
    /// The wire format. Default: [`FrameLayout::default`].
    pub layout: FrameLayout,
    /// Decode and encode limit on a frame's payload, in bytes. Default 16 MiB.
    pub max_frame: usize,
    /// No byte received for this long ends the session with
    /// [`Reason::IdleTimeout`](crate::Reason::IdleTimeout). Default: none.
    pub idle_timeout: Option<Duration>,
    /// A frame write that makes no progress for this long (the peer does
    /// not read) ends the session with
    /// [`Reason::WriteTimeout`](crate::Reason::WriteTimeout). Default 20 s,
    /// the default `TCP_USER_TIMEOUT`.
    pub write_timeout: Option<Duration>,
    /// A frame whose first bytes arrived must be complete this long after
    /// the session first waited for its rest, else the session ends with
    /// [`Reason::FrameTimeout`](crate::Reason::FrameTimeout) (a peer that
    /// trickles bytes). Default: none.
    pub frame_timeout: Option<Duration>,
    /// An empty frame sent whenever nothing was sent for an interval.
    /// Default: none.
    pub heartbeat: Option<Heartbeat>,
    /// Lets sends made while no session is up wait for the next session.
    /// Default: none (such sends fail at once with `NotConnected`).
    pub outbox: Option<Outbox>,
}

impl ConnectionSpec {
    /// A connection named `name` to `endpoint`, with every default.
    pub fn new(name: impl Into<String>, endpoint: Endpoint) -> ConnectionSpec {
        ConnectionSpec::with_target(name, Target::Endpoint(endpoint))
    }

    /// A connection named `name` that reads from a blocking source, with
    /// every default.
    pub fn blocking(name: impl Into<String>, target: BlockingTarget) -> ConnectionSpec {
        ConnectionSpec::with_target(name, Target::Blocking(target))
    }

    /// A connection named `name` to `target`, with every default.
    pub fn with_target(name: impl Into<String>, target: Target) -> ConnectionSpec {
        ConnectionSpec {
            name: name.into(),
            kind: None,
            tags: Vec::new(),
            target,
            connect: ConnectOptions::default(),
            hooks: SocketHooks::default(),
            layout: FrameLayout::default(),
            max_frame: DEFAULT_MAX_FRAME,
            idle_timeout: None,
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
            frame_timeout: None,
            heartbeat: None,
            outbox: None,
        }
    }

    /// Whether `other` has the same settings as this spec apart from its
    /// labels (name, kind and tags) and its endpoint: every option, so that
    /// one copy of the settings can serve both connections, each with its
    /// own endpoint
    /// ([`Connection::with_settings`](crate::Connection::with_settings)).
    /// Code cannot be compared: a spec with socket hooks or a blocking
    /// target is the same only as itself.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_connection::ConnectionSpec;
    ///
    /// let endpoint: linesman_stream::Endpoint = "tcp://127.0.0.1:7001".parse()?;
    /// let a = ConnectionSpec::new("a", endpoint.clone()).kind("feed");
    /// assert!(a.same_settings(&ConnectionSpec::new("b", "unix:///run/b.sock".parse()?)));
    /// let slow = ConnectionSpec::new("c", endpoint).idle_timeout(Some(Duration::from_secs(9)));
    /// assert!(!a.same_settings(&slow));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn same_settings(&self, other: &ConnectionSpec) -> bool {
        if std::ptr::eq(self, other) {
            return true;
        }
        // Taken apart without `..`, so that a new field cannot be forgotten.
        let ConnectionSpec {
            name: _,
            kind: _,
            tags: _,
            target,
            connect,
            // Code: the same only if neither has any (below).
            hooks: _,
            layout,
            max_frame,
            idle_timeout,
            write_timeout,
            frame_timeout,
            heartbeat,
            outbox,
        } = self;
        let no_code =
            |spec: &ConnectionSpec| !spec.hooks.has_on_open() && !spec.hooks.has_before_close();
        // Endpoints are each connection's own; a blocking driver is code.
        let same_target = matches!(
            (target, &other.target),
            (Target::Endpoint(_), Target::Endpoint(_))
        );
        no_code(self)
            && no_code(other)
            && same_target
            && *connect == other.connect
            && *layout == other.layout
            && *max_frame == other.max_frame
            && *idle_timeout == other.idle_timeout
            && *write_timeout == other.write_timeout
            && *frame_timeout == other.frame_timeout
            && *heartbeat == other.heartbeat
            && *outbox == other.outbox
    }

    /// Sets the kind. Default: none.
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Sets the tags. Default: none.
    #[must_use]
    pub fn tags<T: Into<String>>(mut self, tags: impl IntoIterator<Item = T>) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the target. Default: the endpoint given to [`ConnectionSpec::new`].
    #[must_use]
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Sets the connect options. Default: [`ConnectOptions::default`]
    /// (3 s connect timeout, keepalive 10 s/5 s/3, `TCP_USER_TIMEOUT` 20 s).
    #[must_use]
    pub fn connect(mut self, options: ConnectOptions) -> Self {
        self.connect = options;
        self
    }

    /// Sets the socket hooks. Default: none.
    #[must_use]
    pub fn hooks(mut self, hooks: SocketHooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// Sets the wire format. Default: [`FrameLayout::default`].
    #[must_use]
    pub fn layout(mut self, layout: FrameLayout) -> Self {
        self.layout = layout;
        self
    }

    /// Sets the decode and encode limit on a payload. Default 16 MiB.
    #[must_use]
    pub fn max_frame(mut self, max: usize) -> Self {
        self.max_frame = max;
        self
    }

    /// Sets the idle timeout. Default: none.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the write timeout: how long a frame write may make no progress
    /// before the session ends with
    /// [`Reason::WriteTimeout`](crate::Reason::WriteTimeout); `None` waits
    /// for as long as the kernel keeps the connection. Default 20 s (the
    /// default `TCP_USER_TIMEOUT`, so a peer that stops reading is noticed
    /// as soon as one that vanished).
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_connection::ConnectionSpec;
    ///
    /// let spec = ConnectionSpec::new("feed", "tcp://127.0.0.1:7001".parse()?);
    /// assert_eq!(spec.write_timeout, Some(Duration::from_secs(20)));
    /// let spec = spec.write_timeout(Some(Duration::from_secs(5)));
    /// assert_eq!(spec.write_timeout, Some(Duration::from_secs(5)));
    /// # Ok::<(), linesman_stream::EndpointError>(())
    /// ```
    #[must_use]
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Sets the frame timeout: a frame whose first bytes arrived must be
    /// complete within it (counted from when the session first waits for
    /// the rest), else the session ends with
    /// [`Reason::FrameTimeout`](crate::Reason::FrameTimeout). It stops a peer
    /// that sends a frame a byte at a time (slowloris); a frame that arrives
    /// whole in one read never starts the timer. Default: none.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_connection::ConnectionSpec;
    ///
    /// let spec = ConnectionSpec::new("feed", "tcp://127.0.0.1:7001".parse()?)
    ///     .frame_timeout(Some(Duration::from_secs(5)));
    /// assert_eq!(spec.frame_timeout, Some(Duration::from_secs(5)));
    /// # Ok::<(), linesman_stream::EndpointError>(())
    /// ```
    #[must_use]
    pub fn frame_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.frame_timeout = timeout;
        self
    }

    /// Sets the heartbeat. Default: none.
    #[must_use]
    pub fn heartbeat(mut self, heartbeat: Option<Heartbeat>) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// Sets the outbox. Default: none.
    #[must_use]
    pub fn outbox(mut self, outbox: Option<Outbox>) -> Self {
        self.outbox = outbox;
        self
    }
}

/// Where a connection's bytes come from.
#[derive(Debug, Clone)]
pub enum Target {
    /// A TCP or Unix socket, connected at every session.
    Endpoint(Endpoint),
    /// A blocking driver, opened at every session. Receive only.
    Blocking(BlockingTarget),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Endpoint(endpoint) => write!(f, "{endpoint}"),
            Target::Blocking(target) => write!(f, "blocking:{}", target.label),
        }
    }
}

type Open = dyn Fn() -> io::Result<BlockingSource> + Send + Sync;

/// A blocking driver as a connection target: a factory that opens a
/// [`BlockingSource`] for each session. Cheap to clone.
///
/// A blocking source only receives: sends on such a connection fail with
/// [`SendError::ReceiveOnly`](crate::SendError::ReceiveOnly).
///
/// ```
/// use linesman_connection::BlockingTarget;
/// use linesman_stream::{BlockingSource, BlockingSourceOptions};
///
/// let target = BlockingTarget::new("hw-rx", || {
///     // A real driver would block in here until the hardware has data.
///     let driver = |_buf: &mut [u8]| Ok(0);
///     BlockingSource::spawn(driver, BlockingSourceOptions::default().name("hw-rx"))
///         .map_err(std::io::Error::other)
/// });
/// assert_eq!(target.label(), "hw-rx");
/// ```
#[derive(Clone)]
pub struct BlockingTarget {
    label: String,
    open: Arc<Open>,
}

impl BlockingTarget {
    /// A target named `label` (shown as the peer, `blocking:label`) that
    /// calls `open` at the start of every session.
    pub fn new<F>(label: impl Into<String>, open: F) -> BlockingTarget
    where
        F: Fn() -> io::Result<BlockingSource> + Send + Sync + 'static,
    {
        BlockingTarget {
            label: label.into(),
            open: Arc::new(open),
        }
    }

    /// The target's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Opens the source for one session.
    pub(crate) fn open(&self) -> io::Result<BlockingSource> {
        (self.open)()
    }
}

impl fmt::Debug for BlockingTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingTarget")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// A heartbeat: whenever nothing was sent for `interval` while the session
/// is up, send an empty frame of type `ty` (no id, no payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The heartbeat frame's type.
    pub ty: u32,
    /// How long the send side may stay quiet.
    pub interval: Duration,
}

/// Bounds of the outbox: how many frames, and how many payload bytes in
/// total, may wait for the next session while none is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outbox {
    /// Frames that may wait.
    pub max_frames: usize,
    /// Payload bytes (headers not counted) that may wait.
    pub max_bytes: usize,
}
