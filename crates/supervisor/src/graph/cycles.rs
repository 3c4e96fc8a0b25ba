//! Finding dependency cycles to report them with their paths.
//!
//! Why not just "the graph has a cycle": an operator fixes a cycle by
//! removing one arrow, so each cycle is shown as its path. Cycles live
//! inside strongly connected components (found with Tarjan's algorithm);
//! within each component the elementary cycles are listed, each once,
//! starting at its earliest-declared node, in a deterministic order. A dense
//! component can hold exponentially many cycles, so the listing is bounded
//! (by count and by search steps); every component with a cycle still yields
//! at least one (a shortest cycle through its first node).
//!
//! Everything here is iterative: a chain of thousands of connections must not
//! exhaust the stack.

use std::collections::VecDeque;

/// Most cycles reported per strongly connected component.
const MAX_CYCLES_PER_COMPONENT: usize = 10;
/// Most search steps (edges followed) per component.
const MAX_STEPS_PER_COMPONENT: usize = 100_000;

/// The elementary cycles of the graph `edges` (node `i` has arrows to
/// `edges[i]`, sorted, no self-loops), each as its node list starting at the
/// smallest node, ordered by component (smallest node first), then by start
/// node, then lexicographically.
pub(crate) fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let (component, members) = strongly_connected(edges);
    let mut components: Vec<Vec<usize>> = members.into_iter().filter(|m| m.len() > 1).collect();
    for members in &mut components {
        members.sort_unstable();
    }
    components.sort_unstable_by_key(|members| members[0]);

    let mut cycles = Vec::new();
    for members in &components {
        let found = cycles_in_component(edges, &component, members);
        if found.is_empty() {
            cycles.extend(shortest_cycle_through(edges, &component, members[0]));
        } else {
            cycles.extend(found);
        }
    }
    cycles
}

/// Tarjan's algorithm: the component id of every node, and the members of
/// every component.
fn strongly_connected(edges: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let n = edges.len();
    let mut index: Vec<Option<usize>> = vec![None; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![usize::MAX; n];
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut next_index = 0;

    for start in 0..n {
        if index[start].is_some() {
            continue;
        }
        // (node, next edge to follow)
        let mut calls: Vec<(usize, usize)> = Vec::new();
        index[start] = Some(next_index);
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        calls.push((start, 0));

        while let Some((v, edge)) = calls.last_mut() {
            let v = *v;
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                match index[w] {
                    None => {
                        index[w] = Some(next_index);
                        low[w] = next_index;
                        next_index += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        calls.push((w, 0));
                    }
                    Some(w_index) if on_stack[w] => low[v] = low[v].min(w_index),
                    Some(_) => {}
                }
                continue;
            }
            calls.pop();
            if let Some((parent, _)) = calls.last() {
                low[*parent] = low[*parent].min(low[v]);
            }
            if Some(low[v]) == index[v] {
                let id = members.len();
                let mut group = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = id;
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                members.push(group);
            }
        }
    }
    (component, members)
}

/// Elementary cycles of one component: for each root in ascending order, the
/// simple paths back to it through larger nodes of the same component.
fn cycles_in_component(
    edges: &[Vec<usize>],
    component: &[usize],
    members: &[usize],
) -> Vec<Vec<usize>> {
    let mut cycles = Vec::new();
    let mut steps = 0;
    let mut on_path = vec![false; edges.len()];
    for &root in members {
        let id = component[root];
        let mut path = vec![root];
        let mut next_edge = vec![0];
        on_path[root] = true;
        while let (Some(&v), Some(edge)) = (path.last(), next_edge.last_mut()) {
            if cycles.len() >= MAX_CYCLES_PER_COMPONENT || steps >= MAX_STEPS_PER_COMPONENT {
                for &node in &path {
                    on_path[node] = false;
                }
                return cycles;
            }
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                steps += 1;
                if w == root {
                    cycles.push(path.clone());
                } else if w > root && component[w] == id && !on_path[w] {
                    path.push(w);
                    next_edge.push(0);
                    on_path[w] = true;
                }
            } else {
                on_path[v] = false;
                path.pop();
                next_edge.pop();
            }
        }
    }
    cycles
}

/// A shortest cycle through `root` within its component (breadth-first).
fn shortest_cycle_through(
    edges: &[Vec<usize>],
    component: &[usize],
    root: usize,
) -> Option<Vec<usize>> {
    let id = component[root];
    let mut parent: Vec<Option<usize>> = vec![None; edges.len()];
    let mut queue = VecDeque::from([root]);
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if w == root {
                let mut path = vec![v];
                let mut node = v;
                while let Some(p) = parent[node] {
                    path.push(p);
                    node = p;
                }
                path.reverse();
                return Some(path);
            }
            if component[w] == id && parent[w].is_none() {
                parent[w] = Some(v);
                queue.push_back(w);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_group_cycles_and_leave_the_rest_alone() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 4 -> 3
        let edges = vec![vec![1], vec![2], vec![0, 3], vec![4], vec![3]];
        let (component, _) = strongly_connected(&edges);
        assert_eq!(component[0], component[1]);
        assert_eq!(component[1], component[2]);
        assert_eq!(component[3], component[4]);
        assert_ne!(component[0], component[3]);
        assert_eq!(find_cycles(&edges), vec![vec![0, 1, 2], vec![3, 4]]);
    }

    #[test]
    fn lists_every_cycle_of_a_component_once() {
        // 0 <-> 1, 0 <-> 2, 1 -> 2
        let edges = vec![vec![1, 2], vec![0, 2], vec![0]];
        assert_eq!(
            find_cycles(&edges),
            vec![vec![0, 1], vec![0, 1, 2], vec![0, 2]]
        );
    }

    #[test]
    fn acyclic_graphs_have_no_cycles() {
        let edges = vec![vec![1, 2], vec![3], vec![3], vec![]];
        assert!(find_cycles(&edges).is_empty());
    }

    #[test]
    fn shortest_cycle_goes_back_to_the_root() {
        // 0 -> 1 -> 2 -> 3 -> 0, and a shortcut 1 -> 3
        let edges = vec![vec![1], vec![2, 3], vec![3], vec![0]];
        let (component, _) = strongly_connected(&edges);
        assert_eq!(
            shortest_cycle_through(&edges, &component, 0),
            Some(vec![0, 1, 3])
        );
    }

    #[test]
    fn dense_components_are_bounded_but_reported() {
        // A complete graph on 12 nodes has millions of elementary cycles.
        let n = 12;
        let edges: Vec<Vec<usize>> = (0..n)
            .map(|i| (0..n).filter(|j| *j != i).collect())
            .collect();
        let cycles = find_cycles(&edges);
        assert_eq!(cycles.len(), MAX_CYCLES_PER_COMPONENT);
        assert!(cycles.iter().all(|c| c[0] == 0));
    }

    #[test]
    fn a_long_chain_does_not_exhaust_the_stack() {
        let n = 100_000;
        let mut edges: Vec<Vec<usize>> = (0..n).map(|i| vec![i + 1]).collect();
        edges[n - 1] = vec![0];
        let cycles = find_cycles(&edges);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n);
    }
}
