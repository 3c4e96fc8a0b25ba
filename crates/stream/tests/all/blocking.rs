//! `BlockingSource` with real threads: delivery in order, end of input,
//! errors passed through, backpressure, cancellation that ends the thread and
//! drops the driver, and use as an `AsyncRead` under a codec.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use linesman_stream::{BlockingSource, BlockingSourceError, BlockingSourceOptions};
use tokio::io::AsyncReadExt;
use tokio_util::codec::{FramedRead, LinesCodec};

/// A driver that hands out `chunks` one per call, then end of input.
fn scripted(
    chunks: Vec<io::Result<&'static [u8]>>,
) -> impl FnMut(&mut [u8]) -> io::Result<usize> + Send + 'static {
    let mut chunks = chunks.into_iter();
    move |buf| match chunks.next() {
        None => Ok(0),
        Some(Err(e)) => Err(e),
        Some(Ok(bytes)) => {
            buf[..bytes.len()].copy_from_slice(bytes);
            Ok(bytes.len())
        }
    }
}

/// Part of a driver: counts its calls, and when the driver is dropped,
/// releases its counter and then says so on a channel.
struct DropSignal {
    calls: Option<Arc<AtomicUsize>>,
    dropped: std_mpsc::Sender<()>,
}

impl DropSignal {
    fn new(calls: Option<Arc<AtomicUsize>>) -> (DropSignal, std_mpsc::Receiver<()>) {
        let (dropped, rx) = std_mpsc::channel();
        (DropSignal { calls, dropped }, rx)
    }

    fn count_call(&self) {
        if let Some(calls) = &self.calls {
            calls.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for DropSignal {
    fn drop(&mut self) {
        drop(self.calls.take());
        let _ = self.dropped.send(());
    }
}

/// Waits (bounded) until the driver closure holding `signal`'s sender is dropped.
fn wait_for_driver_drop(dropped: &std_mpsc::Receiver<()>) {
    dropped
        .recv_timeout(Duration::from_secs(10))
        .expect("the driver is dropped once the thread ends");
}

/// Waits (bounded) until `calls` reaches `at_least`.
async fn wait_for_calls(calls: &AtomicUsize, at_least: usize) {
    for _ in 0..1000 {
        if calls.load(Ordering::SeqCst) >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!(
        "driver reached only {} calls, expected {at_least}",
        calls.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn chunks_arrive_in_order_then_the_source_ends() {
    let driver = scripted(vec![Ok(b"one"), Ok(b"two"), Ok(b"three")]);
    let source = BlockingSource::spawn(driver, BlockingSourceOptions::default()).expect("spawn");
    let chunks: Vec<Bytes> = source.map(|c| c.expect("no error")).collect().await;
    assert_eq!(
        chunks,
        vec![Bytes::from("one"), Bytes::from("two"), Bytes::from("three")]
    );
}

#[tokio::test]
async fn an_error_is_passed_through_once_and_ends_the_source() {
    let (signal, dropped) = DropSignal::new(None);
    let mut inner = scripted(vec![
        Ok(b"data"),
        Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "signal, try again",
        )),
        Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "device unplugged",
        )),
        Ok(b"never"),
    ]);
    let driver = move |buf: &mut [u8]| {
        let _keep = &signal;
        inner(buf)
    };
    let mut source =
        BlockingSource::spawn(driver, BlockingSourceOptions::default()).expect("spawn");
    assert_eq!(
        source.next().await.expect("a chunk").expect("ok"),
        Bytes::from("data")
    );
    let error = source
        .next()
        .await
        .expect("an item")
        .expect_err("the driver's error");
    assert_eq!(
        error.kind(),
        io::ErrorKind::BrokenPipe,
        "Interrupted is retried, not delivered"
    );
    assert_eq!(error.to_string(), "device unplugged");
    assert!(
        source.next().await.is_none(),
        "the source ends after an error"
    );
    wait_for_driver_drop(&dropped);
}

#[tokio::test]
async fn a_panicking_or_lying_driver_is_an_error_not_a_crash() {
    let source = BlockingSource::spawn(
        |_: &mut [u8]| -> io::Result<usize> { panic!("driver bug") },
        BlockingSourceOptions::default(),
    )
    .expect("spawn");
    let items: Vec<io::Result<Bytes>> = source.collect().await;
    assert_eq!(items.len(), 1);
    assert!(
        items[0]
            .as_ref()
            .expect_err("error")
            .to_string()
            .contains("panicked")
    );

    let options = BlockingSourceOptions::default().buffer_size(8);
    let source = BlockingSource::spawn(|_: &mut [u8]| Ok(9), options).expect("spawn");
    let items: Vec<io::Result<Bytes>> = source.collect().await;
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().expect_err("error");
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    assert!(
        error
            .to_string()
            .contains("9 bytes read into a buffer of 8"),
        "{error}"
    );
}

#[tokio::test]
async fn a_full_channel_stops_the_driver_until_the_consumer_reads() {
    let capacity = 4;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let driver = move |buf: &mut [u8]| {
        counter.fetch_add(1, Ordering::SeqCst);
        buf[0] = b'x';
        Ok(1)
    };
    let options = BlockingSourceOptions::default()
        .capacity(capacity)
        .name("test-backpressure");
    let mut source = BlockingSource::spawn(driver, options).expect("spawn");
    assert_eq!(source.name(), "test-backpressure");

    // `capacity` chunks wait in the channel, one more in the thread's hand.
    wait_for_calls(&calls, capacity + 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        capacity + 1,
        "the driver waits for the consumer"
    );

    // Each chunk read makes room for exactly one more call.
    for read in 1..=3 {
        source.next().await.expect("a chunk").expect("ok");
        wait_for_calls(&calls, capacity + 1 + read).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(calls.load(Ordering::SeqCst), capacity + 1 + 3);
}

#[tokio::test]
async fn dropping_the_source_ends_the_thread_and_drops_the_driver() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (signal, dropped) = DropSignal::new(Some(Arc::clone(&calls)));
    // A driver that always has data: only cancellation can end it.
    let driver = move |buf: &mut [u8]| {
        signal.count_call();
        buf[..4].copy_from_slice(b"tick");
        Ok(4)
    };
    let mut source =
        BlockingSource::spawn(driver, BlockingSourceOptions::default().capacity(2)).expect("spawn");
    source.next().await.expect("a chunk").expect("ok");
    drop(source);

    wait_for_driver_drop(&dropped);
    let after_drop = calls.load(Ordering::SeqCst);
    assert_eq!(
        Arc::strong_count(&calls),
        1,
        "the thread no longer holds the driver"
    );
    assert!(after_drop >= 1);
}

#[tokio::test]
async fn shutdown_waits_for_the_call_in_progress_then_the_thread_ends() {
    let (in_call_tx, in_call_rx) = std_mpsc::channel::<()>();
    let (release_tx, release_rx) = std_mpsc::channel::<()>();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    // A driver that blocks until the test releases it, like hardware.
    let driver = move |buf: &mut [u8]| {
        counter.fetch_add(1, Ordering::SeqCst);
        let _ = in_call_tx.send(());
        let _ = release_rx.recv();
        buf[0] = b'!';
        Ok(1)
    };
    let source = BlockingSource::spawn(driver, BlockingSourceOptions::default()).expect("spawn");
    in_call_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the driver is called");
    let shutdown = tokio::spawn(source.shutdown());
    tokio::task::yield_now().await;
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the driver call in progress"
    );
    release_tx.send(()).expect("release the driver");
    shutdown
        .await
        .expect("shutdown task")
        .expect("thread ended cleanly");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "not called again after cancel"
    );
    assert_eq!(Arc::strong_count(&calls), 1, "the driver was dropped");
}

