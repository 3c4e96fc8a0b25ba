//! Phase one for start rules: `start_when` (`up: NAME`, `all: [...]`,
//! `any: [...]`, nested; a bare name in a list is short for `up: NAME`) and
//! `depends_on` (a name or a list of names), each name kept with its
//! location so that phase two can point at unknown names and at each hop of
//! a cycle.

use linesman_supervisor::Rule;

use crate::error::{ConfigError, ConfigErrorKind as Kind, Location};
use crate::tree::{Node, Value};
use crate::walk::{Duplicates, Sp, Walker};

const RULE_KEYS: &[&str] = &["up", "all", "any"];

/// A start rule as written, with locations.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawRule {
    Up(Sp<String>),
    All(Vec<RawRule>, Location),
    Any(Vec<RawRule>, Location),
}

impl RawRule {
    /// The supervisor's rule.
    pub(crate) fn to_rule(&self) -> Rule {
        match self {
            RawRule::Up(name) => Rule::Up(name.value.clone()),
            RawRule::All(rules, _) => Rule::All(rules.iter().map(RawRule::to_rule).collect()),
            RawRule::Any(rules, _) => Rule::Any(rules.iter().map(RawRule::to_rule).collect()),
        }
    }

    /// Where the first mention of connection `name` is, depth first.
    pub(crate) fn find(&self, name: &str) -> Option<Location> {
        match self {
            RawRule::Up(n) if n.value == name => Some(n.at),
            RawRule::Up(_) => None,
            RawRule::All(rules, _) | RawRule::Any(rules, _) => {
                rules.iter().find_map(|r| r.find(name))
            }
        }
    }

    /// Where the first `any` with nothing in it is.
    pub(crate) fn empty_any(&self) -> Option<Location> {
        match self {
            RawRule::Up(_) => None,
            RawRule::Any(rules, at) if rules.is_empty() => Some(*at),
            RawRule::All(rules, _) | RawRule::Any(rules, _) => {
                rules.iter().find_map(RawRule::empty_any)
            }
        }
    }
}

/// `depends_on: [a, b]` as the rule `all: [up a, up b]`.
pub(crate) fn read_depends_on(w: &mut Walker<'_>, node: &Node, path: &str) -> Option<RawRule> {
    let names = w.names(node, path)?;
    Some(RawRule::All(
        names.into_iter().map(RawRule::Up).collect(),
        node.at,
    ))
}

/// `start_when:`, recursively.
pub(crate) fn read_rule(w: &mut Walker<'_>, node: &Node, path: &str) -> Option<RawRule> {
    if matches!(node.value, Value::Str(_) | Value::Int(_)) {
        return w.name(node, path).map(RawRule::Up);
    }
    if !matches!(node.value, Value::Map(_)) {
        w.push(
            ConfigError::at(
                Kind::WrongType,
                node.at,
                format!("`{path}` must be a rule, found {}", node.value.describe()),
            )
            .help("write `{ up: NAME }`, `{ all: [...] }` or `{ any: [...] }`"),
        );
        return None;
    }
    let mut fields = w.mapping(node, path, Duplicates::Keys)?;
    let mut found: Vec<(&str, &Node)> = Vec::new();
    for key in RULE_KEYS {
        if let Some(value) = fields.take(key) {
            found.push((key, value));
        }
    }
    fields.finish(w, RULE_KEYS, &[]);
    match found.as_slice() {
        [] => {
            w.push(
                ConfigError::at(
                    Kind::MissingKey,
                    node.at,
                    format!("`{path}` has no `up`, `all` or `any`"),
                )
                .help("write `{ up: NAME }`, `{ all: [...] }` or `{ any: [...] }`"),
            );
            None
        }
        [(key, value)] => read_one(w, key, value, &format!("{path}.{key}")),
        [_, (second, value), ..] => {
            w.push(
                ConfigError::at(
                    Kind::Conflict,
                    value.at,
                    format!(
                        "`{path}` has more than one of `up`, `all` and `any` (`{second}` here)"
                    ),
                )
                .help("combine them in a list: `{ all: [ { up: a }, { any: [...] } ] }`"),
            );
            None
        }
    }
}

fn read_one(w: &mut Walker<'_>, key: &str, node: &Node, path: &str) -> Option<RawRule> {
    if key == "up" {
        return w.name(node, path).map(RawRule::Up);
    }
    let Value::Seq(items) = &node.value else {
        w.push(
            ConfigError::at(
                Kind::WrongType,
                node.at,
                format!(
                    "`{path}` must be a list of rules, found {}",
                    node.value.describe()
                ),
            )
            .help(format!(
                "write `{key}: [ {{ up: a }}, {{ up: b }} ]` or `{key}: [a, b]`"
            )),
        );
        return None;
    };
    let rules: Vec<Option<RawRule>> = items.iter().map(|item| read_rule(w, item, path)).collect();
    let rules: Option<Vec<RawRule>> = rules.into_iter().collect();
    let rules = rules?;
    Some(if key == "all" {
        RawRule::All(rules, node.at)
    } else {
        RawRule::Any(rules, node.at)
    })
}
