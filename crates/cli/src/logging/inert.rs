//! Log lines made harmless for the terminal or journal that shows them: a
//! control character that came in a logged value (a socket path, an error
//! text, a handler's message) is written out as `\u{1b}`, so it can neither
//! forge a line (a newline), retitle or clear the operator's terminal (an
//! escape sequence), nor ring its bell. The line's own newline stays, and
//! so do the colour codes the formatter itself writes when stderr is a
//! terminal (SGR: `ESC [ digits ; m`), which only ever set colours.

/// Appends `line` to `out`, its control characters written out as above;
/// `colours`: keep SGR sequences.
pub(crate) fn append_inert(line: &[u8], colours: bool, out: &mut Vec<u8>) {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    if !body.iter().any(|&b| b < 0x20 || b == 0x7f || b == 0xc2) {
        out.extend_from_slice(line);
        return;
    }
    out.reserve(line.len() + 16);
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        if byte == 0x1b && colours {
            let sgr = sgr_len(&body[i..]);
            if sgr > 0 {
                out.extend_from_slice(&body[i..i + sgr]);
                i += sgr;
                continue;
            }
        }
        if byte < 0x20 || byte == 0x7f {
            write_out(u32::from(byte), out);
            i += 1;
        } else if byte == 0xc2 && body.get(i + 1).is_some_and(|b| (0x80..=0x9f).contains(b)) {
            // A C1 control (U+0080..U+009F) in UTF-8.
            write_out(u32::from(body[i + 1]), out);
            i += 2;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    if body.len() < line.len() {
        out.push(b'\n');
    }
}

/// The length of the SGR sequence `ESC [ (digit | ;)* m` at the start of
/// `bytes`, or 0 if there is none.
fn sgr_len(bytes: &[u8]) -> usize {
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

/// Writes `\u{…}` for the character `code`.
fn write_out(code: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("\\u{{{code:x}}}").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inert(line: &str, colours: bool) -> String {
        let mut out = Vec::new();
        append_inert(line.as_bytes(), colours, &mut out);
        String::from_utf8(out).expect("still UTF-8")
    }

    #[test]
    fn a_logged_escape_sequence_is_written_out_and_the_newline_stays() {
        let line = "WARN connect failed endpoint=unix:///run/\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}1m.sock\nforged INFO line\n";
        assert_eq!(
            inert(line, false),
            "WARN connect failed endpoint=unix:///run/\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}1m.sock\\u{a}forged INFO line\n"
        );
        // Not a colour code (2J clears the screen): written out with colours too.
        assert_eq!(inert("a\u{1b}[2Jb\n", true), "a\\u{1b}[2Jb\n");
    }

    #[test]
    fn the_formatters_own_colours_stay_when_colours_are_on() {
        let line = "\u{1b}[2m2026\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m x=caf\u{e9}\n";
        assert_eq!(inert(line, true), line);
        assert_eq!(
            inert(line, false),
            "\\u{1b}[2m2026\\u{1b}[0m \\u{1b}[33m WARN\\u{1b}[0m x=caf\u{e9}\n"
        );
        let plain = "INFO linesman is running\n";
        assert_eq!(inert(plain, false), plain);
    }
}
