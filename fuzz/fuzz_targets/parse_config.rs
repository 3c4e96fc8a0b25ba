//! Arbitrary bytes (read as UTF-8, invalid sequences replaced) parsed as a
//! configuration file: no panic; on errors, every message, help and label
//! short, every location inside the text and on character boundaries, and
//! the rendered report (snippets included) narrow.

#![no_main]

use libfuzzer_sys::fuzz_target;
use miette::{Diagnostic, NarratableReportHandler};

/// The longest message, help or label an error may have, in characters.
const MESSAGE_WIDTH: usize = 200;
/// The longest line a rendered report may have, in bytes: a 120-character
/// snippet line (plus `…` marks, a line number and a prefix) or a message
/// line of 200 characters (4 bytes each at most, plus a prefix).
const REPORT_LINE: usize = 4 * MESSAGE_WIDTH + 64;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Err(errors) = linesman_config::parse_with_env("fuzz.yaml", &text, &|_| None) else {
        return;
    };
    assert!(!errors.is_empty());
    for error in errors.errors() {
        let texts = std::iter::once(error.message.as_str())
            .chain(error.help.as_deref())
            .chain(error.labels.iter().map(|l| l.text.as_str()));
        for said in texts {
            assert!(!said.is_empty(), "an empty text in {error:?}");
            assert!(said.chars().count() <= MESSAGE_WIDTH, "too long: {said}");
        }
        let places = error
            .location
            .iter()
            .chain(error.labels.iter().map(|l| &l.location));
        for at in places {
            let end = at.offset + at.len;
            assert!(end <= text.len(), "{at:?} is past the end");
            assert!(text.is_char_boundary(at.offset) && text.is_char_boundary(end));
            assert!(at.line >= 1 && at.column >= 1, "{at:?}");
        }
    }
    let mut report = String::new();
    NarratableReportHandler::new()
        .render_report(&mut report, &errors.diagnostic())
        .expect("the report renders");
    for line in report.lines() {
        assert!(line.len() <= REPORT_LINE, "a line of {} bytes", line.len());
    }
    // The spans of the diagnostics (into the text as shown) read back.
    let view = errors.diagnostic();
    let source = view.source_code().expect("a source");
    for related in view.related().into_iter().flatten() {
        for label in related.labels().into_iter().flatten() {
            source
                .read_span(label.inner(), 1, 1)
                .expect("a label's span reads");
        }
    }
});
