//! [`BlockingSource`]: a blocking driver call, such as a hardware driver's
//! `receive_data(&mut buf)`, turned into an async source of bytes that reads
//! like a socket.
//!
//! Why a dedicated thread and a bounded channel: the driver call blocks for
//! as long as it likes, so it must not run on a runtime thread, and it must
//! not run ahead of a slow consumer. The thread calls the driver, then waits
//! (without spinning) for room in the channel before it calls again; dropping
//! the source closes the channel, which ends the thread as soon as the call
//! in progress returns.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::thread::{self, JoinHandle};

use bytes::Bytes;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use crate::error::BlockingSourceError;

/// How a [`BlockingSource`] runs its driver.
///
/// ```
/// use linesman_stream::BlockingSourceOptions;
///
/// let options = BlockingSourceOptions::default()
///     .capacity(8)
///     .buffer_size(4096)
///     .name("hw-rx");
/// assert_eq!(options.capacity, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingSourceOptions {
    /// How many chunks may wait for the consumer before the thread stops
    /// calling the driver. At least 1. Default 64.
    pub capacity: usize,
    /// The size of the buffer handed to the driver, the largest chunk. At
    /// least 1. Default 64 KiB.
    pub buffer_size: usize,
    /// The thread's name, also used in errors. Default `linesman-blocking`.
    pub name: String,
}

impl Default for BlockingSourceOptions {
    fn default() -> Self {
        BlockingSourceOptions {
            capacity: 64,
            buffer_size: 64 * 1024,
            name: "linesman-blocking".to_owned(),
        }
    }
}

impl BlockingSourceOptions {
    /// Sets how many chunks may wait for the consumer. Default 64.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets the size of the driver's buffer. Default 64 KiB.
    #[must_use]
    pub fn buffer_size(mut self, buffer_size: usize) -> Self {
        self.buffer_size = buffer_size;
        self
    }

    /// Sets the thread's name. Default `linesman-blocking`.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

/// An async source of bytes fed by a blocking driver call on its own thread.
///
/// The driver is called as `driver(&mut buf)` and returns how many bytes it
/// wrote to the front of `buf`, like [`std::io::Read::read`]:
///
/// - `Ok(n)` with `n > 0`: those bytes become one chunk;
/// - `Ok(0)`: end of input; the source ends;
/// - `Err(e)` of kind [`Interrupted`](io::ErrorKind::Interrupted): called again;
/// - any other `Err(e)`: handed to the consumer once, then the source ends.
///   A driver that panics or claims more bytes than the buffer holds is
///   reported the same way.
///
/// The driver must block until it has data; it is never called while
/// `capacity` chunks wait for the consumer (plus the one it is holding).
///
/// Read it as a [`futures_util::Stream`] of `io::Result<Bytes>` or as an
/// [`AsyncRead`], so it can be framed by a codec exactly like a
/// [`Stream`](crate::Stream).
///
/// Dropping the source, or [`cancel`](BlockingSource::cancel), ends the
/// thread. A driver call already in progress cannot be interrupted: the
/// thread ends, and drops the driver, when that call returns.
/// [`shutdown`](BlockingSource::shutdown) waits for it.
///
/// ```
/// use futures_util::StreamExt;
/// use linesman_stream::{BlockingSource, BlockingSourceOptions};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut left = 3;
/// let driver = move |buf: &mut [u8]| {
///     // A real driver would block here until the hardware has data.
///     if left == 0 { return Ok(0) }
///     left -= 1;
///     buf[..2].copy_from_slice(b"hi");
///     Ok(2)
/// };
/// let mut source = BlockingSource::spawn(driver, BlockingSourceOptions::default()).unwrap();
/// let mut total = 0;
/// while let Some(chunk) = source.next().await {
///     total += chunk.unwrap().len();
/// }
/// assert_eq!(total, 6);
/// # }
/// ```
#[derive(Debug)]
pub struct BlockingSource {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    /// The unread rest of a chunk, for [`AsyncRead`] reads smaller than it.
    pending: Bytes,
    thread: Option<JoinHandle<()>>,
    name: String,
}

impl BlockingSource {
    /// Starts a thread that calls `driver` and delivers what it reads.
    ///
    /// # Errors
    ///
    /// A zero `capacity` or `buffer_size`, or a thread the OS would not start.
    pub fn spawn<F>(driver: F, options: BlockingSourceOptions) -> Result<Self, BlockingSourceError>
    where
        F: FnMut(&mut [u8]) -> io::Result<usize> + Send + 'static,
    {
        let BlockingSourceOptions {
            capacity,
            buffer_size,
            name,
        } = options;
        if capacity == 0 {
            return Err(BlockingSourceError::ZeroCapacity { name });
        }
        if buffer_size == 0 {
            return Err(BlockingSourceError::ZeroBufferSize { name });
        }
        let (tx, rx) = mpsc::channel(capacity);
        let thread = thread::Builder::new()
            .name(name.clone())
            .spawn(move || run(driver, tx, buffer_size))
            .map_err(|source| BlockingSourceError::Spawn {
                name: name.clone(),
                source,
            })?;
        Ok(BlockingSource {
            rx,
            pending: Bytes::new(),
            thread: Some(thread),
            name,
        })
    }

    /// The thread's name, as set in [`BlockingSourceOptions::name`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Asks the thread to stop: the driver is not called again once the
    /// call in progress returns. Chunks already delivered can still be read;
    /// after them the source ends.
    pub fn cancel(&mut self) {
        self.rx.close();
    }

    /// Cancels, then waits until the thread has ended and dropped the
    /// driver. Returns when the driver call in progress returns.
    ///
    /// # Errors
    ///
    /// An error if the thread panicked outside the driver (a panic inside
    /// the driver is delivered as an error item instead).
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.cancel();
        while self.rx.recv().await.is_some() {}
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let panicked = || {
            io::Error::other(format!(
                "thread of blocking source `{}` panicked",
                self.name
            ))
        };
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(panicked()),
        }
    }
}

/// The thread: call the driver, deliver, repeat until told to stop.
fn run<F>(mut driver: F, tx: mpsc::Sender<io::Result<Bytes>>, buffer_size: usize)
where
    F: FnMut(&mut [u8]) -> io::Result<usize>,
{
    let mut buf = vec![0; buffer_size];
    while !tx.is_closed() {
        let result = panic::catch_unwind(AssertUnwindSafe(|| driver(&mut buf)))
            .unwrap_or_else(|_| Err(io::Error::other("blocking driver panicked")));
        let (item, last) = match result {
            Ok(0) => break,
            // A copy of exactly `n` bytes: a small chunk never pins a whole
            // buffer, and the buffer is reused for the next call.
            Ok(n) if n <= buf.len() => (Ok(Bytes::copy_from_slice(&buf[..n])), false),
            Ok(n) => (
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blocking driver reported {n} bytes read into a buffer of {buffer_size}"
                    ),
                )),
                true,
            ),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => (Err(e), true),
        };
        if tx.blocking_send(item).is_err() || last {
            break;
        }
    }
    // The driver goes first, so that once the channel reports no sender the
    // driver's resources are already released.
    drop(driver);
    drop(tx);
}

impl futures_util::Stream for BlockingSource {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if !this.pending.is_empty() {
            return Poll::Ready(Some(Ok(std::mem::take(&mut this.pending))));
        }
        this.rx.poll_recv(cx)
    }
}

impl AsyncRead for BlockingSource {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_empty() {
            match ready!(this.rx.poll_recv(cx)) {
                Some(Ok(chunk)) => this.pending = chunk,
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}
