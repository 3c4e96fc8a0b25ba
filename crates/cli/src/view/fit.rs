//! Fitting text to the terminal: how wide it is, and cutting a cell down
//! to a width with an ellipsis.
//!
//! The width is, in order: the terminal's (ioctl `TIOCGWINSZ` on stdout,
//! asked on every draw so a resized `status --watch` follows), else the
//! `COLUMNS` environment variable when it holds a positive number (so a
//! pipe or a test can ask for a width), else no limit — the whole text,
//! which is what scripts reading a pipe want. `-o wide` never limits.
//!
//! Widths are display columns (`unicode-width`, as comfy-table counts
//! them), not bytes or characters: `é` takes one column, `東` two, a
//! zero-width joiner none, so a cut line fits what the terminal shows.

use std::io::IsTerminal;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The ellipsis that marks cut text.
pub(crate) const ELLIPSIS: char = '…';

/// The width to fit stdout's lines to, or `None` for no limit (see the
/// module docs for the order of the sources).
pub(crate) fn stdout_width() -> Option<usize> {
    let terminal = std::io::stdout().is_terminal();
    let columns = std::env::var("COLUMNS").ok();
    choose(
        terminal.then(terminal_columns).flatten(),
        columns.as_deref(),
    )
}

/// The width from the terminal's answer, else from `COLUMNS`.
fn choose(terminal: Option<usize>, columns: Option<&str>) -> Option<usize> {
    terminal.or_else(|| {
        columns
            .and_then(|text| text.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
    })
}

/// The terminal's columns, if stdout is one that says.
fn terminal_columns() -> Option<usize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which
    // points at a live, writable `winsize` for the whole call.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &raw mut size) };
    (rc == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// `text` on one line: newlines, tabs and other control characters, and
/// invisible formatting ones (`linesman_stream::is_hidden`), become spaces,
/// so a row of the table is never more than one line and shows as it reads.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if linesman_stream::is_hidden(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The columns `text` takes on a terminal.
pub(crate) fn width(text: &str) -> usize {
    text.width()
}

/// The columns one character takes (control characters: none).
fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// The longest start of `chars` that fits in `columns`.
fn take_columns(chars: impl Iterator<Item = char>, columns: usize) -> Vec<char> {
    let mut used = 0;
    chars
        .take_while(|&c| {
            used += char_width(c);
            used <= columns
        })
        .collect()
}

/// `text` cut to at most `max` columns, its end replaced by `…`.
pub(crate) fn cut_end(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut cut: String = take_columns(text.chars(), max - 1).into_iter().collect();
    cut.push(ELLIPSIS);
    cut
}

/// `text` cut to at most `max` columns, its middle replaced by `…`, so
/// both the start (an endpoint's scheme and host) and the end (a socket's
/// file name, a port) stay.
pub(crate) fn cut_middle(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let keep = max - 1;
    let head = keep.div_ceil(2);
    let mut cut: String = take_columns(text.chars(), head).into_iter().collect();
    let used = width(&cut);
    let mut tail = take_columns(text.chars().rev(), keep - used);
    tail.reverse();
    cut.push(ELLIPSIS);
    cut.extend(tail);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_wins_then_columns_then_no_limit() {
        assert_eq!(choose(Some(100), Some("80")), Some(100));
        assert_eq!(choose(None, Some("80")), Some(80));
        assert_eq!(choose(None, Some(" 72 ")), Some(72));
        assert_eq!(choose(None, Some("0")), None);
        assert_eq!(choose(None, Some("wide")), None);
        assert_eq!(choose(None, None), None);
    }

    #[test]
    fn cuts_count_characters_not_bytes() {
        assert_eq!(cut_end("connection refused", 10), "connectio…");
        assert_eq!(cut_end("ééééé", 5), "ééééé");
        assert_eq!(cut_end("éééééé", 5), "éééé…");
        assert_eq!(cut_middle("unix:///tmp/a/b/c/d.sock", 12), "unix:/….sock");
        assert_eq!(cut_middle("short", 12), "short");
        assert_eq!(cut_end("x", 0), "");
    }

    #[test]
    fn wide_characters_count_two_columns() {
        assert_eq!(width("東京"), 4);
        assert_eq!(cut_end("東京大阪", 5), "東京…");
        assert_eq!(width(&cut_end("東京大阪", 5)), 5);
        assert_eq!(cut_middle("東京/大阪/名古屋", 9), "東京…古屋");
        for max in 1..12 {
            assert!(width(&cut_middle("unix:///東京/大阪.sock", max)) <= max);
            assert!(width(&cut_end("東京大阪-feed", max)) <= max);
        }
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(one_line("a\nb\r\nc\td"), "a b  c d");
    }
}
