//! Messages, helps and labels kept short: a quoted value longer than
//! [`QUOTE_WIDTH`] is cut in its middle, and so is a whole text longer than
//! [`MESSAGE_WIDTH`]; and none carries a control character to the
//! terminal.

use crate::inert::escaped;

/// The longest quoted value (between backquotes) a message keeps.
const QUOTE_WIDTH: usize = 60;
/// The longest message or label text, in characters.
pub(crate) const MESSAGE_WIDTH: usize = 200;
/// The longest help, in characters: room for the whole list of the keys a
/// place takes (about 300), which a cut in its middle made useless.
pub(crate) const HELP_WIDTH: usize = 500;
/// What stands for the characters cut out.
pub(crate) const ELLIPSIS: char = '…';

/// `text` with its control characters written out (`inert.rs`), then
/// every backquoted part longer than [`QUOTE_WIDTH`] cut in its middle,
/// then, if still longer than [`MESSAGE_WIDTH`], cut in its middle as a
/// whole.
pub(crate) fn shortened(text: String) -> String {
    shortened_to(text, MESSAGE_WIDTH)
}

/// A help [`shortened`] to [`HELP_WIDTH`].
pub(crate) fn shortened_help(text: String) -> String {
    shortened_to(text, HELP_WIDTH)
}

fn shortened_to(text: String, width: usize) -> String {
    let text = escaped(text);
    if text.chars().count() <= width {
        return text;
    }
    let mut out = String::with_capacity(MESSAGE_WIDTH * 4);
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd parts are between backquotes.
        if i % 2 == 1 {
            out.push_str(&middle_cut(part, QUOTE_WIDTH));
        } else {
            out.push_str(part);
        }
    }
    middle_cut(&out, width)
}

/// `text` if it has at most `width` characters; otherwise its start and
/// end with `…` between, `width` characters in all.
fn middle_cut(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    let keep = width.saturating_sub(1);
    let head = keep * 2 / 3;
    let tail = keep - head;
    let mut out: String = text.chars().take(head).collect();
    out.push(ELLIPSIS);
    out.extend(text.chars().skip(count - tail));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_kept_and_long_quotes_are_cut() {
        let short = "unknown key `idle_timout` in `connections.a`".to_owned();
        assert_eq!(shortened(short.clone()), short);
        let long = format!("unknown key `{}` in `connections.a`", "y".repeat(1_000));
        let cut = shortened(long);
        assert!(cut.starts_with("unknown key `yyyy"), "{cut}");
        assert!(cut.ends_with("y` in `connections.a`"), "{cut}");
        assert_eq!(cut.matches('…').count(), 1, "{cut}");
        assert!(cut.chars().count() < 100, "{cut}");
        let unquoted = "z".repeat(1_000);
        let cut = shortened(unquoted);
        assert_eq!(cut.chars().count(), MESSAGE_WIDTH);
    }
}
