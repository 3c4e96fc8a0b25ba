//! The dependency graph between connections: validated once, then asked in
//! which order to start and stop.
//!
//! An arrow `a -> b` means "`a`'s start rule mentions `b`" (`a` depends on
//! `b`). Validation collects every problem at once, so an operator fixes a
//! file in one pass: duplicate names, unknown names (with the nearest
//! existing name suggested), self-dependencies, empty `any` rules, and
//! cycles, each with its path.
//!
//! ```
//! use linesman_supervisor::{DependencyGraph, Rule};
//!
//! let programmer = Rule::depends_on(["quotes", "orders"]);
//! let graph = DependencyGraph::build([
//!     ("quotes", None),
//!     ("orders", None),
//!     ("hw-programmer", Some(&programmer)),
//! ])
//! .expect("a valid graph");
//! assert_eq!(graph.start_order(), ["quotes", "orders", "hw-programmer"]);
//! assert_eq!(graph.shutdown_waves(), [vec!["hw-programmer"], vec!["quotes", "orders"]]);
//! assert_eq!(graph.dependents_of("orders").collect::<Vec<_>>(), ["hw-programmer"]);
//! ```

mod cycles;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;

use crate::error::{GraphError, GraphErrors};
use crate::name_index::NameIndex;
use crate::rule::Rule;
use crate::suggest::nearest;

/// A validated, acyclic dependency graph. Nodes keep their declaration
/// order, which breaks every tie, so all orders are deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyGraph {
    /// One allocation per name, shared with the supervisor's other lists
    /// of its connections ([`shared_name`](Self::shared_name)).
    names: Vec<Arc<str>>,
    index: NameIndex,
    /// `dependencies[i]`: what `i` depends on, ascending, no repeats. Empty
    /// (no list per connection) when no connection has a dependency: a
    /// graph of 10,000 connections without rules is common.
    dependencies: Vec<Vec<usize>>,
    /// `dependents[i]`: what depends on `i`, ascending, no repeats; empty
    /// as `dependencies` is.
    dependents: Vec<Vec<usize>>,
}

impl DependencyGraph {
    /// Validates connections given as `(name, start rule)` in declaration
    /// order. Returns every problem found, not only the first.
    pub fn build<'a, I>(connections: I) -> Result<Self, GraphErrors>
    where
        I: IntoIterator<Item = (&'a str, Option<&'a Rule>)>,
    {
        let connections: Vec<(&str, Option<&Rule>)> = connections.into_iter().collect();
        let mut errors = Vec::new();

        let names: Vec<Arc<str>> = connections.iter().map(|(n, _)| Arc::from(*n)).collect();
        // For the checks only: kept, it would cost ~40 bytes per connection.
        let mut index = HashMap::with_capacity(connections.len());
        let mut reported_duplicates = BTreeSet::new();
        for (i, (name, _)) in connections.iter().enumerate() {
            if index.contains_key(*name) {
                if reported_duplicates.insert(*name) {
                    errors.push(GraphError::DuplicateName {
                        connection: (*name).to_owned(),
                    });
                }
            } else {
                index.insert(*name, i);
            }
        }

        let mut dependencies = vec![Vec::new(); connections.len()];
        for (i, (name, rule)) in connections.iter().enumerate() {
            let Some(rule) = rule else { continue };
            let mut self_reported = false;
            let mut unknown_reported = BTreeSet::new();
            for dependency in rule.names() {
                if dependency == *name {
                    if !self_reported {
                        self_reported = true;
                        errors.push(GraphError::SelfDependency {
                            connection: (*name).to_owned(),
                        });
                    }
                } else if let Some(&j) = index.get(dependency) {
                    dependencies[i].push(j);
                } else if unknown_reported.insert(dependency) {
                    errors.push(GraphError::UnknownDependency {
                        connection: (*name).to_owned(),
                        unknown: dependency.to_owned(),
                        suggestion: nearest(dependency, connections.iter().map(|(n, _)| *n))
                            .map(str::to_owned),
                    });
                }
            }
            if rule.has_empty_any() {
                errors.push(GraphError::EmptyAny {
                    connection: (*name).to_owned(),
                });
            }
        }
        for deps in &mut dependencies {
            deps.sort_unstable();
            deps.dedup();
        }

        for cycle in cycles::find_cycles(&dependencies) {
            errors.push(GraphError::Cycle {
                path: cycle
                    .into_iter()
                    .map(|i| connections[i].0.to_owned())
                    .collect(),
            });
        }
        if !errors.is_empty() {
            return Err(GraphErrors::new(errors));
        }

        let mut dependents = vec![Vec::new(); connections.len()];
        for (i, deps) in dependencies.iter().enumerate() {
            for &j in deps {
                dependents[j].push(i);
            }
        }
        if dependencies.iter().all(Vec::is_empty) {
            dependencies = Vec::new();
            dependents = Vec::new();
        }
        Ok(Self {
            index: NameIndex::new(&names),
            names,
            dependencies,
            dependents,
        })
    }

