//! Where log lines go: a bounded, lossy queue in front of a thread of its
//! own that writes them to stderr.
//!
//! Why not write to stderr where the event happens: tracing-subscriber's fmt
//! layer writes on the thread that logged — a runtime thread running a
//! connection's task, the signal watcher, the control server — and when the
//! write fails it reports the failure with `eprintln!`, which panics on a
//! closed stderr (`linesman run … 2>&1 | head -1`). That panic, inside
//! whatever task logged, is what left connections unsupervised and SIGTERM
//! ignored. And a stderr pipe nobody reads blocks its writer once the pipe
//! is full: a runtime thread must never wait for it.
//!
//! So a log line is copied (its hidden characters written out,
//! `crate::inert`) into a queue of [`CAPACITY`] lines with a
//! `try_send`, which never waits and never fails the caller: a line that
//! finds the queue full is dropped and counted. The writer thread writes the
//! lines in order; a line it cannot write (closed pipe, any error) is
//! dropped and counted too. Once lines were lost and a write succeeds again,
//! the thread logs one warning with the count (at most one per
//! [`NOTICE_EVERY`]); [`Handle::finish`] says what is still unreported at
//! exit.
//!
//! `tracing-appender`'s `non_blocking` does the queue and the thread, but
//! ignores failed writes without counting them (tokio-rs/tracing#1155) and
//! brings the `time` crate for file rotation we do not use; this is the
//! small part we need.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// Lines the queue holds before further lines are dropped (a few MB at
/// most: lines are a few hundred bytes).
pub(crate) const CAPACITY: usize = 8192;

/// The shortest time between two "lines were lost" warnings.
pub(crate) const NOTICE_EVERY: Duration = Duration::from_secs(10);

/// What the writer thread is sent.
enum Message {
    /// One formatted log line.
    Line(Vec<u8>),
    /// Answer once every line before this one is written (or dropped).
    Flush(mpsc::Sender<()>),
}

/// The counts of lost log lines, by why.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Dropped because the queue was full (stderr not read fast enough).
    overflowed: AtomicU64,
    /// Dropped because writing them failed (stderr closed, or an error).
    failed: AtomicU64,
    /// How many lost lines a warning has reported so far.
    reported: AtomicU64,
}

impl Stats {
    /// Lines lost, for any reason.
    pub(crate) fn dropped(&self) -> u64 {
        self.overflowed
            .load(Ordering::Relaxed)
            .saturating_add(self.failed.load(Ordering::Relaxed))
    }

    /// Lost lines no warning has reported yet; marks them reported.
    fn take_unreported(&self) -> u64 {
        let dropped = self.dropped();
        let before = self.reported.swap(dropped, Ordering::Relaxed);
        dropped.saturating_sub(before)
    }
}

/// The [`MakeWriter`] of the fmt layer: each event's line goes into the
/// queue. Never blocks, never fails.
#[derive(Debug)]
pub(crate) struct Sink {
    queue: SyncSender<Message>,
    stats: Arc<Stats>,
    /// Start each line with its level's syslog prefix.
    level_prefix: bool,
    /// Keep the formatter's colour codes in lines.
    colours: bool,
}

/// What the process keeps of the writer: its counts, and a way to wait for
/// the queue to drain at exit.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    queue: SyncSender<Message>,
    stats: Arc<Stats>,
}

/// Starts the writer thread on `out` and returns the sink for the fmt
/// layer and the handle for the process.
pub(crate) fn spawn<W: Write + Send + 'static>(out: W) -> io::Result<(Sink, Handle)> {
    let (queue, lines) = mpsc::sync_channel(CAPACITY);
    let stats = Arc::new(Stats::default());
    let thread_stats = Arc::clone(&stats);
    std::thread::Builder::new()
        .name("linesman-log".to_owned())
        .spawn(move || write_lines(&lines, out, &thread_stats))?;
    let sink = Sink {
        queue: queue.clone(),
        stats: Arc::clone(&stats),
        level_prefix: false,
        colours: false,
    };
    Ok((sink, Handle { queue, stats }))
}