#[tokio::test]
async fn cancel_ends_a_source_whose_driver_never_ends() {
    let capacity = 2;
    let driver = |buf: &mut [u8]| {
        buf[0] = b'.';
        Ok(1)
    };
    let options = BlockingSourceOptions::default().capacity(capacity);
    let mut source = BlockingSource::spawn(driver, options).expect("spawn");
    source.next().await.expect("a chunk").expect("ok");
    source.cancel();
    // What was already delivered can still be read, then the source ends.
    let rest: Vec<Bytes> = source.map(|c| c.expect("ok")).collect().await;
    assert!(
        rest.len() <= capacity,
        "only chunks already in the channel: {}",
        rest.len()
    );
}

#[tokio::test]
async fn reads_as_async_read_under_a_codec() {
    // Lines split at awkward places across chunks.
    let driver = scripted(vec![
        Ok(b"hel"),
        Ok(b"lo\nwor"),
        Ok(b"ld\n"),
        Ok(b"\nlast\n"),
    ]);
    let source = BlockingSource::spawn(driver, BlockingSourceOptions::default()).expect("spawn");
    let lines: Vec<String> = FramedRead::new(source, LinesCodec::new())
        .map(|l| l.expect("a line"))
        .collect()
        .await;
    assert_eq!(lines, ["hello", "world", "", "last"]);

    // Small reads take a chunk in pieces; an error arrives as a read error.
    let driver = scripted(vec![
        Ok(b"abcdef"),
        Err(io::Error::new(io::ErrorKind::TimedOut, "no signal")),
    ]);
    let mut source =
        BlockingSource::spawn(driver, BlockingSourceOptions::default()).expect("spawn");
    let mut buf = [0; 4];
    assert_eq!(source.read(&mut buf).await.expect("read"), 4);
    assert_eq!(&buf, b"abcd");
    assert_eq!(source.read(&mut buf).await.expect("read"), 2);
    assert_eq!(&buf[..2], b"ef");
    let error = source.read(&mut buf).await.expect_err("the driver's error");
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert_eq!(
        source.read(&mut buf).await.expect("end"),
        0,
        "end of input after the error"
    );
}

#[test]
fn zero_sizes_are_refused() {
    let error = BlockingSource::spawn(
        |_: &mut [u8]| Ok(0),
        BlockingSourceOptions::default().capacity(0),
    )
    .expect_err("capacity 0");
    assert!(
        matches!(error, BlockingSourceError::ZeroCapacity { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("linesman-blocking"), "{error}");
    let error = BlockingSource::spawn(
        |_: &mut [u8]| Ok(0),
        BlockingSourceOptions::default().buffer_size(0),
    )
    .expect_err("buffer 0");
    assert!(
        matches!(error, BlockingSourceError::ZeroBufferSize { .. }),
        "{error:?}"
    );
}
