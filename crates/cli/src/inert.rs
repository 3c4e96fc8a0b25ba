//! Text made harmless for the terminal or journal that shows it: every
//! hidden character (`linesman_stream::is_hidden`: C0, DEL, C1, invisible
//! formatting such as direction overrides) that came from outside — a
//! logged value, a socket path from the environment, a name given on the
//! command line, a string a daemon answered — is written out as `\u{1b}`.
//! So it can neither forge a line (a newline inside a log line), retitle
//! or clear the operator's terminal (an escape sequence), ring its bell,
//! nor reorder what the operator reads. Kept: newlines where [`inert`] is
//! told text is made of lines, tabs, and, when colours are on, the SGR
//! colour codes (`ESC [ digits ; m`) that our own formatters write, which
//! only ever set colours.

/// What [`inert`] keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep {
    /// Newlines: the text is lines (a report, a table). Off for a log line,
    /// whose only newline is its end (kept).
    pub(crate) newlines: bool,
    /// SGR colour codes.
    pub(crate) colours: bool,
}

/// `text` with its hidden characters written out, but what `keep` keeps;
/// borrowed when there is nothing to write out.
pub(crate) fn inert(text: &str, keep: Keep) -> std::borrow::Cow<'_, str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let kept = |c: char| c == '\t' || (keep.newlines && c == '\n');
    // Most output is printable ASCII (a 10k-connection status is 5 MB):
    // a byte scan first, the characters only where one may be hidden.
    let maybe_hidden = |b: &u8| (*b < 0x20 && !matches!(b, b'\t' | b'\n')) || *b >= 0x7f;
    let newline_hidden = !keep.newlines && body.contains('\n');
    if !newline_hidden && !body.as_bytes().iter().any(maybe_hidden) {
        return text.into();
    }
    if !body
        .chars()
        .any(|c| linesman_stream::is_hidden(c) && !kept(c))
    {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' && keep.colours {
            let sgr = sgr_len(rest);
            if sgr > 0 {
                out.push_str(&rest[..sgr]);
                rest = &rest[sgr..];
                continue;
            }
        }
        if linesman_stream::is_hidden(c) && !kept(c) {
            write_out(c, &mut out);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    if body.len() < text.len() {
        out.push('\n');
    }
    out.into()
}

/// `text` on one line: every hidden character, newlines and tabs too,
/// written out (a file name in a comment line, a value in a one-line
/// format).
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if linesman_stream::is_hidden(c) {
            write_out(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON text with every hidden character that serde_json leaves as it
/// is (DEL, C1, invisible formatting: it escapes only C0) written as a
/// JSON escape, `\u009b`: the document means the same and holds none.
/// (Such a character can only be inside a string.)
pub(crate) fn json(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.bytes().any(|b| b >= 0x7f) {
        // serde_json has escaped every ASCII control below DEL already.
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if linesman_stream::is_hidden(c) && c >= '\u{7f}' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Writes hidden `c` out: `\n`, `\t` and `\r` as Rust writes them, any
/// other as `\u{1b}`.
fn write_out(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        _ => out.extend(c.escape_unicode()),
    }
}

/// The length of the SGR sequence `ESC [ (digit | ;)* m` at the start of
/// `text`, or 0 if there is none.
fn sgr_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    if bytes.get(1) != Some(&b'[') {
        return 0;
    }
    let params = bytes[2..]
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b';')
        .count();
    match bytes.get(2 + params) {
        Some(b'm') => 3 + params,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: Keep = Keep {
        newlines: false,
        colours: false,
    };

    fn log(line: &str, colours: bool) -> String {
        inert(line, Keep { colours, ..LOG }).into_owned()
    }

    #[test]
    fn a_logged_escape_sequence_is_written_out_and_the_newline_stays() {
        let line = "WARN connect failed endpoint=unix:///run/\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}1m\u{202e}.sock\nforged INFO line\n";
        assert_eq!(
            log(line, false),
            "WARN connect failed endpoint=unix:///run/\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}1m\\u{202e}.sock\\nforged INFO line\n"
        );
        // Not a colour code (2J clears the screen): written out with colours too.
        assert_eq!(log("a\u{1b}[2Jb\n", true), "a\\u{1b}[2Jb\n");
    }

    #[test]
    fn the_formatters_own_colours_stay_when_colours_are_on() {
        let line = "\u{1b}[2m2026\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m x=caf\u{e9}\n";
        assert_eq!(log(line, true), line);
        assert_eq!(
            log(line, false),
            "\\u{1b}[2m2026\\u{1b}[0m \\u{1b}[33m WARN\\u{1b}[0m x=caf\u{e9}\n"
        );
        let plain = "INFO linesman is running\n";
        assert_eq!(log(plain, false), plain);
    }

    #[test]
    fn json_escapes_what_serde_json_leaves_and_stays_the_same_document() {
        let value =
            serde_json::json!({ "kind": "k\u{1b}[31m\u{9b}\u{7f}", "tag": "t\u{202e}1\u{85}é" });
        let encoded = value.to_string();
        let text = json(&encoded);
        assert!(!text.chars().any(linesman_stream::is_hidden), "{text}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e") && text.contains("\\u007f"),
            "{text}"
        );
        // DEL alone (ASCII, which serde_json leaves) is escaped too.
        let del = serde_json::json!({ "a": "x\u{7f}" }).to_string();
        assert_eq!(json(&del), "{\"a\":\"x\\u007f\"}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn a_report_keeps_its_lines_and_tabs() {
        let text = "NAME\tSTATE\nn\u{1b}]0;x\u{7}\tup\r\n";
        let keep = Keep {
            newlines: true,
            colours: false,
        };
        assert_eq!(
            inert(text, keep),
            "NAME\tSTATE\nn\\u{1b}]0;x\\u{7}\tup\\r\n"
        );
    }
}