    /// Number of connections.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no connections.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether `name` is a connection of the graph.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Where `name` was declared: its index in [`names`](Self::names).
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.index.get(&self.names, name)
    }

    /// The graph's own copy of `name`, to share rather than copy again (a
    /// copy of its own for a name the graph does not have).
    pub(crate) fn shared_name(&self, name: &str) -> Arc<str> {
        self.position(name)
            .map_or_else(|| Arc::from(name), |i| Arc::clone(&self.names[i]))
    }

    /// The connection names in declaration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|name| &**name)
    }

    /// What `name`'s start rule mentions, in declaration order; empty for a
    /// connection without a rule or an unknown name.
    pub fn dependencies_of(&self, name: &str) -> impl Iterator<Item = &str> {
        self.neighbours(&self.dependencies, name)
    }

    /// The connections whose start rule mentions `name` (the reverse
    /// arrows), in declaration order; these are the rules to re-evaluate when
    /// `name` comes up or goes down.
    pub fn dependents_of(&self, name: &str) -> impl Iterator<Item = &str> {
        self.neighbours(&self.dependents, name)
    }

    fn neighbours<'a>(
        &'a self,
        edges: &'a [Vec<usize>],
        name: &str,
    ) -> impl Iterator<Item = &'a str> {
        let list: &[usize] = match self.position(name) {
            Some(i) => edges_of(edges, i),
            None => &[],
        };
        list.iter().map(|&j| &*self.names[j])
    }

    /// Every connection, each after all of its dependencies; among the
    /// connections that are ready, the earliest declared comes first.
    pub fn start_order(&self) -> Vec<&str> {
        self.topological()
            .into_iter()
            .map(|i| &*self.names[i])
            .collect()
    }

    /// Every connection, each after all of its dependents (the reverse
    /// arrows): the flattened [`shutdown_waves`](Self::shutdown_waves).
    pub fn shutdown_order(&self) -> Vec<&str> {
        self.shutdown_waves().into_iter().flatten().collect()
    }

    /// Groups that can start together: the first has no dependencies, and
    /// each later group depends only on earlier ones (every connection is in
    /// the earliest group it can be). Declaration order within a group.
    pub fn start_waves(&self) -> Vec<Vec<&str>> {
        let mut level = vec![0usize; self.len()];
        for i in self.topological() {
            level[i] = edges_of(&self.dependencies, i)
                .iter()
                .map(|&j| level[j] + 1)
                .max()
                .unwrap_or(0);
        }
        self.group_by(&level)
    }

    /// Groups that can stop together, dependents first: the first has no
    /// dependents, and each later group is only depended on by earlier ones
    /// (every connection stops as early as it can). Declaration order within
    /// a group.
    pub fn shutdown_waves(&self) -> Vec<Vec<&str>> {
        let mut height = vec![0usize; self.len()];
        for i in self.topological().into_iter().rev() {
            height[i] = edges_of(&self.dependents, i)
                .iter()
                .map(|&j| height[j] + 1)
                .max()
                .unwrap_or(0);
        }
        self.group_by(&height)
    }

    /// Kahn's algorithm with the smallest ready index first. Covers every
    /// node, since `build` refused cycles.
    fn topological(&self) -> Vec<usize> {
        let mut waiting: Vec<usize> = (0..self.len())
            .map(|i| edges_of(&self.dependencies, i).len())
            .collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..self.len())
            .filter(|&i| waiting[i] == 0)
            .map(Reverse)
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(Reverse(i)) = ready.pop() {
            order.push(i);
            for &dependent in edges_of(&self.dependents, i) {
                waiting[dependent] -= 1;
                if waiting[dependent] == 0 {
                    ready.push(Reverse(dependent));
                }
            }
        }
        order
    }

    fn group_by(&self, key: &[usize]) -> Vec<Vec<&str>> {
        let groups = key.iter().max().map_or(0, |max| max + 1);
        let mut waves = vec![Vec::new(); groups];
        for (i, &k) in key.iter().enumerate() {
            waves[k].push(&*self.names[i]);
        }
        waves
    }
}

/// Node `i`'s list in `edges`, which is empty when the graph has no edge.
fn edges_of(edges: &[Vec<usize>], i: usize) -> &[usize] {
    edges.get(i).map_or(&[], Vec::as_slice)
}
