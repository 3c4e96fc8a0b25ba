//! `linesman deps [--reverse]`: the dependency tree with each connection's
//! state, from the daemon's status (which carries `depends_on`). With no
//! daemon and `-c FILE`, the tree of the file is printed without states
//! (and the exit code is still 1: no daemon answered).
//!
//! Without `--reverse` the roots are the connections nothing depends on,
//! each above what it depends on; with it, the roots are the connections
//! that depend on nothing, each above what depends on it.

use std::collections::HashMap;

use linesman_control::ClientError;

use crate::cli::DepsArgs;
use crate::commands::client;
use crate::error::CliError;
use crate::exit::Code;
use crate::output;
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
            output::out(&tree(&nodes, args.reverse))?;
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
            output::out(&tree(&nodes, args.reverse))?;
            output::err(&format!(
                "linesman: {error}\nlinesman: the tree above is from {}, without states\n",
                path.display()
            ));
            Ok(Code::Failure)
        }
        Err(error) => Err(error.into()),
    }
}

/// How deep a branch is drawn before it is cut and continued as a tree of
/// its own further down: indentation grows with depth, and a long chain
/// drawn in one piece would be quadratic in size.
const MAX_DEPTH: usize = 32;

/// What has become of a connection in the tree so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drawn {
    /// Not drawn yet.
    No,
    /// Drawn with what hangs under it: a later mention says "(see above)".
    Expanded,
    /// Drawn at the depth limit; what hangs under it comes as a tree of its
    /// own further down ("(continued below)").
    Continued,
}

/// The tree of `nodes` as text, with `├──`/`└──` branches.
///
/// Each connection's subtree is drawn once: a diamond (two connections
/// sharing a dependency) would otherwise double the output at each level.
/// A connection met again is one line ending in "(see above)". A branch
/// deeper than [`MAX_DEPTH`] is cut with "(continued below)" and drawn
/// again from there as a tree of its own, so nothing is ever left out.
/// Drawn without recursion, in time and space linear in the connections,
/// their dependencies and the output.
fn tree(nodes: &[Node], reverse: bool) -> String {
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut has_parent = vec![false; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for dependency in &node.depends_on {
            let Some(&d) = index.get(dependency.as_str()) else {
                continue;
            };
            let (parent, child) = if reverse { (d, i) } else { (i, d) };
            if !children[parent].contains(&child) {
                children[parent].push(child);
            }
            has_parent[child] = true;
        }
    }
    let mut drawer = Drawer {
        nodes,
        children: &children,
        drawn: vec![Drawn::No; nodes.len()],
        continued: Vec::new(),
        out: String::new(),
    };
    for root in (0..nodes.len()).filter(|&i| !has_parent[i]) {
        drawer.draw_from(root);
    }
    // Connections only a cycle reaches (the daemon's graph has none, but
    // the tree must not depend on it) are roots of their own.
    for i in 0..nodes.len() {
        if drawer.drawn[i] == Drawn::No {
            drawer.draw_from(i);
        }
    }
    drawer.out
}

/// The state of one [`tree`] drawing.
struct Drawer<'a> {
    nodes: &'a [Node],
    children: &'a [Vec<usize>],
    drawn: Vec<Drawn>,
    /// Subtrees cut at [`MAX_DEPTH`], to be drawn as trees of their own.
    continued: Vec<usize>,
    out: String,
}

