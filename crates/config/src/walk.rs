//! The walk over the located YAML tree: reading mappings key by key
//! ([`Fields`]) and typed scalars, collecting every problem in a [`Walker`]
//! instead of stopping at the first.
//!
//! Each reader returns `None` after recording an error, so a bad value
//! never reaches validation and never causes a second, derived error.
//! Every value is named by its dotted path from the top of the file
//! (`connections.quotes.restart.backoff.jitter`) in messages.

use std::time::Duration;

use crate::env::{EnvProblem, expand};
use crate::error::{ConfigError, ConfigErrorKind as Kind, Location};
use crate::source::ConfigSource;
use crate::suggest::did_you_mean;
use crate::tree::{Node, Value};

/// A value read from the file and where it was.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sp<T> {
    pub(crate) value: T,
    pub(crate) at: Location,
}

impl<T> Sp<T> {
    pub(crate) fn new(value: T, at: Location) -> Self {
        Sp { value, at }
    }
}

/// Collects the problems of one pass and expands `${VAR}`s.
pub(crate) struct Walker<'a> {
    pub(crate) source: &'a ConfigSource,
    env: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) errors: Vec<ConfigError>,
}

/// How duplicate keys of a mapping are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Duplicates {
    /// As a repeated key.
    Keys,
    /// As a connection declared twice.
    Connections,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(source: &'a ConfigSource, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Walker {
            source,
            env,
            errors: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.push(ConfigError::at(
            Kind::WrongType,
            node.at,
            format!(
                "{} must be {expected}, found {}",
                quoted(path),
                node.value.describe()
            ),
        ));
    }

    /// The entries of a mapping at `path` (empty for the top level).
    pub(crate) fn mapping<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        duplicates: Duplicates,
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, path, "a mapping (`key: value` lines)");
            return None;
        };
        let mut fields = Fields {
            path: path.to_owned(),
            entries: Vec::with_capacity(entries.len()),
        };
        for (key, value) in entries {
            let name = match &key.value {
                Value::Str(s) => s.clone(),
                Value::Int(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Float(x) => x.to_string(),
                other => {
                    self.push(ConfigError::at(
                        Kind::WrongType,
                        key.at,
                        format!(
                            "keys {} must be names, found {}",
                            fields.place(),
                            other.describe()
                        ),
                    ));
                    continue;
                }
            };
            if let Some(first) = fields.entries.iter().find(|e| e.key == name) {
                let error = match duplicates {
                    Duplicates::Keys => ConfigError::at(
                        Kind::DuplicateKey,
                        key.at,
                        format!("duplicate key `{name}` {}", fields.place()),
                    )
                    .help("keep one of them: YAML keys must be unique in a mapping"),
                    Duplicates::Connections => ConfigError::at(
                        Kind::DuplicateConnection,
                        key.at,
                        format!("connection `{name}` is declared twice"),
                    )
                    .help("give each connection a unique name"),
                };
                self.push(error.label(first.key_at, "first declared here"));
                continue;
            }
            fields.entries.push(Entry {
                key: name,
                key_at: key.at,
                value,
                taken: false,
            });
        }
        Some(fields)
    }

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

    /// A list of strings (or one string).
    pub(crate) fn strings(&mut self, node: &Node, path: &str) -> Option<Sp<Vec<String>>> {
        let items: Vec<Option<Sp<String>>> = match &node.value {
            Value::Seq(items) => items.iter().map(|i| self.string(i, path)).collect(),
            _ => vec![self.string(node, path)],
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

    /// A humantime duration (`250ms`, `1m 30s`).
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
                    .help(error.to_string()),
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

/// `false` or the word `off`.
pub(crate) fn is_off(node: &Node) -> bool {
    matches!(&node.value, Value::Bool(false)) || matches!(&node.value, Value::Str(s) if s == "off")
}

/// "`a`, `b` or `c`".
pub(crate) fn one_of(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|w| format!("`{w}`")).collect();
            format!("{} or `{last}`", init.join(", "))
        }
    }
}

/// "`path`", or "the top level" for the empty path.
pub(crate) fn quoted(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_owned()
    } else {
        format!("`{path}`")
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

/// A mapping's entries, taken one by one; whatever is left is reported as
/// unknown by [`Fields::finish`].
pub(crate) struct Fields<'n> {
    path: String,
    entries: Vec<Entry<'n>>,
}

struct Entry<'n> {
    key: String,
    key_at: Location,
    value: &'n Node,
    taken: bool,
}

impl<'n> Fields<'n> {
    /// "in `path`" or "at the top level".
    pub(crate) fn place(&self) -> String {
        if self.path.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in `{}`", self.path)
        }
    }

    /// The dotted path of `key` inside this mapping.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, if given.
    pub(crate) fn take(&mut self, key: &str) -> Option<&'n Node> {
        let entry = self.entries.iter_mut().find(|e| e.key == key)?;
        entry.taken = true;
        Some(entry.value)
    }

    /// Every entry not taken yet, as (key, key location, value).
    pub(crate) fn take_all(&mut self) -> Vec<(String, Location, &'n Node)> {
        self.entries
            .iter_mut()
            .filter(|e| !e.taken)
            .map(|e| {
                e.taken = true;
                (e.key.clone(), e.key_at, e.value)
            })
            .collect()
    }

    /// Reports every key not taken: as misplaced (with its own help) if it
    /// is in `misplaced`, else as unknown with the nearest of `allowed`.
    pub(crate) fn finish(
        self,
        walker: &mut Walker<'_>,
        allowed: &[&str],
        misplaced: &[(&str, &str)],
    ) {
        for entry in self.entries.iter().filter(|e| !e.taken) {
            let key = &entry.key;
            let error = if let Some((_, help)) = misplaced.iter().find(|(k, _)| k == key) {
                ConfigError::at(
                    Kind::UnknownKey,
                    entry.key_at,
                    format!("key `{key}` is not allowed {}", self.place()),
                )
                .help(*help)
            } else {
                let help = did_you_mean(key, allowed.iter().copied())
                    .unwrap_or_else(|| format!("expected one of: {}", allowed.join(", ")));
                ConfigError::at(
                    Kind::UnknownKey,
                    entry.key_at,
                    format!("unknown key `{key}` {}", self.place()),
                )
                .help(help)
            };
            walker.push(error);
        }
    }
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

    #[test]
    fn word_lists() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
