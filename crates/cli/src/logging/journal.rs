//! Levels for journald: when stderr is the journal's stream
//! (`JOURNAL_STREAM` names its device and inode, as systemd sets it for a
//! service whose stderr goes to the journal), each line starts with its
//! syslog level, `<3>` error, `<4>` warning, `<6>` info, `<7>` debug and
//! trace. journald strips the prefix and stores the line with that
//! priority, so `journalctl -p warning` shows warnings and errors only.
//!
//! Why not the `tracing-journald` layer: it writes to the journal's socket
//! itself, past the bounded, lossy writer that keeps a stalled journal from
//! stalling the daemon, and it is a dependency for what this prefix gives.
//! Anywhere else (a terminal, a pipe, a file, a journal stream that is not
//! stderr) lines are left as they are.

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing::Level;

/// Whether stderr is the stream `JOURNAL_STREAM` names.
pub(crate) fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some(named) = value.to_str().and_then(parse) else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|meta| (meta.dev(), meta.ino()) == named)
}

/// `DEV:INODE`, both decimal, as systemd writes `JOURNAL_STREAM`.
fn parse(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// The syslog prefix of a line at `level`.
pub(crate) fn prefix(level: &Level) -> &'static [u8] {
    match *level {
        Level::ERROR => b"<3>",
        Level::WARN => b"<4>",
        Level::INFO => b"<6>",
        _ => b"<7>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_device_colon_inode() {
        assert_eq!(parse("8:12345"), Some((8, 12345)));
        for bad in ["", "8", "8:", ":1", "a:1", "8:1:2"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn levels_map_to_syslog_priorities() {
        assert_eq!(prefix(&Level::ERROR), b"<3>");
        assert_eq!(prefix(&Level::WARN), b"<4>");
        assert_eq!(prefix(&Level::INFO), b"<6>");
        assert_eq!(prefix(&Level::DEBUG), b"<7>");
        assert_eq!(prefix(&Level::TRACE), b"<7>");
    }
}
