//! `linesman deps [--reverse]`: the dependency tree with each connection's
//! state, from the daemon's status (which carries `depends_on`). With no
//! daemon and `-c FILE`, the tree of the file is printed without states
//! (and the exit code is still 1: no daemon answered).
//!
//! Without `--reverse` the roots are the connections nothing depends on,
//! each above what it depends on; with it, the roots are the connections
//! that depend on nothing, each above what depends on it.

use linesman_control::ClientError;

use crate::cli::DepsArgs;
use crate::commands::client;
use crate::error::CliError;
use crate::exit::Code;
use crate::view::detail::detail;
use crate::view::model::Model;
use crate::view::time::now_ms;

/// One connection of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    name: String,
    depends_on: Vec<String>,
    /// What follows the name: state and detail, or the rule.
    text: String,
}

/// Prints the tree.
pub(crate) async fn deps(args: DepsArgs) -> Result<Code, CliError> {
    let client = client(&args.daemon)?;
    match client.status().await {
        Ok(status) => {
            let now = now_ms();
            let model = Model::from_status(&status, now);
            let nodes: Vec<Node> = model
                .rows
                .iter()
                .map(|row| {
                    let why = detail(row, &model, now);
                    let mut text = format!("[{}]", row.state);
                    if let Some(rule) = row.rule.as_ref().filter(|r| r.contains("any(")) {
                        text.push_str(&format!(" when {rule}"));
                    }
                    if !why.is_empty() {
                        text.push_str(&format!(" {why}"));
                    }
                    Node {
                        name: row.name.clone(),
                        depends_on: row.depends_on.clone(),
                        text,
                    }
                })
                .collect();
            print!("{}", tree(&nodes, args.reverse));
            Ok(Code::Ok)
        }
        Err(error @ ClientError::NoDaemon { .. }) => {
            let Some(path) = &args.daemon.config else {
                return Err(error.into());
            };
            let config = linesman_config::load(path)?;
            let nodes: Vec<Node> = config
                .spec
                .connections()
                .iter()
                .map(|s| Node {
                    name: s.connection.name.clone(),
                    depends_on: config
                        .spec
                        .graph()
                        .dependencies_of(&s.connection.name)
                        .map(str::to_owned)
                        .collect(),
                    text: s
                        .start_when
                        .as_ref()
                        .map(|rule| format!("when {rule}"))
                        .unwrap_or_default(),
                })
                .collect();
            print!("{}", tree(&nodes, args.reverse));
            eprintln!("linesman: {error}");
            eprintln!(
                "linesman: the tree above is from {}, without states",
                path.display()
            );
            Ok(Code::Failure)
        }
        Err(error) => Err(error.into()),
    }
}

/// The tree of `nodes` as text, with `├──`/`└──` branches.
fn tree(nodes: &[Node], reverse: bool) -> String {
    let children = |name: &str| -> Vec<&Node> {
        if reverse {
            nodes
                .iter()
                .filter(|n| n.depends_on.iter().any(|d| d == name))
                .collect()
        } else {
            nodes
                .iter()
                .find(|n| n.name == name)
                .map(|n| {
                    n.depends_on
                        .iter()
                        .filter_map(|d| nodes.iter().find(|m| m.name == *d))
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    let is_root = |node: &Node| {
        if reverse {
            node.depends_on.is_empty()
        } else {
            !nodes.iter().any(|n| n.depends_on.contains(&node.name))
        }
    };
    let mut out = String::new();
    for root in nodes.iter().filter(|n| is_root(n)) {
        line(&mut out, "", root);
        branches(&mut out, "", &root.name, &children, 0);
    }
    out
}

fn line(out: &mut String, prefix: &str, node: &Node) {
    out.push_str(prefix);
    out.push_str(&node.name);
    if !node.text.is_empty() {
        out.push(' ');
        out.push_str(&node.text);
    }
    out.push('\n');
}

/// The children of `name` under `indent`. The graph is acyclic (the
/// configuration refuses cycles); the depth bound only guards against a
/// daemon that says otherwise.
fn branches<'a>(
    out: &mut String,
    indent: &str,
    name: &str,
    children: &dyn Fn(&str) -> Vec<&'a Node>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    let kids = children(name);
    for (i, kid) in kids.iter().enumerate() {
        let last = i + 1 == kids.len();
        line(
            out,
            &format!("{indent}{}", if last { "└── " } else { "├── " }),
            kid,
        );
        let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
        branches(out, &deeper, &kid.name, children, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, depends_on: &[&str]) -> Node {
        Node {
            name: name.to_owned(),
            depends_on: depends_on.iter().map(|s| (*s).to_owned()).collect(),
            text: format!("[{name}]"),
        }
    }

    fn nodes() -> Vec<Node> {
        vec![
            node("quotes", &[]),
            node("orders", &[]),
            node("hw", &["quotes", "orders"]),
            node("audit", &["quotes", "orders"]),
            node("report", &["hw"]),
        ]
    }

    #[test]
    fn the_tree_hangs_dependencies_under_their_dependents() {
        insta::assert_snapshot!(tree(&nodes(), false), @r"
        audit [audit]
        ├── quotes [quotes]
        └── orders [orders]
        report [report]
        └── hw [hw]
            ├── quotes [quotes]
            └── orders [orders]
        ");
    }

    #[test]
    fn the_reverse_tree_hangs_dependents_under_their_dependencies() {
        insta::assert_snapshot!(tree(&nodes(), true), @r"
        quotes [quotes]
        ├── hw [hw]
        │   └── report [report]
        └── audit [audit]
        orders [orders]
        ├── hw [hw]
        │   └── report [report]
        └── audit [audit]
        ");
    }
}
