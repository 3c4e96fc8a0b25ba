//! Characters that must not reach an operator's screen from a name, a path
//! or any text that came from outside: controls (C0, DEL, C1), which a
//! terminal acts on (an escape sequence retitles the window or clears the
//! screen, a CR overwrites the line), and invisible formatting characters,
//! which change how the text around them shows without showing themselves
//! (a direction override reorders it, a zero-width space hides a
//! difference, a line separator breaks it). One definition for every
//! check and every escaper of the workspace.

/// Whether `c` is hidden: a control character or [invisible
/// formatting](is_invisible_format).
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// `text` with each hidden character written as Rust writes it, `\u{1b}`;
/// borrowed when it has none. For one-line texts shown to operators: a
/// message, a name, a path.
pub fn escape_hidden(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Format characters that change how the text around them shows without
/// showing themselves: the soft hyphen, zero-width spaces and joiners,
/// direction marks, embeddings, overrides and isolates, the line and
/// paragraph separators, the byte order mark, interlinear annotation.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_invisible_formatting_are_hidden_and_visible_text_is_not() {
        for c in [
            '\u{1b}', '\u{7}', '\r', '\n', '\u{7f}', '\u{9b}', '\u{85}', '\u{202e}', '\u{2066}',
            '\u{200f}', '\u{2028}', '\u{feff}',
        ] {
            assert!(is_hidden(c), "{c:?}");
        }
        for c in ['a', 'é', '行', ' ', '-', '\u{2010}', '\u{fffd}'] {
            assert!(!is_hidden(c), "{c:?}");
        }
        assert_eq!(
            escape_hidden("a\u{1b}[2J\u{202e}é\n"),
            "a\\u{1b}[2J\\u{202e}é\\u{a}"
        );
        assert!(matches!(
            escape_hidden("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
    }
}
