//! `codec`: frames per second decoded and encoded by linesman's `Codec`
//! (default layout, frames without id) beside tokio-util's
//! `LengthDelimitedCodec` (4-byte big-endian length), on the same payloads.
//!
//! Decoding: a buffer of about 32 MiB of back-to-back frames is encoded once,
//! then each repetition decodes a fresh copy of it to the end (the copy is not
//! timed). linesman parses three header fields (type, flags, length) where the
//! baseline parses one, and yields frozen `Bytes` where the baseline yields
//! `BytesMut`. Encoding: the same number of frames is written into a buffer
//! reserved up front; linesman encodes a borrowed `&Frame`, the baseline takes
//! its `Bytes` by value (a reference-count clone per frame, as its API needs).
//! Each figure is the best of several repetitions.

use crate::report::{Better, Measurement};
use bytes::{Bytes, BytesMut};
use linesman_ipc_codec::{Codec, Frame};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Payload sizes and their names in the case labels.
const SIZES: [(usize, &str); 3] = [(64, "64 B"), (1024, "1 KiB"), (64 * 1024, "64 KiB")];

/// Approximate bytes of encoded frames per repetition.
const TOTAL_BYTES: usize = 32 * 1024 * 1024;

/// Repetitions per figure; the best one counts. linesman and the baseline
/// alternate, so both see the same machine load.
const REPETITIONS: usize = 9;

/// Runs the codec benchmark: decode and encode frames/s for every size.
pub(crate) fn run() -> Vec<Measurement> {
    let mut measurements = Vec::new();
    for (size, label) in SIZES {
        let frames = (TOTAL_BYTES / (size + 8)).max(1);
        let payload = Bytes::from(vec![0x5a; size]);
        let (linesman, baseline) = decode(&payload, frames);
        measurements.push(measure(
            format!("decode {label}"),
            frames,
            linesman,
            baseline,
        ));
        let (linesman, baseline) = encode(&payload, frames);
        measurements.push(measure(
            format!("encode {label}"),
            frames,
            linesman,
            baseline,
        ));
    }
    measurements
}

fn measure(case: String, frames: usize, linesman: Duration, baseline: Duration) -> Measurement {
    let per_second = |d: Duration| frames as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE);
    Measurement {
        bench: "codec",
        case,
        unit: "frames/s",
        linesman: per_second(linesman),
        baseline: Some(per_second(baseline)),
        better: Better::Higher,
    }
}

/// The shortest of `REPETITIONS` runs of each of `linesman` and `baseline`,
/// alternating; each closure times its own work and returns the duration.
fn best_of(
    mut linesman: impl FnMut() -> Duration,
    mut baseline: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    let mut best = (Duration::MAX, Duration::MAX);
    for _ in 0..REPETITIONS {
        best.0 = best.0.min(linesman());
        best.1 = best.1.min(baseline());
    }
    best
}

/// Decodes a fresh copy of `wire` to the end with `codec`; the copy is not timed.
fn time_decode<D: Decoder>(codec: &mut D, wire: &[u8], frames: usize) -> Duration {
    let mut buf = BytesMut::from(wire);
    let start = Instant::now();
    let mut decoded = 0;
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        black_box(&frame);
        decoded += 1;
    }
    let elapsed = start.elapsed();
    assert_eq!(decoded, frames, "every frame decoded");
    elapsed
}

fn decode(payload: &Bytes, frames: usize) -> (Duration, Duration) {
    let mut linesman = Codec::default();
    let mut baseline = LengthDelimitedCodec::new();
    let frame = Frame::new(1, payload.clone());
    let (mut ours, mut theirs) = (BytesMut::new(), BytesMut::new());
    for _ in 0..frames {
        linesman
            .encode(&frame, &mut ours)
            .expect("a bench frame is within the default limits");
        baseline
            .encode(payload.clone(), &mut theirs)
            .expect("a bench frame is within the default limits");
    }
    best_of(
        || time_decode(&mut linesman, &ours, frames),
        || time_decode(&mut baseline, &theirs, frames),
    )
}

fn encode(payload: &Bytes, frames: usize) -> (Duration, Duration) {
    let mut linesman = Codec::default();
    let mut baseline = LengthDelimitedCodec::new();
    let frame = Frame::new(1, payload.clone());
    // One buffer each, reused: its pages are touched before the timed runs.
    let mut ours = BytesMut::with_capacity(frames * (payload.len() + 8));
    let mut theirs = BytesMut::with_capacity(frames * (payload.len() + 4));
    best_of(
        || {
            ours.clear();
            let start = Instant::now();
            for _ in 0..frames {
                linesman
                    .encode(black_box(&frame), &mut ours)
                    .expect("a bench frame is within the default limits");
            }
            start.elapsed()
        },
        || {
            theirs.clear();
            let start = Instant::now();
            for _ in 0..frames {
                baseline
                    .encode(black_box(payload.clone()), &mut theirs)
                    .expect("a bench frame is within the default limits");
            }
            start.elapsed()
        },
    )
}
