//! Control characters (and invisible formatting ones: direction overrides,
//! zero-width spaces, line separators; `linesman_stream::is_hidden`) made
//! harmless before anything of a file reaches a terminal: a file from a
//! shared directory may hold escape sequences (retitle the window, clear
//! the screen, rewrite the line above) or reordered text meant for whoever
//! runs `linesman check` on it.
//!
//! Two forms, because two kinds of text are shown:
//! - messages, helps, labels and file names are one line each: a hidden
//!   character there is written as Rust writes it, `\u{1b}` ([`escaped`]);
//! - a snippet is the file's own text, whose byte offsets and columns the
//!   errors' spans point at: there each hidden character becomes a
//!   visible one of the same length in bytes and in characters
//!   ([`same_width`]), so every span and column stays right.

use linesman_stream::is_hidden;

/// Whether `c` would reach a terminal hidden: a control (C0, DEL, C1) or
/// invisible formatting, but not a tab (YAML allows it in values; it only
/// moves the cursor forward).
fn is_hostile(c: char) -> bool {
    is_hidden(c) && c != '\t'
}

/// `text` with every hidden character (a tab too) written as `\u{…}`;
/// the same `String` when it has none.
pub(crate) fn escaped(text: String) -> String {
    match linesman_stream::escape_hidden(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(written_out) => written_out,
    }
}

/// Whether a snippet of `text` would show a hidden character: anything
/// [`is_hostile`] but the newlines, `\n` and `\r\n`.
pub(crate) fn has_controls(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' || (c == '\r' && chars.peek() == Some(&'\n')) {
            continue;
        }
        if is_hostile(c) {
            return true;
        }
    }
    false
}

/// `text` with each hidden character that [`has_controls`] finds
/// replaced by a visible one of the same length in bytes (and, being one
/// character, in columns): `?` for C0 and DEL (1 byte), `¿` for C1 and the
/// soft hyphen (2 bytes), `�` for the invisible formatting characters of 3
/// bytes.
pub(crate) fn same_width(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let newline = c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'));
        if newline || !is_hostile(c) {
            out.push(c);
        } else {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '¿',
                _ => '\u{FFFD}',
            });
        }
    }
    debug_assert_eq!(out.len(), text.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_escape_sequences_as_text() {
        let text = "unknown policy `x\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m`".to_owned();
        assert_eq!(
            escaped(text),
            "unknown policy `x\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}31m`"
        );
        let plain = "unknown key `idle_timout`".to_owned();
        assert_eq!(escaped(plain.clone()), plain);
    }

    #[test]
    fn snippets_keep_their_length_and_their_newlines() {
        let text = "a: 1\r\nb: \"x\u{1b}[2J\u{9b}\ry\u{202e}\"\tz\n";
        assert!(has_controls(text));
        let shown = same_width(text);
        assert_eq!(shown, "a: 1\r\nb: \"x?[2J¿?y\u{fffd}\"\tz\n");
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown.chars().count(), text.chars().count());
        assert!(!has_controls(&shown));
        assert!(
            !has_controls("a: 1\r\nb:\t2\n"),
            "CRLF and tabs are not controls here"
        );
    }
}