impl Drawer<'_> {
    /// Draws `root` and what hangs under it, then every subtree that was
    /// cut on the way.
    fn draw_from(&mut self, root: usize) {
        self.continued.push(root);
        while let Some(top) = self.continued.pop() {
            let suffix = match self.drawn[top] {
                Drawn::Expanded => continue,
                Drawn::Continued => " (continued from above)",
                Drawn::No => "",
            };
            line(&mut self.out, "", &self.nodes[top], suffix);
            self.drawn[top] = Drawn::Expanded;
            self.branches(top);
        }
    }

    /// Everything under `root`, depth first, with an explicit stack of
    /// (connection, next child, indentation).
    fn branches(&mut self, root: usize) {
        let mut stack: Vec<(usize, usize, String)> = vec![(root, 0, String::new())];
        while let Some((node, next, indent)) = stack.last_mut() {
            let kids = &self.children[*node];
            let Some(&kid) = kids.get(*next) else {
                stack.pop();
                continue;
            };
            *next += 1;
            let last = *next == kids.len();
            let branch = format!("{indent}{}", if last { "└── " } else { "├── " });
            let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
            let has_kids = !self.children[kid].is_empty();
            let suffix = match self.drawn[kid] {
                Drawn::Expanded if has_kids => " (see above)",
                Drawn::Continued => " (continued below)",
                Drawn::No if has_kids && stack.len() >= MAX_DEPTH => {
                    self.drawn[kid] = Drawn::Continued;
                    self.continued.push(kid);
                    " (continued below)"
                }
                Drawn::No => {
                    self.drawn[kid] = Drawn::Expanded;
                    if has_kids {
                        stack.push((kid, 0, deeper));
                    }
                    ""
                }
                Drawn::Expanded => "",
            };
            line(&mut self.out, &branch, &self.nodes[kid], suffix);
        }
    }
}

fn line(out: &mut String, prefix: &str, node: &Node, suffix: &str) {
    out.push_str(prefix);
    out.push_str(&node.name);
    if !node.text.is_empty() {
        out.push(' ');
        out.push_str(&node.text);
    }
    out.push_str(suffix);
    out.push('\n');
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
        ├── hw [hw] (see above)
        └── audit [audit]
        ");
    }

    /// `top` over `levels` diamonds: each level's `l{i}`/`r{i}` depend on
    /// the `j{i+1}` below them and `j{i}` on both.
    fn ladder(levels: usize) -> Vec<Node> {
        let mut nodes = vec![node("j0", &["l0", "r0"])];
        for i in 0..levels {
            let below = format!("j{}", i + 1);
            nodes.push(node(&format!("l{i}"), &[&below]));
            nodes.push(node(&format!("r{i}"), &[&below]));
            if i + 1 < levels {
                let (l, r) = (format!("l{}", i + 1), format!("r{}", i + 1));
                nodes.push(node(&below, &[&l, &r]));
            } else {
                nodes.push(node(&below, &[]));
            }
        }
        nodes
    }

    #[test]
    fn a_ladder_of_diamonds_draws_each_connection_once_and_cuts_nothing() {
        let nodes = ladder(40);
        for reverse in [false, true] {
            let text = tree(&nodes, reverse);
            let cut = text.matches("(continued from above)").count();
            // One line per connection, one more per shared dependency
            // (the second parent's "see above") and per cut branch (its
            // continuation): linear, not 2^40.
            assert_eq!(text.lines().count(), nodes.len() + 40 + cut, "{reverse}");
            for n in &nodes {
                let mentions = text
                    .lines()
                    .filter(|l| {
                        l.trim_start_matches(['│', '├', '└', '─', ' '])
                            .starts_with(&format!("{} ", n.name))
                    })
                    .count();
                assert!(mentions >= 1, "{} missing (reverse: {reverse})", n.name);
            }
            assert!(cut > 0, "80 levels are deeper than {MAX_DEPTH}");
            assert!(text.matches("(continued below)").count() >= cut);
            let widest = text.lines().map(|l| l.chars().count()).max();
            assert!(
                widest.is_some_and(|w| w <= 4 * MAX_DEPTH + 40),
                "{widest:?}"
            );
        }
    }

    #[test]
    fn a_cycle_from_a_confused_daemon_ends() {
        let nodes = vec![node("a", &["b"]), node("b", &["a"])];
        insta::assert_snapshot!(tree(&nodes, false), @r"
        a [a]
        └── b [b]
            └── a [a] (see above)
        ");
    }
}
