//! Keeping what an error shows narrow, whatever the file (messages that
//! quote a value are shortened in `shorten.rs`): a source line longer than
//! [`LINE_WIDTH`] is shown as a window around the place the error points
//! at, with `…` where it was cut.
//!
//! Why a copy of the file rather than a cropping `SourceCode`: miette reads
//! a snippet as a slice borrowed from the source, so the `…` marks can only
//! be in a text that holds them. The copy ([`Shown`]) is made only for a
//! file with errors and a line longer than [`LINE_WIDTH`]; the errors'
//! spans are moved into it, while their line and column (which the plain
//! `FILE:LINE:COLUMN` listing prints) stay those of the file.
//!
//! The copy is also made for a file that holds control characters: in it
//! each becomes a visible character of the same length (`inert.rs`), so a
//! snippet never sends an escape sequence to the terminal.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::error::{ConfigError, Location};
use crate::inert;
use crate::shorten::ELLIPSIS;
use crate::source::ConfigSource;
use crate::span::{self, LineIndex};

/// The widest source line a snippet shows, in characters (plus a `…` at
/// either end where it was cut).
pub(crate) const LINE_WIDTH: usize = 120;
/// One source line that [`Shown`] cut to a window.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cut {
    /// Byte range of the line in the file (without its newline).
    line: (usize, usize),
    /// Byte range of the window in the file.
    window: (usize, usize),
    /// Where the shown line starts in the shown text.
    shown_start: usize,
    /// Bytes of the `…` before the window (0 when the window starts the line).
    prefix: usize,
    /// Length of the shown line in bytes.
    shown_len: usize,
}

impl Cut {
    /// Shown offset minus file offset after this line.
    fn delta_after(&self) -> isize {
        (self.shown_start + self.shown_len) as isize - self.line.1 as isize
    }
}

/// The file as errors show it, every long line cut to a window, and the
/// errors with their spans moved into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    pub(crate) source: ShownSource,
    pub(crate) errors: Vec<ConfigError>,
}

/// The shown text: a miette [`SourceCode`] whose snippets are never wider
/// than [`LINE_WIDTH`] (plus the `…` marks), and whose line and column
/// numbers are the file's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShownSource {
    file: ConfigSource,
    text: String,
    /// The lines that were cut, in file order.
    cuts: Vec<Cut>,
    /// Where the lines of `text` start (it has the file's lines).
    index: LineIndex,
}

impl Shown {
    /// The view of `errors` in `file`, or `None` if no line is longer than
    /// [`LINE_WIDTH`] and no character is a control (the file can be shown
    /// as it is).
    pub(crate) fn of(file: &ConfigSource, errors: &[ConfigError]) -> Option<Shown> {
        let text = file.text();
        if !text.split('\n').any(is_long) && !inert::has_controls(text) {
            return None;
        }
        let mut anchors: Vec<usize> = errors
            .iter()
            .flat_map(|e| {
                e.location
                    .iter()
                    .chain(e.labels.iter().map(|l| &l.location))
            })
            .map(|at| at.offset)
            .collect();
        anchors.sort_unstable();
        let mut shown = String::with_capacity(text.len().min(1 << 20));
        let mut cuts = Vec::new();
        let mut start = 0;
        for line in text.split('\n') {
            let end = start + line.len();
            if is_long(line) {
                let first = anchors.partition_point(|a| *a < start);
                let anchor = anchors
                    .get(first)
                    .filter(|a| **a <= end)
                    .map_or(0, |a| a - start);
                cuts.push(cut(line, start, anchor, &mut shown));
            } else {
                shown.push_str(line);
            }
            if end < text.len() {
                shown.push('\n');
            }
            start = end + 1;
        }
        // Same lengths in bytes and characters: the cuts and spans hold.
        let shown = inert::same_width(&shown);
        let source = ShownSource {
            file: file.clone(),
            index: LineIndex::of(&shown),
            text: shown,
            cuts,
        };
        let errors = errors
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.location = e.location.map(|at| source.moved(at));
                for label in &mut e.labels {
                    label.location = source.moved(label.location);
                }
                e
            })
            .collect();
        Some(Shown { source, errors })
    }
}

/// Whether `line` has more than [`LINE_WIDTH`] characters.
fn is_long(line: &str) -> bool {
    line.len() > LINE_WIDTH && line.chars().count() > LINE_WIDTH
}

