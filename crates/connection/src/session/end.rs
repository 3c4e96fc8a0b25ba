//! The end of a session: the writer finished or aborted, the queues
//! settled exactly once, `on_disconnect`, then the transport closed.

use std::sync::Arc;
use std::time::Duration;

use linesman_stream::BlockingSource;

use super::ReadHalf;
use super::drive::{Run, disconnect};
use super::io::{SessionIo, WriterSlot};
use crate::budget::SocketPermit;
use crate::handler::DynHandler;
use crate::shared::Shared;

/// The end of a session over a socket: the writer finished (drained on a
/// stop or finish), the queues settled, `on_disconnect`, then the stream
/// closed whole, so `before_close` runs while the fd is open. When the
/// session ended at the end of its input and the writer had failed, the
/// writer's reason is the session's: a connection the kernel aborted
/// whose error the writer met first is that error, not a clean end.
pub(super) async fn end_socket_session(
    handler: &mut dyn DynHandler,
    shared: &Arc<Shared>,
    mut io: SessionIo<ReadHalf>,
    mut run: Run,
    drain: Duration,
    guard: &mut EndGuard,
) -> Run {
    io.publish_counts();
    let slot = std::mem::replace(&mut io.writer, WriterSlot::None);
    // A stop or a finish writes what was queued; any other end aborts.
    let graceful = !run.reason.is_failure();
    let (write, writer_failed) = slot
        .finish(shared, io.reader.codec(), graceful, drain)
        .await;
    // The input ended (the peer's close, or an abort whose error the
    // writer took) while the writer failed: the writer knows why.
    if let Some(reason) = writer_failed
        && run.reason.is_end_of_input()
    {
        run.reason = reason;
    }
    guard.end();
    disconnect(handler, &run.reason).await;
    let read = io.reader.into_inner().into_inner();
    match write {
        Some(write) => {
            if let Err(error) = read.unsplit(write).close().await {
                tracing::debug!(%error, "closing the stream reported an error");
            }
        }
        // The writer task failed; dropping the last half closes the
        // stream, and `before_close` still runs first.
        None => drop(read),
    }
    run
}

/// The end of a session over a blocking source: the queues settled,
/// `on_disconnect`, then the source cancelled. The driver call in progress
/// cannot be interrupted: its thread ends when it returns, without holding
/// this up.
pub(super) async fn end_blocking_session(
    handler: &mut dyn DynHandler,
    mut io: SessionIo<Box<BlockingSource>>,
    run: Run,
    guard: &mut EndGuard,
) -> Run {
    io.publish_counts();
    guard.end();
    disconnect(handler, &run.reason).await;
    let mut source = io.reader.into_inner().into_inner();
    source.cancel();
    drop(source);
    run
}

/// Settles the queues of a session (`Shared::end_session`) exactly once:
/// explicitly at the end, or on drop when the session future is dropped.
/// Holds the session's place in the socket budget until it is dropped,
/// after the stream is closed.
pub(super) struct EndGuard {
    pub(super) shared: Option<Arc<Shared>>,
    pub(super) _socket: Option<SocketPermit>,
}

impl EndGuard {
    pub(super) fn end(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.end_session();
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.end();
    }
}
