//! Reading the YAML text into a generic tree of [`Node`]s, each with its
//! [`Location`], before any key is interpreted.
//!
//! Why a tree rather than `#[derive(Deserialize)]` structs: serde stops at
//! the first error, while an operator wants every mistake of a file in one
//! pass, each with a "did you mean" hint. Walking a located tree by hand
//! (`raw/`) gives both. serde-saphyr does the YAML work: syntax errors with
//! their position, budgets against alias bombs (`budget.rs`), `Spanned`
//! locations; its
//! options are set so nothing is lost before the walk: duplicate keys are
//! passed through (the walk reports them with both positions), and only
//! `true`/`false` are booleans (so a connection named `y` or `off` stays a
//! string).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::options::DuplicateKeyPolicy;
use serde_saphyr::{MessageFormatter, Spanned};

use crate::budget;
use crate::error::{ConfigError, ConfigErrorKind, Location};
use crate::source::ConfigSource;

/// A YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) at: Location,
}

/// A YAML value, scalars already typed by the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order, duplicates kept.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What the value is, for "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> Cow<'static, str> {
        match self {
            Value::Null => "nothing (null)".into(),
            Value::Bool(b) => format!("boolean `{b}`").into(),
            Value::Int(n) => format!("number `{n}`").into(),
            Value::Float(x) => format!("number `{x}`").into(),
            Value::Str(s) => format!("string `{s}`").into(),
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }
}

/// Parses `source` into a tree, or the one syntax or budget error that
/// stopped the parser.
pub(crate) fn parse_tree(source: &ConfigSource) -> Result<Node, ConfigError> {
    let options = serde_saphyr::options! {
        budget: Some(budget::budget()),
        alias_limits: budget::alias_limits(),
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        strict_booleans: true,
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Spanned<RawValue>>(source.text(), options) {
        Ok(root) => Ok(convert(root, source)),
        Err(error) => Err(yaml_error(&error, source)),
    }
}

/// Turns a serde-saphyr error into a located [`ConfigError`]: a breach of
/// the budget or of the alias limits in words, anything else as a syntax
/// error.
fn yaml_error(error: &serde_saphyr::Error, source: &ConfigSource) -> ConfigError {
    let location = error
        .location()
        .filter(|at| at.line() > 0)
        .map(|at| locate(source, &at));
    let mut inner = error.without_snippet();
    while let serde_saphyr::Error::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    let over_budget = match inner {
        serde_saphyr::Error::Budget { breach, .. } => Some(budget::breach(breach)),
        serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasExpansionLimitExceeded { .. }
        | serde_saphyr::Error::AliasReplayCounterOverflow { .. } => Some(budget::expansion()),
        serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } => Some(budget::alias_nesting()),
        _ => None,
    };
    if let Some((message, help)) = over_budget {
        return ConfigError::new(ConfigErrorKind::Budget, location, message).help(help);
    }
    if let serde_saphyr::Error::RecursiveReferencesRequireWeakTypes { .. } = inner {
        return recursive_alias(source, location);
    }
    let text = serde_saphyr::DefaultMessageFormatter.format_message(inner);
    let message: String = text.chars().filter(|c| !c.is_control()).collect();
    ConfigError::new(
        ConfigErrorKind::Syntax,
        location,
        format!("invalid YAML: {message}"),
    )
    .help("check the indentation, quotes and brackets around this position")
}

/// An alias used inside the anchor it names (`a: &a [*a]`): its value
/// would contain itself. Said in our words, with the alias's name when the
/// text at `location` is one.
fn recursive_alias(source: &ConfigSource, location: Option<Location>) -> ConfigError {
    let alias = location
        .and_then(|at| source.text().get(at.offset..))
        .and_then(|rest| rest.strip_prefix('*'))
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
                .next()
                .unwrap_or_default()
        })
        .filter(|name| !name.is_empty());
    let message = match alias {
        Some(name) => format!(
            "the alias `*{name}` is inside the anchor `&{name}` it names, so its value would contain itself"
        ),
        None => {
            "an alias is inside the anchor it names, so its value would contain itself".to_owned()
        }
    };
    ConfigError::new(ConfigErrorKind::Syntax, location, message).help(
        "an alias (`*name`) may only name an anchor (`&name`) that ends before it: write the value out, or move the anchor",
    )
}

fn locate(source: &ConfigSource, at: &serde_saphyr::Location) -> Location {
    let line = u32::try_from(at.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(at.column()).unwrap_or(u32::MAX);
    let len = usize::try_from(at.span().len()).unwrap_or(0);
    source.locate(line, column, len)
}

fn convert(spanned: Spanned<RawValue>, source: &ConfigSource) -> Node {
    let at = locate(source, &spanned.referenced);
    let value = match spanned.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(n) => Value::Int(n),
        RawValue::Float(x) => Value::Float(x),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(|i| convert(i, source)).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k, source), convert(v, source)))
                .collect(),
        ),
    };
    Node { value, at }
}

/// The tree as serde-saphyr hands it over, locations not yet resolved.
enum RawValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<RawValue>, Spanned<RawValue>)>),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }

    fn visit_u128<E>(self, v: u128) -> Result<RawValue, E> {
        Ok(i128::try_from(v).map_or_else(|_| RawValue::Str(v.to_string()), RawValue::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawValue, E> {
        Ok(RawValue::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}
