//! Run with: cargo run -p example-blocking-driver
//!
//! Lesson 4: a device that is not a socket. Hardware often comes with a
//! vendor driver whose read call blocks until the device has data
//! (`receive_data(&mut buf) -> io::Result<usize>`). linesman runs such a
//! call on a thread of its own behind a bounded channel (a
//! `BlockingSource`), so it reads like a socket: the frames reach an
//! ordinary `Handler`, events reach listeners, and when the driver fails
//! the supervisor closes it and opens it again after a backoff, as it
//! would reconnect a socket.
//!
//! The simulated driver below delivers five readings, then fails with a
//! device reset. The example ends after the third session and checks that
//! every driver it opened was closed (its thread ended).

use linesman::connection::BlockingTarget;
use linesman::prelude::*;
use linesman::stream::{BlockingSource, BlockingSourceOptions};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The frame type of a reading.
const READING: u32 = 0x10;

/// A vendor's driver as it comes: blocking calls, nothing async. This one
/// is simulated; a real one would call into the vendor's library.
struct VendorDriver {
    unit: u64,
    readings: u64,
    /// How many drivers are open right now (to show that each is closed).
    open: watch::Sender<u64>,
}

impl VendorDriver {
    /// Opens the device (the vendor's `open` call).
    fn open(unit: u64, open: watch::Sender<u64>) -> io::Result<VendorDriver> {
        open.send_modify(|n| *n += 1);
        println!("driver: unit {unit} opened");
        Ok(VendorDriver {
            unit,
            readings: 0,
            open,
        })
    }

    /// Blocks until the device has a reading, writes it into `buf` as one
    /// frame of linesman's default layout (type `u16`, flags `u16`, length
    /// `u32`, all big-endian, then the payload), returns its length.
    fn receive_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(20)); // the device's pace
        if self.readings == 5 {
            return Err(io::Error::other("device reset (vendor status 0x2a)"));
        }
        self.readings += 1;
        let payload = format!(
            "unit {} reading {}: {:.1} C",
            self.unit,
            self.readings,
            20.0 + self.readings as f64 / 10.0
        );
        let len = 8 + payload.len();
        let frame = buf
            .get_mut(..len)
            .ok_or_else(|| io::Error::other("buffer too small for a reading"))?;
        let ty = u16::try_from(READING).map_err(io::Error::other)?;
        let payload_len = u32::try_from(payload.len()).map_err(io::Error::other)?;
        frame[..2].copy_from_slice(&ty.to_be_bytes());
        frame[2..4].copy_from_slice(&0u16.to_be_bytes());
        frame[4..8].copy_from_slice(&payload_len.to_be_bytes());
        frame[8..].copy_from_slice(payload.as_bytes());
        Ok(len)
    }
}

impl Drop for VendorDriver {
    fn drop(&mut self) {
        println!("driver: unit {} closed", self.unit);
        self.open.send_modify(|n| *n -= 1);
    }
}

/// Prints every reading; the same instance serves every session.
struct Readings {
    total: Arc<AtomicU64>,
}

impl Handler for Readings {
    async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        self.total.fetch_add(1, Ordering::Relaxed);
        println!("handler: {}", String::from_utf8_lossy(&frame.payload));
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (open, mut open_now) = watch::channel(0u64);
    // Called at the start of every session: opens the driver and hands its
    // blocking call to a thread of its own.
    let target = BlockingTarget::new("vendor-rx", move || {
        let mut driver = VendorDriver::open(7, open.clone())?;
        BlockingSource::spawn(
            move |buf: &mut [u8]| driver.receive_data(buf),
            BlockingSourceOptions::default()
                .name("vendor-rx")
                .capacity(8),
        )
        .map_err(io::Error::other)
    });

    let quick = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(100))
                .max(Duration::from_millis(400)),
        )
        .build()?;
    let spec = Spec::builder()
        .connection(
            Supervised::new(ConnectionSpec::blocking("sensor", target).kind("device"))
                .restart(quick),
        )
        .build()?;
    let total = Arc::new(AtomicU64::new(0));
    let supervisor = Supervisor::new(spec).handler(
        "sensor",
        Readings {
            total: total.clone(),
        },
    )?;
    let _log = supervisor
        .bus()
        .listen(|event: &Event| println!("event:   {} {}", event.conn, event.what));
    let mut ups = supervisor
        .bus()
        .subscribe(Interest::all().event::<Connected>());
    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());

    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        for _ in 0..3 {
            ups.next().await;
        }
    })
    .await;
    control.shutdown();
    running.await?;
    waited.map_err(|_| anyhow::anyhow!("the driver was not opened three times within 20 s"))?;

    // The last driver is closed when its thread ends: as soon as the call
    // in progress returns.
    tokio::time::timeout(Duration::from_secs(5), open_now.wait_for(|n| *n == 0))
        .await
        .map_err(|_| anyhow::anyhow!("a driver was still open 5 s after the shutdown"))??;
    println!(
        "{} readings over 3 sessions; every driver opened was closed",
        total.load(Ordering::Relaxed)
    );
    Ok(())
}