/// The writer thread: writes every line in order until every sender is
/// gone (it lives as long as the process, whose subscriber holds one).
fn write_lines<W: Write>(lines: &Receiver<Message>, mut out: W, stats: &Stats) {
    let mut last_notice: Option<Instant> = None;
    for message in lines {
        match message {
            Message::Line(line) => {
                if out.write_all(&line).is_err() {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                // Logging works (again): say what was lost meanwhile. The
                // warning goes through the queue like any line.
                let quiet = last_notice.is_some_and(|at| at.elapsed() < NOTICE_EVERY);
                if !quiet && stats.dropped() > stats.reported.load(Ordering::Relaxed) {
                    last_notice = Some(Instant::now());
                    warn_lost(stats.take_unreported(), stats.dropped());
                }
            }
            Message::Flush(done) => {
                // stderr is unbuffered; a flush error is a failed write
                // already counted.
                let _ = out.flush();
                let _ = done.send(());
            }
        }
    }
}

/// The warning that `lost` log lines (of `total` so far) were lost.
fn warn_lost(lost: u64, total: u64) {
    tracing::warn!(
        lost,
        total,
        "log lines were lost: stderr was closed, failed, or was not read fast enough"
    );
}

impl Sink {
    /// Starts each line with its level's syslog prefix (`<4>` for a
    /// warning): for a stderr that is the journal's stream.
    pub(crate) fn level_prefix(mut self, on: bool) -> Sink {
        self.level_prefix = on;
        self
    }

    /// Keeps the formatter's colour codes (stderr is a terminal); every
    /// other hidden character in a line is written out (`crate::inert`).
    pub(crate) fn colours(mut self, on: bool) -> Sink {
        self.colours = on;
        self
    }

    fn send(&self, prefix: Option<&[u8]>, line: &[u8]) {
        let keep = crate::inert::Keep {
            newlines: false,
            colours: self.colours,
        };
        let text = String::from_utf8_lossy(line);
        let text = crate::inert::inert(&text, keep);
        let mut copy = Vec::with_capacity(prefix.map_or(0, <[u8]>::len) + text.len());
        copy.extend_from_slice(prefix.unwrap_or_default());
        copy.extend_from_slice(text.as_bytes());
        let line = copy;
        match self.queue.try_send(Message::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.stats.overflowed.fetch_add(1, Ordering::Relaxed);
            }
            // The thread is gone (it could not be kept alive): count it.
            Err(TrySendError::Disconnected(_)) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// One event's writer: the fmt layer writes the whole formatted line with
/// one `write_all`.
#[derive(Debug)]
pub(crate) struct LineWriter<'a> {
    sink: &'a Sink,
    prefix: Option<&'static [u8]>,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.send(self.prefix, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter {
            sink: self,
            prefix: None,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter<'a> {
        LineWriter {
            sink: self,
            prefix: self
                .level_prefix
                .then(|| super::journal::prefix(meta.level())),
        }
    }
}

impl Handle {
    /// The counts.
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// At exit: warns of lost lines not reported yet, then waits (at most
    /// `patience`) for the thread to write what is queued. A stderr that
    /// nobody reads cannot hold the exit up longer than that.
    pub(crate) fn finish(&self, patience: Duration) {
        let unreported = self.stats.take_unreported();
        if unreported > 0 {
            warn_lost(unreported, self.stats.dropped());
        }
        let deadline = Instant::now() + patience;
        let (done, written) = mpsc::channel();
        let mut flush = Message::Flush(done);
        loop {
            match self.queue.try_send(flush) {
                Ok(()) => break,
                Err(TrySendError::Full(again)) if Instant::now() < deadline => {
                    flush = again;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
        let _ = written.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// An output that fails while `broken` is set and records what it
    /// writes otherwise.
    #[derive(Clone, Default)]
    struct Output {
        broken: Arc<std::sync::atomic::AtomicBool>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Output {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.broken.load(Ordering::SeqCst) {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            self.written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn text(output: &Output) -> String {
        let bytes = output
            .written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn line(sink: &Sink, text: &str) {
        sink.make_writer()
            .write_all(text.as_bytes())
            .expect("a log write never fails");
    }

    #[test]
    fn failed_writes_are_dropped_and_counted_and_the_caller_never_sees_them() {
        let output = Output::default();
        let (sink, handle) = spawn(output.clone()).expect("the thread starts");
        line(&sink, "one\n");
        handle.finish(Duration::from_secs(10));
        output.broken.store(true, Ordering::SeqCst);
        line(&sink, "two\n");
        line(&sink, "three\n");
        handle.finish(Duration::from_secs(10));
        assert_eq!(handle.stats().dropped(), 2);
        output.broken.store(false, Ordering::SeqCst);
        line(&sink, "four\n");
        handle.finish(Duration::from_secs(10));
        assert_eq!(
            text(&output),
            "one\nfour\n",
            "in order, the lost ones left out"
        );
        assert_eq!(handle.stats().dropped(), 2);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        // An output that blocks until released: the queue fills up.
        let (release, blocked) = mpsc::channel::<()>();
        struct Stuck(Receiver<()>);
        impl Write for Stuck {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let _ = self.0.recv();
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (sink, handle) = spawn(Stuck(blocked)).expect("the thread starts");
        let extra = 100;
        for n in 0..CAPACITY + extra {
            line(&sink, &format!("{n}\n"));
        }
        // One line may be in the thread's hands, the rest queued or dropped.
        let dropped = handle.stats().dropped();
        assert!(
            (extra as u64 - 1..=extra as u64).contains(&dropped),
            "{dropped} dropped"
        );
        drop(release);
        handle.finish(Duration::from_secs(10));
    }
}
