//! Dependency graph validation and orders, with exact error texts, and
//! property tests over random graphs.

use std::collections::HashMap;

use linesman_supervisor::{DependencyGraph, GraphError, GraphErrors, Rule};
use proptest::prelude::*;

/// Builds from `(name, depends_on names)`; an empty list means no rule.
fn build(connections: &[(&str, &[&str])]) -> Result<DependencyGraph, GraphErrors> {
    let rules: Vec<(&str, Option<Rule>)> = connections
        .iter()
        .map(|(name, deps)| {
            (
                *name,
                (!deps.is_empty()).then(|| Rule::depends_on(deps.iter().copied())),
            )
        })
        .collect();
    DependencyGraph::build(rules.iter().map(|(n, r)| (*n, r.as_ref())))
}

fn messages(result: Result<DependencyGraph, GraphErrors>) -> Vec<String> {
    match result {
        Ok(_) => panic!("expected the graph to be refused"),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn an_unknown_name_is_refused_with_the_nearest_name() {
    let errors = build(&[
        ("quotes", &[]),
        ("orders", &[]),
        ("audit", &["qoutes", "ordrs"]),
    ])
    .expect_err("unknown names");
    assert_eq!(
        errors.errors(),
        [
            GraphError::UnknownDependency {
                connection: "audit".into(),
                unknown: "qoutes".into(),
                suggestion: Some("quotes".into()),
            },
            GraphError::UnknownDependency {
                connection: "audit".into(),
                unknown: "ordrs".into(),
                suggestion: Some("orders".into()),
            },
        ]
    );
    assert_eq!(
        errors.errors()[0].to_string(),
        "connection `audit` depends on unknown connection `qoutes`: did you mean `quotes`?"
    );
}

#[test]
fn an_unknown_name_far_from_any_other_gets_no_suggestion() {
    assert_eq!(
        messages(build(&[("quotes", &[]), ("audit", &["risk-engine"])])),
        [
            "connection `audit` depends on unknown connection `risk-engine`: declare it or remove it from the start rule"
        ]
    );
}

#[test]
fn an_unknown_name_mentioned_twice_is_reported_once() {
    let any = Rule::Any(vec![Rule::up("ghost"), Rule::depends_on(["ghost"])]);
    let errors = DependencyGraph::build([("a", Some(&any))]).expect_err("unknown name");
    assert_eq!(errors.errors().len(), 1);
}

#[test]
fn a_self_dependency_is_refused_and_not_called_a_cycle() {
    assert_eq!(
        messages(build(&[("feed", &["feed"])])),
        ["connection `feed` depends on itself: remove `feed` from its own start rule"]
    );
}

#[test]
fn a_two_cycle_is_reported_once_with_its_path() {
    assert_eq!(
        messages(build(&[("a", &["b"]), ("b", &["a"]), ("c", &["a"])])),
        ["dependency cycle a -> b -> a: remove one of these dependencies"]
    );
}

#[test]
fn a_three_cycle_is_reported_from_its_first_declared_connection() {
    // b depends on c, c on a, a on b; declared b first.
    let errors = build(&[("b", &["c"]), ("a", &["b"]), ("c", &["a"])]).expect_err("cycle");
    assert_eq!(
        errors.errors(),
        [GraphError::Cycle {
            path: vec!["b".into(), "c".into(), "a".into()]
        }]
    );
    assert_eq!(
        errors.to_string(),
        "dependency cycle b -> c -> a -> b: remove one of these dependencies"
    );
}

#[test]
fn every_problem_is_collected_in_a_fixed_order() {
    let errors = build(&[
        ("a", &["b"]),
        ("b", &["a"]),
        ("x", &["y"]),
        ("y", &["z"]),
        ("z", &["x"]),
        ("self", &["self"]),
        ("lost", &["nowhere"]),
        ("a", &[]),
    ])
    .expect_err("many problems");
    assert_eq!(
        errors.to_string(),
        "5 problems in the dependency graph:\n  \
         - connection `a` is declared more than once: give each connection a unique name\n  \
         - connection `self` depends on itself: remove `self` from its own start rule\n  \
         - connection `lost` depends on unknown connection `nowhere`: declare it or remove it from the start rule\n  \
         - dependency cycle a -> b -> a: remove one of these dependencies\n  \
         - dependency cycle x -> y -> z -> x: remove one of these dependencies"
    );
}

#[test]
fn an_empty_any_is_refused() {
    let rule = Rule::All(vec![Rule::up("a"), Rule::Any(vec![])]);
    let errors = DependencyGraph::build([("a", None), ("b", Some(&rule))]).expect_err("empty any");
    assert_eq!(
        errors.into_iter().collect::<Vec<_>>(),
        [GraphError::EmptyAny {
            connection: "b".into()
        }]
    );
}

#[test]
fn a_diamond_is_valid_and_ordered() {
    // top depends on left and right, which both depend on base.
    let graph = build(&[
        ("top", &["left", "right"]),
        ("left", &["base"]),
        ("right", &["base"]),
        ("base", &[]),
    ])
    .expect("a diamond has no cycle");
    assert_eq!(graph.start_order(), ["base", "left", "right", "top"]);
    assert_eq!(
        graph.start_waves(),
        [vec!["base"], vec!["left", "right"], vec!["top"]]
    );
    assert_eq!(graph.shutdown_order(), ["top", "left", "right", "base"]);
    assert_eq!(
        graph.shutdown_waves(),
        [vec!["top"], vec!["left", "right"], vec!["base"]]
    );
    assert_eq!(
        graph.dependencies_of("top").collect::<Vec<_>>(),
        ["left", "right"]
    );
    assert_eq!(
        graph.dependents_of("base").collect::<Vec<_>>(),
        ["left", "right"]
    );
    assert_eq!(graph.dependents_of("top").count(), 0);
    assert_eq!(graph.dependencies_of("nobody").count(), 0);
    assert!(graph.contains("left") && !graph.contains("nobody"));
    assert_eq!(graph.len(), 4);
}

#[test]
fn shutdown_stops_each_connection_as_soon_as_its_dependents_are_stopped() {
    // c depends on b, b on a; d depends on a; e stands alone.
    let graph = build(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("d", &["a"]),
        ("e", &[]),
    ])
    .expect("valid");
    assert_eq!(
        graph.shutdown_waves(),
        [vec!["c", "d", "e"], vec!["b"], vec!["a"]]
    );
    assert_eq!(
        graph.start_waves(),
        [vec!["a", "e"], vec!["b", "d"], vec!["c"]]
    );
}

#[test]
fn start_order_breaks_ties_by_declaration_order() {
    let graph = build(&[("z", &["m"]), ("y", &[]), ("m", &[]), ("x", &["y"])]).expect("valid");
    assert_eq!(graph.start_order(), ["y", "m", "z", "x"]);
    assert_eq!(graph.names().collect::<Vec<_>>(), ["z", "y", "m", "x"]);
    let again = build(&[("z", &["m"]), ("y", &[]), ("m", &[]), ("x", &["y"])]).expect("valid");
    assert_eq!(again.start_order(), graph.start_order());
}

#[test]
fn an_empty_graph_is_valid() {
    let graph = DependencyGraph::build([]).expect("empty");
    assert!(graph.is_empty());
    assert!(graph.start_order().is_empty());
    assert!(graph.shutdown_waves().is_empty());
}

/// A random DAG: `n` nodes, node `i` may depend on any node created before
/// it; declared in a shuffled order so declaration order is not topological.
fn dag() -> impl Strategy<Value = (Vec<String>, Vec<Vec<usize>>)> {
    (1usize..40)
        .prop_flat_map(|n| {
            let edges = (0..n)
                .map(|i| proptest::collection::vec(0..i.max(1), 0..=i.min(3)))
                .collect::<Vec<_>>();
            (
                Just(n),
                edges,
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            )
        })
        .prop_map(|(_, edges, order)| {
            let names: Vec<String> = (0..order.len()).map(|i| format!("c{i}")).collect();
            // Creation index i is declared at position order[i].
            let mut declared = vec![Vec::new(); order.len()];
            for (i, deps) in edges.into_iter().enumerate() {
                declared[order[i]] = deps
                    .into_iter()
                    .filter(|&d| d != i)
                    .map(|d| order[d])
                    .collect();
            }
            (names, declared)
        })
}

/// Rules over the given dependencies, alternating shapes so nested rules are
/// covered: depends_on, all of single-up anys, any plus all.
fn rules_for(deps: &[Vec<usize>], names: &[String]) -> Vec<Option<Rule>> {
    deps.iter()
        .enumerate()
        .map(|(i, deps)| {
            let ups: Vec<Rule> = deps.iter().map(|&d| Rule::up(names[d].clone())).collect();
            match (ups.is_empty(), i % 3) {
                (true, _) => None,
                (false, 0) => Some(Rule::All(ups)),
                (false, 1) => Some(Rule::All(
                    ups.into_iter().map(|u| Rule::Any(vec![u])).collect(),
                )),
                (false, _) => Some(Rule::All(vec![Rule::Any(ups.clone()), Rule::All(ups)])),
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn random_dags_validate_and_every_order_respects_every_edge((names, deps) in dag()) {
        let rules = rules_for(&deps, &names);
        let graph = DependencyGraph::build(names.iter().map(String::as_str).zip(rules.iter().map(Option::as_ref)))
            .expect("a DAG is valid");

        let position = |order: &[&str]| -> HashMap<String, usize> {
            order.iter().enumerate().map(|(i, n)| ((*n).to_owned(), i)).collect()
        };
        let start = position(&graph.start_order());
        let shutdown = position(&graph.shutdown_order());
        prop_assert_eq!(start.len(), names.len());
        prop_assert_eq!(shutdown.len(), names.len());
        let wave_of = |waves: Vec<Vec<&str>>| -> HashMap<String, usize> {
            waves.iter().enumerate().flat_map(|(w, names)| names.iter().map(move |n| ((*n).to_owned(), w))).collect()
        };
        let start_wave = wave_of(graph.start_waves());
        let shutdown_wave = wave_of(graph.shutdown_waves());

        for (i, deps) in deps.iter().enumerate() {
            let dependent = &names[i];
            for &d in deps {
                let dependency = &names[d];
                prop_assert!(start[dependency] < start[dependent]);
                prop_assert!(shutdown[dependent] < shutdown[dependency]);
                prop_assert!(start_wave[dependency] < start_wave[dependent]);
                prop_assert!(shutdown_wave[dependent] < shutdown_wave[dependency]);
                prop_assert!(graph.dependents_of(dependency).any(|n| n == dependent));
                prop_assert!(graph.dependencies_of(dependent).any(|n| n == dependency));
            }
        }
    }

    #[test]
    fn closing_a_path_back_to_its_start_is_reported_as_that_cycle(
        (names, mut deps) in dag(),
        pick in any::<proptest::sample::Index>(),
    ) {
        // Pick an edge a -> b, then add an edge from b's end back to a: the
        // graph now has a cycle through a, and it must be reported.
        let edges: Vec<(usize, usize)> = deps.iter().enumerate()
            .flat_map(|(a, ds)| ds.iter().map(move |&b| (a, b))).collect();
        prop_assume!(!edges.is_empty());
        let (a, b) = edges[pick.index(edges.len())];
        deps[b].push(a);
        let rules = rules_for(&deps, &names);
        let errors = DependencyGraph::build(names.iter().map(String::as_str).zip(rules.iter().map(Option::as_ref)))
            .expect_err("a cycle");
        let cycles: Vec<&Vec<String>> = errors.errors().iter().filter_map(|e| match e {
            GraphError::Cycle { path } => Some(path),
            _ => None,
        }).collect();
        prop_assert!(cycles.iter().any(|p| p.contains(&names[a]) && p.contains(&names[b])));
        let only_cycles = errors.errors().iter().all(|e| matches!(e, GraphError::Cycle { .. }));
        prop_assert!(only_cycles, "{}", errors);
        // Every reported path is a real cycle of the graph.
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        for path in cycles {
            for (k, name) in path.iter().enumerate() {
                let next = &path[(k + 1) % path.len()];
                prop_assert!(deps[index[name.as_str()]].contains(&index[next.as_str()]));
            }
        }
    }
}
