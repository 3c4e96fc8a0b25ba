//! The walk over the located YAML tree: reading mappings key by key
//! ([`Fields`]) and typed scalars, collecting every problem in a [`Walker`]
//! instead of stopping at the first.
//!
//! Each reader returns `None` after recording an error, so a bad value
//! never reaches validation and never causes a second, derived error.
//! Every value is named by its dotted path from the top of the file
//! (`connections.quotes.restart.backoff.jitter`) in messages. The typed
//! scalar readers are in `scalars.rs`.

mod scalars;

use std::collections::HashMap;

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

    pub(super) fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
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
        // Where each key was first declared: a lookup per key, not a scan
        // of the keys before it (`connections` of 100,000 names took 18 s
        // to check when each looked back at all the others).
        let mut first_at: HashMap<String, Location> = HashMap::with_capacity(entries.len());
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
            if let Some(&first_at) = first_at.get(&name) {
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
                self.push(error.label(first_at, "first declared here"));
                continue;
            }
            first_at.insert(name.clone(), key.at);
            fields.entries.push(Entry {
                key: name,
                key_at: key.at,
                value,
                taken: false,
            });
        }
        Some(fields)
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
    fn word_lists() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
