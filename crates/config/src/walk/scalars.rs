//! The typed scalar readers of [`Walker`]: strings (with `${VAR}`s
//! expanded), names, booleans, durations, whole numbers, numbers, sizes and
//! words, each recording a located error and returning `None` on a bad
//! value.

use std::time::Duration;

use super::{Sp, Walker, is_off, one_of, quoted};
use crate::env::{EnvProblem, expand};
use crate::error::{ConfigError, ConfigErrorKind as Kind, Location};
use crate::suggest::did_you_mean;
use crate::tree::{Node, Value};

/// The longest duration a setting may have: a year. Longer ones are no
/// setting anyone means (`off` turns off what can be off), and the daemon
/// adds them to the clock: `u64::MAX` seconds overflowed it and panicked.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

impl Walker<'_> {
    /// A string, `${VAR}`s expanded; numbers are taken as their text.
    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<Sp<String>> {
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Float(x) => x.to_string(),
            _ => {
                self.wrong_type(node, path, "a string");
                return None;
            }
        };
        match expand(&text, self.env) {
            Ok(expanded) => Some(Sp::new(expanded, node.at)),
            Err(problems) => {
                for problem in problems {
                    self.env_problem(node.at, path, problem);
                }
                None
            }
        }
    }

    fn env_problem(&mut self, at: Location, path: &str, problem: EnvProblem) {
        let error = match problem {
            EnvProblem::Unset { name } => {
                let reference = format!("${{{name}}}");
                ConfigError::at(
                    Kind::UnsetVariable,
                    self.source.narrow(at, &reference),
                    format!(
                        "environment variable `{name}` is not set (used in {})",
                        quoted(path)
                    ),
                )
                .help(format!(
                    "set {name} in the environment, or write `$${{` for a literal `${{`"
                ))
            }
            EnvProblem::Malformed { text } => ConfigError::at(
                Kind::InvalidValue,
                self.source.narrow(at, &text),
                format!("`{text}` in {} is not a variable reference", quoted(path)),
            )
            .help("write `${NAME}` (letters, digits, `_`), or `$${` for a literal `${`"),
        };
        self.push(error);
    }

    /// A connection name: a string or number, never expanded.
    pub(crate) fn name(&mut self, node: &Node, path: &str) -> Option<Sp<String>> {
        match &node.value {
            Value::Str(s) => Some(Sp::new(s.clone(), node.at)),
            Value::Int(n) => Some(Sp::new(n.to_string(), node.at)),
            _ => {
                self.wrong_type(node, path, "a connection name");
                None
            }
        }
    }

    /// One name or a list of names.
    pub(crate) fn names(&mut self, node: &Node, path: &str) -> Option<Vec<Sp<String>>> {
        match &node.value {
            Value::Seq(items) => {
                let names: Vec<_> = items.iter().map(|i| self.name(i, path)).collect();
                names.into_iter().collect()
            }
            _ => self.name(node, path).map(|n| vec![n]),
        }
    }

    /// A string shown to operators as it is, in tables, graphs and filters
    /// (a kind, a tag): one with a control or invisible character
    /// (`linesman_stream::is_hidden`) is refused, and one with a comma,
    /// which filters take as a list (`--tag a,b`, `?tag=a,b`) and metrics
    /// join tags with.
    pub(crate) fn shown_string(&mut self, node: &Node, path: &str) -> Option<Sp<String>> {
        let text = self.string(node, path)?;
        if text.value.contains(',') {
            self.push(
                ConfigError::at(
                    Kind::InvalidValue,
                    text.at,
                    format!("{} `{}` has a comma", quoted(path), text.value),
                )
                .help("filters take kinds and tags as comma lists (`--tag a,b`): write it without a comma, or as two tags"),
            );
            return None;
        }
        if text.value.chars().any(linesman_stream::is_hidden) {
            self.push(
                ConfigError::at(
                    Kind::InvalidValue,
                    text.at,
                    format!(
                        "{} `{}` has a control or invisible character",
                        quoted(path),
                        text.value
                    ),
                )
                .help("it is shown as it is in tables, graphs and filters: write it without control or invisible characters"),
            );
            return None;
        }
        Some(text)
    }

    /// A list of [shown strings](Self::shown_string) (or one).
    pub(crate) fn strings(&mut self, node: &Node, path: &str) -> Option<Sp<Vec<String>>> {
        let items: Vec<Option<Sp<String>>> = match &node.value {
            Value::Seq(items) => items.iter().map(|i| self.shown_string(i, path)).collect(),
            _ => vec![self.shown_string(node, path)],
        };
        let items: Option<Vec<_>> = items.into_iter().map(|i| i.map(|s| s.value)).collect();
        items.map(|v| Sp::new(v, node.at))
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&mut self, node: &Node, path: &str) -> Option<Sp<bool>> {
        match node.value {
            Value::Bool(b) => Some(Sp::new(b, node.at)),
            _ => {
                self.wrong_type(node, path, "`true` or `false`");
                None
            }
        }
    }

    /// A humantime duration (`250ms`, `1m 30s`), at most [`MAX_DURATION`].
    pub(crate) fn duration(&mut self, node: &Node, path: &str) -> Option<Sp<Duration>> {
        if let Value::Int(n) = node.value {
            self.push(
                ConfigError::at(
                    Kind::InvalidDuration,
                    node.at,
                    format!(
                        "{} must be a duration with a unit, found number `{n}`",
                        quoted(path)
                    ),
                )
                .help(format!("add a unit, e.g. `{n}s` or `{n}ms`")),
            );
            return None;
        }
        let text = self.string(node, path)?;
        match humantime::parse_duration(text.value.trim()) {
            Ok(duration) if duration > MAX_DURATION => {
                self.push(
                    ConfigError::at(
                        Kind::OutOfRange,
                        node.at,
                        format!(
                            "{} is `{}`, longer than the 365 days a duration may be",
                            quoted(path),
                            text.value.trim()
                        ),
                    )
                    .help("use at most `365d`; a setting that can be turned off takes `off`"),
                );
                None
            }
            Ok(duration) => Some(Sp::new(duration, node.at)),
            Err(error) => {
                self.push(
                    ConfigError::at(
                        Kind::InvalidDuration,
                        node.at,
                        format!(
                            "{} must be a duration like `250ms` or `1m 30s`, found `{}`",
                            quoted(path),
                            text.value
                        ),
                    )
                    .help(duration_help(text.value.trim(), &error)),
                );
                None
            }
        }
    }

    /// A duration, or `false` / `off` for none.
    pub(crate) fn optional_duration(
        &mut self,
        node: &Node,
        path: &str,
    ) -> Option<Sp<Option<Duration>>> {
        if is_off(node) {
            return Some(Sp::new(None, node.at));
        }
        self.duration(node, path)
            .map(|d| Sp::new(Some(d.value), d.at))
    }

    /// A whole number within `min..=max`; a string of digits is accepted too
    /// (so `${VAR}` works).
    pub(crate) fn integer(
        &mut self,
        node: &Node,
        path: &str,
        min: u64,
        max: u64,
    ) -> Option<Sp<u64>> {
        let n: i128 = match &node.value {
            Value::Int(n) => *n,
            Value::Str(_) => {
                let text = self.string(node, path)?;
                match text.value.trim().parse::<i128>() {
                    Ok(n) => n,
                    Err(_) => {
                        self.wrong_type(node, path, "a whole number");
                        return None;
                    }
                }
            }
            _ => {
                self.wrong_type(node, path, "a whole number");
                return None;
            }
        };
        match u64::try_from(n) {
            Ok(v) if (min..=max).contains(&v) => Some(Sp::new(v, node.at)),
            _ => {
                self.push(ConfigError::at(
                    Kind::OutOfRange,
                    node.at,
                    format!(
                        "{} must be between {min} and {max}, found {n}",
                        quoted(path)
                    ),
                ));
                None
            }
        }
    }

    /// A number (integer or decimal).
    pub(crate) fn number(&mut self, node: &Node, path: &str) -> Option<Sp<f64>> {
        let x = match &node.value {
            Value::Int(n) => *n as f64,
            Value::Float(x) => *x,
            Value::Str(_) => {
                let text = self.string(node, path)?;
                match text.value.trim().parse::<f64>() {
                    Ok(x) => x,
                    Err(_) => {
                        self.wrong_type(node, path, "a number");
                        return None;
                    }
                }
            }
            _ => {
                self.wrong_type(node, path, "a number");
                return None;
            }
        };
        Some(Sp::new(x, node.at))
    }

    /// A byte size: a whole number of bytes, or a number with a unit
    /// (`64KiB`, `16 MiB`, `1MB`).
    pub(crate) fn size(&mut self, node: &Node, path: &str, min: u64) -> Option<Sp<u64>> {
        if let Value::Int(_) = node.value {
            return self.integer(node, path, min, u64::MAX);
        }
        let text = self.string(node, path)?;
        match parse_size(&text.value) {
            Some(n) if n >= min => Some(Sp::new(n, node.at)),
            Some(n) => {
                self.push(ConfigError::at(
                    Kind::OutOfRange,
                    node.at,
                    format!("{} must be at least {min} bytes, found {n}", quoted(path)),
                ));
                None
            }
            None => {
                self.push(
                    ConfigError::at(
                        Kind::InvalidSize,
                        node.at,
                        format!(
                            "{} must be a size in bytes like `65536` or `16MiB`, found `{}`",
                            quoted(path),
                            text.value
                        ),
                    )
                    .help(
                        "units: B, KB, MB, GB (powers of 1000) and KiB, MiB, GiB (powers of 1024)",
                    ),
                );
                None
            }
        }
    }

    /// One of `words`, parsed with `parse`.
    pub(crate) fn word<T>(
        &mut self,
        node: &Node,
        path: &str,
        words: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Sp<T>> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(node, path, &one_of(words));
            return None;
        };
        if let Some(value) = parse(text) {
            return Some(Sp::new(value, node.at));
        }
        self.push(
            ConfigError::at(
                Kind::InvalidValue,
                node.at,
                format!("{} must be {}, found `{text}`", quoted(path), one_of(words)),
            )
            .maybe_help(did_you_mean(text, words.iter().copied())),
        );
        None
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" | "K" | "k" => 1_000,
        "MB" | "M" => 1_000_000,
        "GB" | "G" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// What to write instead of a duration `text` that did not parse.
fn duration_help(text: &str, error: &humantime::DurationError) -> String {
    if text.starts_with('-') {
        return "a duration cannot be negative: write e.g. `250ms` or `5s`".to_owned();
    }
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB"), Some(16 << 20));
        assert_eq!(parse_size("16 MiB"), Some(16 << 20));
        assert_eq!(parse_size("64KB"), Some(64_000));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1.5MiB"), None);
        assert_eq!(parse_size("MiB"), None);
        assert_eq!(parse_size("99999999999GiB"), None);
    }
}
