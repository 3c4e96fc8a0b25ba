//! Start rules: the condition over other connections' states that must hold
//! before a connection starts, and what to do when it stops holding.
//!
//! ```
//! use linesman_supervisor::Rule;
//!
//! // start_when: { any: [ { up: quotes }, { all: [ { up: orders }, { up: risk } ] } ] }
//! let rule = Rule::Any(vec![Rule::up("quotes"), Rule::depends_on(["orders", "risk"])]);
//! let up = |name: &str| name == "orders";
//! assert!(!rule.holds(&up));
//! assert_eq!(rule.waiting_on(&up), ["quotes", "risk"]);
//! assert_eq!(rule.to_string(), "any(up quotes, all(up orders, up risk))");
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;

/// A condition over other connections being up.
///
/// `All(vec![])` always holds; `Any(vec![])` never does (dependency graph
/// validation refuses it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The named connection is up (`up: NAME`).
    Up(String),
    /// Every inner rule holds (`all: [...]`).
    All(Vec<Rule>),
    /// At least one inner rule holds (`any: [...]`).
    Any(Vec<Rule>),
}

impl Rule {
    /// `up: name`.
    pub fn up(name: impl Into<String>) -> Self {
        Self::Up(name.into())
    }

    /// The `depends_on: [a, b]` shorthand: all of the names up.
    ///
    /// ```
    /// # use linesman_supervisor::Rule;
    /// assert_eq!(
    ///     Rule::depends_on(["a", "b"]),
    ///     Rule::All(vec![Rule::up("a"), Rule::up("b")]),
    /// );
    /// ```
    pub fn depends_on<I>(names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self::All(names.into_iter().map(Self::up).collect())
    }

    /// Whether the rule holds, given which connections are up.
    pub fn holds(&self, is_up: &impl Fn(&str) -> bool) -> bool {
        match self {
            Self::Up(name) => is_up(name),
            Self::All(rules) => rules.iter().all(|r| r.holds(is_up)),
            Self::Any(rules) => rules.iter().any(|r| r.holds(is_up)),
        }
    }

    /// The connections whose coming up would help the rule hold, sorted and
    /// without duplicates; empty when the rule holds.
    ///
    /// For `all`, what its unmet parts wait on; for `any` (none of whose
    /// parts holds), what all its parts wait on, since any one would do.
    pub fn waiting_on(&self, is_up: &impl Fn(&str) -> bool) -> Vec<String> {
        let mut names = BTreeSet::new();
        self.collect_waiting(is_up, &mut names);
        names.into_iter().map(str::to_owned).collect()
    }

    fn collect_waiting<'a>(&'a self, is_up: &impl Fn(&str) -> bool, out: &mut BTreeSet<&'a str>) {
        if self.holds(is_up) {
            return;
        }
        match self {
            Self::Up(name) => {
                out.insert(name);
            }
            Self::All(rules) | Self::Any(rules) => {
                for rule in rules {
                    rule.collect_waiting(is_up, out);
                }
            }
        }
    }

    /// Every connection name the rule mentions, in order of appearance,
    /// repeats included.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        Names { stack: vec![self] }
    }

    /// Whether the rule contains an `any` with no inner rule, anywhere.
    pub fn has_empty_any(&self) -> bool {
        match self {
            Self::Up(_) => false,
            Self::Any(rules) if rules.is_empty() => true,
            Self::All(rules) | Self::Any(rules) => rules.iter().any(Self::has_empty_any),
        }
    }
}

/// Depth-first walk over a rule's `Up` leaves, without recursion.
struct Names<'a> {
    stack: Vec<&'a Rule>,
}

impl<'a> Iterator for Names<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        while let Some(rule) = self.stack.pop() {
            match rule {
                Rule::Up(name) => return Some(name),
                Rule::All(rules) | Rule::Any(rules) => self.stack.extend(rules.iter().rev()),
            }
        }
        None
    }
}

/// Renders `up quotes`, `all(up quotes, up orders)`, `any(...)`.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, rules) = match self {
            Self::Up(name) => return write!(f, "up {name}"),
            Self::All(rules) => ("all", rules),
            Self::Any(rules) => ("any", rules),
        };
        write!(f, "{word}(")?;
        for (i, rule) in rules.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{rule}")?;
        }
        f.write_str(")")
    }
}

/// What a running connection does when its start rule stops holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnDependencyDown {
    /// Stop the connection; start it again once the rule holds again
    /// (`stop`, the default).
    #[default]
    Stop,
    /// Stay connected as if nothing happened (`keep`).
    Keep,
    /// Stay connected, but reconnect once the rule holds again, so the peer
    /// sees a new session after the new upstream session (`restart`).
    Restart,
}

impl OnDependencyDown {
    /// The name used in configuration: `stop`, `keep` or `restart`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Keep => "keep",
            Self::Restart => "restart",
        }
    }
}

impl fmt::Display for OnDependencyDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OnDependencyDown {
    type Err = ParseError;

    /// Parses `stop`, `keep` or `restart`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stop" => Ok(Self::Stop),
            "keep" => Ok(Self::Keep),
            "restart" => Ok(Self::Restart),
            _ => Err(ParseError::UnknownOnDependencyDown {
                input: s.to_owned(),
            }),
        }
    }
}
