//! Start rules: holding, what a waiting connection waits on, rendering,
//! and the `on_dependency_down` names.

use linesman_supervisor::{OnDependencyDown, ParseError, Rule};

fn up_set(names: &'static [&'static str]) -> impl Fn(&str) -> bool {
    move |name| names.contains(&name)
}

/// any(up quotes, all(up orders, up risk), all(up fx, any(up a, up b)))
fn nested() -> Rule {
    Rule::Any(vec![
        Rule::up("quotes"),
        Rule::depends_on(["orders", "risk"]),
        Rule::All(vec![
            Rule::up("fx"),
            Rule::Any(vec![Rule::up("a"), Rule::up("b")]),
        ]),
    ])
}

#[test]
fn up_holds_when_the_connection_is_up() {
    let rule = Rule::up("quotes");
    assert!(rule.holds(&up_set(&["quotes"])));
    assert!(!rule.holds(&up_set(&["orders"])));
    assert_eq!(rule.waiting_on(&up_set(&[])), ["quotes"]);
    assert!(rule.waiting_on(&up_set(&["quotes"])).is_empty());
}

#[test]
fn all_needs_every_part_and_waits_on_the_missing_ones() {
    let rule = Rule::depends_on(["quotes", "orders", "risk"]);
    assert!(rule.holds(&up_set(&["quotes", "orders", "risk"])));
    assert!(!rule.holds(&up_set(&["quotes", "orders"])));
    assert_eq!(rule.waiting_on(&up_set(&["orders"])), ["quotes", "risk"]);
    assert!(Rule::All(vec![]).holds(&up_set(&[])));
}

#[test]
fn any_needs_one_part_and_waits_on_all_of_them() {
    let rule = Rule::Any(vec![Rule::up("quotes"), Rule::up("orders")]);
    assert!(rule.holds(&up_set(&["orders"])));
    assert!(!rule.holds(&up_set(&["risk"])));
    assert_eq!(rule.waiting_on(&up_set(&[])), ["orders", "quotes"]);
    assert!(rule.waiting_on(&up_set(&["quotes"])).is_empty());
    assert!(!Rule::Any(vec![]).holds(&up_set(&[])));
}

#[test]
fn nested_rules_hold_through_any_branch() {
    let rule = nested();
    assert!(!rule.holds(&up_set(&[])));
    assert!(rule.holds(&up_set(&["quotes"])));
    assert!(rule.holds(&up_set(&["orders", "risk"])));
    assert!(!rule.holds(&up_set(&["orders", "fx"])));
    assert!(rule.holds(&up_set(&["fx", "b"])));
    assert!(!rule.holds(&up_set(&["a", "b"])));
}

#[test]
fn nested_rules_wait_only_on_what_would_help() {
    let rule = nested();
    assert_eq!(
        rule.waiting_on(&up_set(&[])),
        ["a", "b", "fx", "orders", "quotes", "risk"]
    );
    // orders and fx are up: they no longer appear; a and b still would help.
    assert_eq!(
        rule.waiting_on(&up_set(&["orders", "fx"])),
        ["a", "b", "quotes", "risk"]
    );
    // Within an all, a part that holds contributes nothing.
    let all = Rule::All(vec![
        Rule::up("x"),
        Rule::Any(vec![Rule::up("y"), Rule::up("z")]),
    ]);
    assert_eq!(all.waiting_on(&up_set(&["z"])), ["x"]);
}

#[test]
fn waiting_on_lists_a_repeated_name_once() {
    let rule = Rule::All(vec![
        Rule::up("quotes"),
        Rule::Any(vec![Rule::up("quotes"), Rule::up("orders")]),
    ]);
    assert_eq!(rule.waiting_on(&up_set(&[])), ["orders", "quotes"]);
}

#[test]
fn names_walks_the_rule_in_order_with_repeats() {
    let rule = Rule::All(vec![
        Rule::up("z"),
        Rule::Any(vec![Rule::up("y"), Rule::up("z")]),
        Rule::up("x"),
    ]);
    assert_eq!(rule.names().collect::<Vec<_>>(), ["z", "y", "z", "x"]);
    assert_eq!(nested().names().count(), 6);
}

#[test]
fn rules_render_as_readable_text() {
    assert_eq!(Rule::up("quotes").to_string(), "up quotes");
    assert_eq!(
        Rule::depends_on(["quotes", "orders"]).to_string(),
        "all(up quotes, up orders)"
    );
    assert_eq!(
        nested().to_string(),
        "any(up quotes, all(up orders, up risk), all(up fx, any(up a, up b)))"
    );
    assert_eq!(Rule::Any(vec![]).to_string(), "any()");
}

#[test]
fn empty_any_is_found_at_any_depth() {
    assert!(Rule::Any(vec![]).has_empty_any());
    assert!(Rule::All(vec![Rule::up("a"), Rule::Any(vec![])]).has_empty_any());
    assert!(!nested().has_empty_any());
    assert!(!Rule::All(vec![]).has_empty_any());
}

#[test]
fn on_dependency_down_defaults_to_stop_and_parses_its_names() {
    assert_eq!(OnDependencyDown::default(), OnDependencyDown::Stop);
    for mode in [
        OnDependencyDown::Stop,
        OnDependencyDown::Keep,
        OnDependencyDown::Restart,
    ] {
        assert_eq!(mode.to_string().parse::<OnDependencyDown>(), Ok(mode));
    }
    let err = "pause".parse::<OnDependencyDown>();
    assert_eq!(
        err,
        Err(ParseError::UnknownOnDependencyDown {
            input: "pause".into()
        })
    );
    assert_eq!(
        err.err().map(|e| e.to_string()).as_deref(),
        Some("unknown on_dependency_down `pause`: expected stop, keep or restart")
    );
}
