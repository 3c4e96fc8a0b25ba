//! [`ConfigSource`]: the file name and text a [`Config`](crate::Config) or
//! [`ConfigErrors`](crate::ConfigErrors) came from, and the conversion of
//! the parser's line/column positions into byte ranges for diagnostics.

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::error::Location;
use crate::span::{self, LineIndex};

/// The name and text of a configuration file. Cheap to clone.
///
/// It implements [`miette::SourceCode`], so diagnostics can quote it with the
/// file name in their headers.
#[derive(Clone)]
pub struct ConfigSource {
    name: Arc<str>,
    text: Arc<str>,
    /// Where each line starts, made when first needed: every node of the
    /// file is located through it, and every snippet of a diagnostic read
    /// through it, so each costs a binary search, not a scan of the text
    /// before it.
    lines: Arc<OnceLock<LineIndex>>,
}

impl PartialEq for ConfigSource {
    fn eq(&self, other: &Self) -> bool {
        // The line index follows from the text.
        self.name == other.name && self.text == other.text
    }
}

impl Eq for ConfigSource {}

impl ConfigSource {
    /// A source named `name` (usually the path as given) with `text`. A
    /// control character in the name is kept written out (`\u{1b}`): the
    /// name is shown in every error.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> ConfigSource {
        ConfigSource {
            name: Arc::from(crate::inert::escaped(name.into())),
            text: Arc::from(text.into()),
            lines: Arc::default(),
        }
    }

    /// The file name, as given to [`load`](crate::load) or [`parse`](crate::parse)
    /// (with any control character written out).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text of the file.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The location of the `char_len` characters starting at 1-based `line`
    /// and `column` (counted in characters, as the YAML parser does), with
    /// the byte range filled in; positions past the end are clamped.
    pub(crate) fn locate(&self, line: u32, column: u32, char_len: usize) -> Location {
        let line = line.max(1);
        let column = column.max(1);
        let text: &str = &self.text;
        let line_start = self.line_start(line);
        let rest = &text[line_start..];
        let offset = line_start + byte_len_of_chars(rest, (column - 1) as usize);
        let len = byte_len_of_chars(&text[offset..], char_len);
        Location {
            line,
            column,
            offset,
            len,
        }
    }

    /// Moves `location` to the first occurrence of `needle` inside its byte
    /// range, if the source text there contains it (used to point at one
    /// `${VAR}` inside a longer scalar).
    pub(crate) fn narrow(&self, location: Location, needle: &str) -> Location {
        let end = (location.offset + location.len).min(self.text.len());
        let Some(slice) = self.text.get(location.offset..end) else {
            return location;
        };
        let Some(found) = slice.find(needle) else {
            return location;
        };
        let before = &slice[..found];
        if before.contains('\n') {
            return location;
        }
        Location {
            line: location.line,
            column: location.column + before.chars().count() as u32,
            offset: location.offset + found,
            len: needle.len(),
        }
    }
}

impl ConfigSource {
    /// Byte offset of the start of 1-based `line`; the end of the text if
    /// the text has fewer lines.
    fn line_start(&self, line: u32) -> usize {
        if line <= 1 {
            return 0;
        }
        self.index()
            .start_of((line - 1) as usize)
            .unwrap_or(self.text.len())
    }

    fn index(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::of(&self.text))
    }
}

/// Bytes taken by the first `chars` characters of `text` (all of it if
/// shorter).
fn byte_len_of_chars(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

impl fmt::Debug for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigSource")
            .field("name", &self.name)
            .field("len", &self.text.len())
            .finish()
    }
}

impl SourceCode for ConfigSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = span::read_span(
            &self.text,
            self.index(),
            span,
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_by_characters() {
        let source = ConfigSource::new("x.yaml", "a: 1\nkéy: tcp://h:1\n");
        let at = source.locate(2, 6, 9);
        assert_eq!((at.offset, at.len), (11, 9));
        assert_eq!(&source.text()[at.offset..at.offset + at.len], "tcp://h:1");
        let past = source.locate(9, 9, 3);
        assert_eq!((past.offset, past.len), (source.text().len(), 0));
    }

    #[test]
    fn narrows_to_a_needle_on_the_same_line() {
        let source = ConfigSource::new("x.yaml", "socket: ${HOME}/x/${RUN}\n");
        let at = source.locate(1, 9, 16);
        let narrowed = source.narrow(at, "${RUN}");
        assert_eq!((narrowed.line, narrowed.column, narrowed.len), (1, 19, 6));
        assert_eq!(source.narrow(at, "${NOPE}"), at);
    }
}
