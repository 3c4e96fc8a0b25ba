//! [`file_kind`]: what a file is, in the words an error message uses when
//! a path that should hold a socket holds something else.

use std::fs::FileType;
use std::os::unix::fs::FileTypeExt;

/// `a socket`, `a regular file`, `a directory`, `a FIFO (named pipe)`,
/// `a symbolic link` (from `symlink_metadata`), `a character device`, `a
/// block device`, or `something other than a file`. The words of every
/// message that says a path holds the wrong kind of file: a socket path,
/// an endpoint, the configuration file.
///
/// ```
/// let kind = std::fs::metadata("/")?.file_type();
/// assert_eq!(linesman_stream::file_kind(kind), "a directory");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn file_kind(kind: FileType) -> &'static str {
    if kind.is_socket() {
        "a socket"
    } else if kind.is_file() {
        "a regular file"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "something other than a file"
    }
}
