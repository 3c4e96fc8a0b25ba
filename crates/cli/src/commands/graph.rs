//! `linesman graph FILE|-c FILE [--format dot|mermaid]`: the dependency graph of a
//! configuration, for Graphviz (`| dot -Tsvg > graph.svg`) or Markdown.
//!
//! An arrow `a -> b` means `b` starts once `a` is up: it points in start
//! order. A solid arrow is required (`depends_on`, `up`, `all`); a dashed
//! one is one of several alternatives (inside an `any`).

use linesman_supervisor::{OnDependencyDown, Rule, Spec, Supervised};

use crate::cli::{GraphArgs, GraphFormat};
use crate::error::CliError;
use crate::exit::Code;
use crate::output;

/// Loads the file and prints its graph.
pub(crate) fn graph(args: &GraphArgs) -> Result<Code, CliError> {
    let Some(path) = args.path() else {
        return Err(CliError::Usage {
            message: "no configuration file: give it as `linesman graph FILE` or `-c FILE`"
                .to_owned(),
        });
    };
    let config = linesman_config::load(path)?;
    // In a comment line: a newline in the name would end the comment.
    let name = crate::inert::one_line(&path.display().to_string());
    let text = match args.format {
        GraphFormat::Dot => dot(&config.spec, &name),
        GraphFormat::Mermaid => mermaid(&config.spec, &name),
    };
    output::out(&text)?;
    Ok(Code::Ok)
}

/// One arrow into a connection: from `from`, dashed when it is one of an
/// `any`'s alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: String,
    alternative: bool,
}

/// The arrows into a connection with start rule `rule`, each name once
/// (required wins over alternative), in the rule's order.
fn edges(rule: Option<&Rule>) -> Vec<Edge> {
    fn walk(rule: &Rule, in_any: bool, out: &mut Vec<Edge>) {
        match rule {
            Rule::Up(name) => match out.iter_mut().find(|e| e.from == *name) {
                Some(edge) => edge.alternative &= in_any,
                None => out.push(Edge {
                    from: name.clone(),
                    alternative: in_any,
                }),
            },
            Rule::All(rules) => rules.iter().for_each(|r| walk(r, in_any, out)),
            Rule::Any(rules) => rules.iter().for_each(|r| walk(r, true, out)),
        }
    }
    let mut out = Vec::new();
    if let Some(rule) = rule {
        walk(rule, false, &mut out);
    }
    out
}

/// The node's lines: name, kind, endpoint, and `on_dependency_down` when it
/// is not the default.
fn label_lines(supervised: &Supervised) -> Vec<String> {
    let c = &supervised.connection;
    let mut lines = vec![c.name.clone()];
    if let Some(kind) = &c.kind {
        lines.push(kind.clone());
    }
    lines.push(c.target.to_string());
    if supervised.on_dependency_down != OnDependencyDown::Stop {
        lines.push(format!(
            "on_dependency_down: {}",
            supervised.on_dependency_down
        ));
    }
    lines
}

fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz dot.
fn dot(spec: &Spec, file: &str) -> String {
    let mut out = format!(
        "// linesman graph of {file}: `a -> b` means b starts once a is up (dashed: any one of them)\n\
         digraph linesman {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n"
    );
    for supervised in spec.connections() {
        let label: Vec<String> = label_lines(supervised)
            .iter()
            .map(|l| dot_escape(l))
            .collect();
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\"];\n",
            dot_escape(&supervised.connection.name),
            label.join("\\n")
        ));
    }
    for supervised in spec.connections() {
        for edge in edges(supervised.start_when.as_ref()) {
            let style = if edge.alternative {
                " [style=dashed, label=\"any\"]"
            } else {
                ""
            };
            out.push_str(&format!(
                "  \"{}\" -> \"{}\"{style};\n",
                dot_escape(&edge.from),
                dot_escape(&supervised.connection.name)
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// `text` for a Mermaid label, which Mermaid renders as HTML: every
/// character that could end the label, start a tag or an entity, or begin
/// a directive (`%%{…}%%`) or a Markdown string (`` ` ``) is written as
/// Mermaid's entity code (`#quot;`, `#lt;`, `#gt;`, `#amp;`, `#35;` for
/// `#`, `#37;` for `%`, `#96;` for `` ` ``). Names may
/// hold any of them (no whitespace): `x<img/src=x/onerror=alert(1)>` is a
/// valid name, rendered raw by Mermaid's "loose" security level.
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '%' => out.push_str("#37;"),
            // A label in backticks is a Markdown string.
            '`' => out.push_str("#96;"),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid flowchart; nodes are `n0`, `n1`… in declaration order, so any
/// connection name is safe.
fn mermaid(spec: &Spec, file: &str) -> String {
    let mut out = format!(
        "%% linesman graph of {file}: `a --> b` means b starts once a is up (dotted: any one of them)\nflowchart LR\n"
    );
    let id = |name: &str| {
        spec.connections()
            .iter()
            .position(|s| s.connection.name == name)
            .map_or_else(|| mermaid_escape(name), |i| format!("n{i}"))
    };
    for (i, supervised) in spec.connections().iter().enumerate() {
        let label: Vec<String> = label_lines(supervised)
            .iter()
            .map(|l| mermaid_escape(l))
            .collect();
        out.push_str(&format!("  n{i}[\"{}\"]\n", label.join("<br/>")));
    }
    for supervised in spec.connections() {
        let to = id(&supervised.connection.name);
        for edge in edges(supervised.start_when.as_ref()) {
            let arrow = if edge.alternative { "-.->|any|" } else { "-->" };
            out.push_str(&format!("  {} {arrow} {to}\n", id(&edge.from)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_names_win_over_alternatives_and_repeat_once() {
        let rule = Rule::All(vec![
            Rule::up("a"),
            Rule::Any(vec![Rule::up("a"), Rule::up("b"), Rule::up("c")]),
            Rule::up("c"),
        ]);
        let edges: Vec<(String, bool)> = edges(Some(&rule))
            .into_iter()
            .map(|e| (e.from, e.alternative))
            .collect();
        assert_eq!(
            edges,
            [
                ("a".to_owned(), false),
                ("b".to_owned(), true),
                ("c".to_owned(), false)
            ]
        );
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(dot_escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(mermaid_escape(r#"say "hi""#), "say #quot;hi#quot;");
        assert_eq!(
            mermaid_escape("c<script>&%%{init}%%#quot;`**x**`"),
            "c#lt;script#gt;#amp;#37;#37;{init}#37;#37;#35;quot;#96;**x**#96;"
        );
    }
}
