//! [`shown`]: a text from a client or a file as an error message repeats
//! it, one helper for every message of the control plane.

/// `text` as an error message repeats it: at most `max` bytes (cut at a
/// character boundary, then `…`), hidden characters escaped
/// (`linesman_stream::is_hidden`: control characters, direction
/// overrides, zero-width marks), so a hostile text can neither bloat the
/// answer, forge log lines nor reorder what a terminal shows of it.
/// Printable characters, non-ASCII ones included, are shown as they are.
pub(crate) fn shown(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 3);
    for c in text[..end].chars() {
        if linesman_stream::is_hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
}

/// At most this many items of a list are named in a message.
const LISTED: usize = 20;
/// The most bytes of one listed item a message repeats.
const SHOWN_ITEM: usize = 64;

/// `items` for a message: `a, b, c`, each as [`shown`] repeats it; past
/// [`LISTED`] of them, the count of the rest (`a, b, … and 9980 more`). A
/// daemon of 10,000 connections answered an unknown name with every one of
/// them in its message.
pub(crate) fn listed(items: &[impl AsRef<str>]) -> String {
    let named: Vec<String> = items
        .iter()
        .take(LISTED)
        .map(|item| shown(item.as_ref(), SHOWN_ITEM))
        .collect();
    let named = named.join(", ");
    match items.len().saturating_sub(LISTED) {
        0 => named,
        more => format!("{named} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::{listed, shown};

    #[test]
    fn a_long_list_names_twenty_and_counts_the_rest() {
        assert_eq!(listed(&["a", "b"]), "a, b");
        let many: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
        let text = listed(&many);
        assert!(
            text.starts_with("c0, c1, ") && text.ends_with("c19 and 9980 more"),
            "{text}"
        );
        assert!(listed(&["x\u{1b}[31m"]).contains("\\u{1b}"), "escaped");
    }

    #[test]
    fn a_shown_text_is_capped_at_a_boundary_and_escaped() {
        assert_eq!(shown("/v2/status", 200), "/v2/status");
        let long = format!("/{}", "é".repeat(150));
        let cut = shown(&long, 200);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(cut.len() <= 200 + '…'.len_utf8(), "{}", cut.len());
        assert_eq!(shown("/a\u{7}b\nc", 200), "/a\\u{7}b\\nc");
        assert_eq!(shown("x\u{9b}\u{202e}y", 200), "x\\u{9b}\\u{202e}y");
        assert_eq!(shown("café", 200), "café", "printable non-ASCII as it is");
        assert_eq!(shown("ab", 1), "a…");
    }
}
