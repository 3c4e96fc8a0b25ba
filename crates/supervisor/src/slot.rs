//! [`HandlerSlot`]: the handler every supervised connection is built with,
//! which forwards to the application's handler once one is set.
//!
//! Why: a [`Connection`](linesman_connection::Connection) takes its handler
//! when it is made, but the supervisor makes its connections in
//! [`Supervisor::new`](crate::Supervisor::new) (so that
//! [`Supervisor::handle`](crate::Supervisor::handle) works at once) and the
//! application gives handlers afterwards. The slot is filled before `run`
//! and taken out on the first call, after which calls go straight to the
//! application's handler. A connection without a handler only counts what
//! arrives (the connection keeps its counters either way).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use linesman_connection::{Burst, DynHandler, HandlerError, HandlerFuture, Link, Reason};

/// Where the application's handler waits until the connection first uses it.
pub(crate) type Pending = Arc<Mutex<Option<Box<dyn DynHandler>>>>;

/// The handler a supervised connection is built with.
pub(crate) struct HandlerSlot {
    pending: Pending,
    handler: Option<Box<dyn DynHandler>>,
}

impl fmt::Debug for HandlerSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerSlot")
            .field("installed", &self.handler.is_some())
            .finish_non_exhaustive()
    }
}

impl HandlerSlot {
    pub(crate) fn new() -> (Self, Pending) {
        let pending: Pending = Arc::default();
        let slot = Self {
            pending: Arc::clone(&pending),
            handler: None,
        };
        (slot, pending)
    }

    fn handler(&mut self) -> Option<&mut Box<dyn DynHandler>> {
        if self.handler.is_none() {
            self.handler = self
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        }
        self.handler.as_mut()
    }
}

// `DynHandler` itself, not `Handler`: the application's handler's boxed
// future is handed on as it is, with no second box per call.
impl DynHandler for HandlerSlot {
    fn on_connect<'a>(&'a mut self, link: &'a Link) -> HandlerFuture<'a, Result<(), HandlerError>> {
        match self.handler() {
            Some(handler) => handler.on_connect(link),
            None => Box::pin(async { Ok(()) }),
        }
    }

    // Forwarded whole, so an application handler that takes bursts keeps
    // its one call per burst; without a handler, the frames are only
    // counted (they already are, at decode).
    fn on_frames<'a>(
        &'a mut self,
        frames: &'a mut Burst,
        link: &'a Link,
    ) -> HandlerFuture<'a, Result<(), HandlerError>> {
        match self.handler() {
            Some(handler) => handler.on_frames(frames, link),
            None => {
                frames.clear();
                Box::pin(async { Ok(()) })
            }
        }
    }

    fn on_disconnect<'a>(&'a mut self, reason: &'a Reason) -> HandlerFuture<'a, ()> {
        match self.handler() {
            Some(handler) => handler.on_disconnect(reason),
            None => Box::pin(async {}),
        }
    }
}