/// Appends the window of `line` (which starts at byte `start` of the file)
/// around byte `anchor` of the line to `shown`, with `…` where it is cut.
fn cut(line: &str, start: usize, anchor: usize, shown: &mut String) -> Cut {
    let chars = line.chars().count();
    let anchor_char = line.char_indices().take_while(|(i, _)| *i < anchor).count();
    let end_char = (anchor_char.saturating_sub(LINE_WIDTH / 3) + LINE_WIDTH).min(chars);
    let start_char = end_char.saturating_sub(LINE_WIDTH);
    let byte_at = |n: usize| line.char_indices().nth(n).map_or(line.len(), |(i, _)| i);
    let (from, to) = (byte_at(start_char), byte_at(end_char));
    let shown_start = shown.len();
    if start_char > 0 {
        shown.push(ELLIPSIS);
    }
    let prefix = shown.len() - shown_start;
    shown.push_str(&line[from..to]);
    if end_char < chars {
        shown.push(ELLIPSIS);
    }
    Cut {
        line: (start, start + line.len()),
        window: (start + from, start + to),
        shown_start,
        prefix,
        shown_len: shown.len() - shown_start,
    }
}

impl ShownSource {
    /// The shown offset of file offset `at`: inside a cut line's window,
    /// the same character; before or after the window, its `…`.
    fn shown_offset(&self, at: usize) -> usize {
        let index = self.cuts.partition_point(|c| c.line.0 <= at);
        let Some(cut) = index.checked_sub(1).map(|i| &self.cuts[i]) else {
            return at;
        };
        if at > cut.line.1 {
            return (at as isize + cut.delta_after()) as usize;
        }
        let inside = at.clamp(cut.window.0, cut.window.1) - cut.window.0;
        let shown = cut.shown_start + cut.prefix + inside;
        if at < cut.window.0 {
            cut.shown_start
        } else if at > cut.window.1 {
            cut.shown_start + cut.shown_len
        } else {
            shown
        }
    }

    /// The file offset of shown offset `at` (the window's edge for a `…`).
    fn file_offset(&self, at: usize) -> usize {
        let index = self.cuts.partition_point(|c| c.shown_start <= at);
        let Some(cut) = index.checked_sub(1).map(|i| &self.cuts[i]) else {
            return at;
        };
        if at > cut.shown_start + cut.shown_len {
            return (at as isize - cut.delta_after()) as usize;
        }
        let inside = at.saturating_sub(cut.shown_start + cut.prefix);
        (cut.window.0 + inside).min(cut.window.1)
    }

    /// `at` (a location in the file) with its span moved into the shown
    /// text; line and column stay the file's.
    fn moved(&self, at: Location) -> Location {
        let offset = self.shown_offset(at.offset);
        let end = self.shown_offset(at.offset + at.len).max(offset);
        Location {
            offset,
            len: end - offset,
            ..at
        }
    }

    /// The file's 0-based character column of shown offset `at`.
    fn file_column(&self, at: usize) -> usize {
        let text = self.file.text();
        let at = self.file_offset(at).min(text.len());
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        text[line_start..at].chars().count()
    }
}

impl SourceCode for ShownSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = span::read_span(
            &self.text,
            &self.index,
            span,
            context_lines_before,
            context_lines_after,
        )?;
        let column = if context_lines_before == 0 {
            self.file_column(inner.span().offset())
        } else {
            0
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.name().to_owned(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigErrorKind;

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_error() {
        let key = "idle_timout";
        let text = format!("a: 1\nb: {}, {key}: 5s\nc: 2\n", "x".repeat(10_000));
        let file = ConfigSource::new("x.yaml", text.clone());
        let offset = text.find(key).expect("the key");
        let error = ConfigError::at(
            ConfigErrorKind::UnknownKey,
            file.locate(2, 10_006, key.len()),
            "unknown key",
        );
        assert_eq!(error.location.map(|at| at.offset), Some(offset));
        let shown = Shown::of(&file, &[error]).expect("a long line");
        let lines: Vec<&str> = shown.source.text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!((lines[0], lines[2]), ("a: 1", "c: 2"));
        assert!(
            lines[1].starts_with('…') && lines[1].ends_with("5s"),
            "{}",
            lines[1]
        );
        assert!(lines[1].chars().count() <= LINE_WIDTH + 2);
        let at = shown.errors[0].location.expect("located");
        assert_eq!(&shown.source.text[at.offset..at.offset + at.len], key);
        assert_eq!(
            (at.line, at.column),
            (2, 10_006),
            "the file's line and column"
        );
        let read = shown
            .source
            .read_span(&(at.offset, at.len).into(), 0, 0)
            .expect("the span reads");
        assert_eq!(read.column() + 1, 10_006);
        assert_eq!(read.line() + 1, 2);
        // Offsets after the cut line move back by what was cut.
        let c = text.find("c: 2").expect("c");
        assert_eq!(&shown.source.text[shown.source.shown_offset(c)..], "c: 2\n");
        assert_eq!(shown.source.file_offset(shown.source.shown_offset(c)), c);
    }

    #[test]
    fn a_file_without_long_lines_is_shown_as_it_is() {
        let file = ConfigSource::new("x.yaml", "a: 1\n");
        assert_eq!(Shown::of(&file, &[]), None);
    }
}
