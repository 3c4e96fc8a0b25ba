//! Phase two for the start rules: the supervisor's
//! [`DependencyGraph`](linesman_supervisor::DependencyGraph) finds unknown
//! names (with its suggestion), self-dependencies, empty `any` rules and
//! cycles; this module puts each of its findings back at the place in the
//! file that caused it, and each hop of a cycle at the rule that makes it.

use linesman_supervisor::{DependencyGraph, GraphError, Rule};

use crate::error::{ConfigError, ConfigErrorKind as Kind};
use crate::raw::RawConnection;
use crate::walk::Walker;

/// Records every problem of the graph of `connections`' start rules.
pub(crate) fn check(w: &mut Walker<'_>, connections: &[RawConnection]) {
    let rules: Vec<Option<Rule>> = connections
        .iter()
        .map(|c| c.rule.as_ref().map(|r| r.to_rule()))
        .collect();
    let graph = DependencyGraph::build(
        connections
            .iter()
            .zip(&rules)
            .map(|(c, rule)| (c.name.value.as_str(), rule.as_ref())),
    );
    let Err(errors) = graph else { return };
    let find = |name: &str| connections.iter().find(|c| c.name.value == name);
    let mention = |from: &str, to: &str| {
        find(from)
            .and_then(|c| c.rule.as_ref())
            .and_then(|r| r.find(to))
    };
    for error in errors {
        let located = match &error {
            GraphError::UnknownDependency {
                connection,
                unknown,
                suggestion,
            } => ConfigError::new(
                Kind::UnknownDependency,
                mention(connection, unknown),
                format!("connection `{connection}` depends on unknown connection `{unknown}`"),
            )
            .help(match suggestion {
                Some(name) => format!("did you mean `{name}`?"),
                None => format!(
                    "declare `{unknown}` under `connections`, or remove it from the rule (known: {})",
                    connections
                        .iter()
                        .map(|c| c.name.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            GraphError::SelfDependency { connection } => ConfigError::new(
                Kind::SelfDependency,
                mention(connection, connection),
                format!("connection `{connection}` depends on itself"),
            )
            .help(format!("remove `{connection}` from its own start rule")),
            GraphError::EmptyAny { connection } => ConfigError::new(
                Kind::EmptyAny,
                find(connection)
                    .and_then(|c| c.rule.as_ref())
                    .and_then(|r| r.empty_any()),
                format!("the start rule of connection `{connection}` has an empty `any`, which never holds"),
            )
            .help("list at least one connection in it, or remove it"),
            GraphError::Cycle { path } => {
                let hops: Vec<(&String, &String)> = path
                    .iter()
                    .zip(path.iter().cycle().skip(1))
                    .collect();
                let mut shown = path.join(" -> ");
                if let Some(head) = path.first() {
                    shown.push_str(" -> ");
                    shown.push_str(head);
                }
                let first = hops.first().and_then(|(a, b)| mention(a, b));
                let mut error = ConfigError::new(
                    Kind::Cycle,
                    first,
                    format!("dependency cycle {shown}: none of these connections can ever start"),
                )
                .help("remove one of these dependencies");
                for (from, to) in hops {
                    if let Some(at) = mention(from, to) {
                        error = error.label(at, format!("`{from}` depends on `{to}` here"));
                    }
                }
                error
            }
            other => ConfigError::new(Kind::Invalid, None, other.to_string()),
        };
        w.push(located);
    }
}
