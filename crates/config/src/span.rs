//! Snippets for miette read through a line index.
//!
//! Why: miette's `SourceCode` for `str` finds a span's line by scanning
//! the text from its start, so rendering `n` errors in a large file costs
//! `n` times the file (20,000 errors took minutes). [`read_span`] starts
//! miette's own scan a line above the snippet instead (found by
//! binary search in a [`LineIndex`]) and moves the result back to the
//! whole text's offsets and line numbers: the same snippet, for the cost
//! of its own lines.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan};

/// Where the lines of a text start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineIndex {
    /// Byte offset of the start of each line after the first.
    starts: Vec<usize>,
    /// Whether a `\r` ends a line on its own somewhere: miette counts it as
    /// a line break and this index does not, so such a text is read the
    /// slow way (it is rare: old Mac line endings).
    bare_cr: bool,
}

impl LineIndex {
    /// The index of `text`.
    pub(crate) fn of(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        LineIndex {
            starts: text.match_indices('\n').map(|(i, _)| i + 1).collect(),
            bare_cr: bytes
                .iter()
                .enumerate()
                .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n')),
        }
    }

    /// Byte offset of the start of 0-based line `line`, if the text has it.
    pub(crate) fn start_of(&self, line: usize) -> Option<usize> {
        match line {
            0 => Some(0),
            n => self.starts.get(n - 1).copied(),
        }
    }
}

/// What `text.read_span(span, before, after)` gives, found through `index`
/// (the index of `text`).
pub(crate) fn read_span<'a>(
    text: &'a str,
    index: &LineIndex,
    span: &SourceSpan,
    before: usize,
    after: usize,
) -> Result<MietteSpanContents<'a>, MietteError> {
    let (base, base_line) = if index.bare_cr {
        (0, 0)
    } else {
        let line = index.starts.partition_point(|&s| s <= span.offset());
        // One line more than the context: miette reads an empty span at
        // the very start of its text differently from one after a newline.
        let base_line = line.saturating_sub(before + 1);
        (index.start_of(base_line).unwrap_or(0), base_line)
    };
    let shifted = SourceSpan::new((span.offset() - base).into(), span.len());
    let inner = text[base..].read_span(&shifted, before, after)?;
    Ok(MietteSpanContents::new(
        inner.data(),
        SourceSpan::new((inner.span().offset() + base).into(), inner.span().len()),
        inner.line() + base_line,
        inner.column(),
        inner.line_count() + base_line,
    ))
}

#[cfg(test)]
mod tests {
    use miette::SpanContents;

    use super::*;

    /// Every span of every text below reads the same through the index as
    /// through miette's scan.
    #[test]
    fn reads_what_miette_reads() {
        let texts = [
            "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n",
            "one line, no newline",
            "x\r\ny: 2\r\nz: 3\r\n",
            "a\rb\rc\n",
            "\n\n\nlast: x",
            "",
        ];
        for text in texts {
            let index = LineIndex::of(text);
            for offset in 0..=text.len() {
                for len in 0..=(text.len() - offset).min(6) {
                    for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                        let span = SourceSpan::new(offset.into(), len);
                        let slow = text.read_span(&span, before, after);
                        let fast = read_span(text, &index, &span, before, after);
                        match (slow, fast) {
                            (Ok(slow), Ok(fast)) => {
                                let what = format!("{text:?} {offset}+{len} {before}/{after}");
                                assert_eq!(slow.data(), fast.data(), "{what}");
                                assert_eq!(slow.span(), fast.span(), "{what}");
                                assert_eq!(slow.line(), fast.line(), "{what}");
                                assert_eq!(slow.column(), fast.column(), "{what}");
                                assert_eq!(slow.line_count(), fast.line_count(), "{what}");
                            }
                            (Err(_), Err(_)) => {}
                            (slow, fast) => panic!(
                                "{text:?} {offset}+{len}: slow ok {}, fast ok {}",
                                slow.is_ok(),
                                fast.is_ok()
                            ),
                        }
                    }
                }
            }
        }
    }
}
