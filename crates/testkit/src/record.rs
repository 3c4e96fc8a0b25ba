//! A peer's record of every frame it received whole, in a file that
//! outlives the peer: for tests that kill a peer process and then count
//! what reached it across its lives ([`Recording::read`]).
//!
//! One line per frame, written with one `write(2)` before the peer acts on
//! the frame (an echo peer replies only after the line is written), so a
//! frame on record was received whole and a reply implies a record:
//!
//! ```text
//! start 4242                      a peer process began recording (its pid)
//! frame 1 - 10 00000000000000070000  type, request id or `-`, payload length and hex
//! frame 7 12 2 0a0b                   a frame with request id 12
//! protocol-error                  bytes that were not a frame of the default layout
//! ```
//!
//! A peer killed in the middle of a write may leave its last line cut; the
//! next life starts with a newline before its `start` line, so a cut line
//! stays on its own, and the payload length tells it from a whole one:
//! [`Recording::read`] reports it apart.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

use bytes::Bytes;
use linesman_ipc_codec::Frame;

/// Appends what a peer receives to its record file.
#[derive(Debug)]
pub(crate) struct Recorder {
    file: Mutex<File>,
}

impl Recorder {
    /// Opens (creating it if needed) `path` for appending, and marks the
    /// start of this process's record.
    pub(crate) fn open(path: &Path) -> io::Result<Recorder> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(format!("\nstart {}\n", std::process::id()).as_bytes())?;
        Ok(Recorder {
            file: Mutex::new(file),
        })
    }

    /// Records one received frame, one `write(2)`.
    pub(crate) fn frame(&self, frame: &Frame) {
        let id = frame.id.map_or_else(|| "-".to_owned(), |id| id.to_string());
        let line = format!(
            "frame {} {id} {} {}\n",
            frame.ty,
            frame.payload.len(),
            hex(&frame.payload)
        );
        self.write(line.as_bytes());
    }

    /// Records bytes that were not a frame.
    pub(crate) fn protocol_error(&self) {
        self.write(b"protocol-error\n");
    }

    fn write(&self, line: &[u8]) {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A test peer: a record that cannot be written shows up as frames
        // missing from the record, which the test reports.
        let _ = file.write_all(line);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Bytes> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
        .map(Bytes::from)
}

/// Everything a record file holds, across every life of the peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recording {
    /// The frames received whole, in the order they were recorded.
    pub frames: Vec<Frame>,
    /// How many times the peer received bytes that were not a frame.
    pub protocol_errors: usize,
    /// How many peer processes recorded (`start` lines).
    pub lives: usize,
    /// Lines cut short by a peer killed while writing them: frames that may
    /// or may not have been received whole.
    pub cut_lines: usize,
}

impl Recording {
    /// Reads the record file at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or holds a line that is neither a
    /// record nor a line cut short by a kill (`InvalidData`, naming it).
    pub fn read(path: &Path) -> io::Result<Recording> {
        let text = std::fs::read_to_string(path)?;
        let mut recording = Recording::default();
        let lines: Vec<&str> = text.split('\n').collect();
        let last = lines.len().saturating_sub(1);
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let mut words = line.split(' ');
            let parsed = match words.next() {
                Some("start") => {
                    recording.lives += 1;
                    true
                }
                Some("protocol-error") => {
                    recording.protocol_errors += 1;
                    true
                }
                Some("frame") => match parse_frame(&mut words) {
                    Some(frame) => {
                        recording.frames.push(frame);
                        true
                    }
                    None => false,
                },
                _ => false,
            };
            if parsed {
                continue;
            }
            // Only a line the next life started right after (its newline
            // ends the cut line), or the very last one, can have been cut
            // by a kill.
            let next_starts = lines.get(i + 1).is_some_and(|l| l.starts_with("start "));
            if next_starts || i == last {
                recording.cut_lines += 1;
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: line {} is not a record: {line:?}",
                        path.display(),
                        i + 1
                    ),
                ));
            }
        }
        Ok(recording)
    }
}

fn parse_frame<'a>(words: &mut impl Iterator<Item = &'a str>) -> Option<Frame> {
    let ty = words.next()?.parse().ok()?;
    let id = match words.next()? {
        "-" => None,
        id => Some(id.parse().ok()?),
    };
    let len: usize = words.next()?.parse().ok()?;
    let payload = unhex(words.next()?)?;
    // A line cut inside its payload is shorter than it says.
    if payload.len() != len || words.next().is_some() {
        return None;
    }
    let frame = Frame::new(ty, payload);
    Some(match id {
        Some(id) => frame.with_id(id),
        None => frame,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_across_lives_and_cut_lines() {
        let dir = crate::TempDir::new("record").expect("a temporary folder");
        let path = dir.join("peer.record");
        let first = Recorder::open(&path).expect("open the record");
        first.frame(&Frame::new(1, Bytes::from_static(&[0, 7])));
        first.frame(&Frame::new(7, Bytes::new()).with_id(12));
        drop(first);
        // A life killed in the middle of a line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"frame 1 - 2 00"))
            .expect("append a cut line");
        let second = Recorder::open(&path).expect("open the record again");
        second.protocol_error();
        drop(second);

        let recording = Recording::read(&path).expect("the record reads");
        assert_eq!(
            recording.frames,
            [
                Frame::new(1, Bytes::from_static(&[0, 7])),
                Frame::new(7, Bytes::new()).with_id(12)
            ]
        );
        assert_eq!(recording.lives, 2);
        assert_eq!(recording.cut_lines, 1);
        assert_eq!(recording.protocol_errors, 1);
    }

    #[test]
    fn a_garbled_line_in_the_middle_is_an_error() {
        let dir = crate::TempDir::new("record").expect("a temporary folder");
        let path = dir.join("peer.record");
        std::fs::write(&path, "\nstart 1\nframe x\nframe 1 - 1 00\n").expect("write");
        let error = Recording::read(&path).expect_err("a garbled line is refused");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
