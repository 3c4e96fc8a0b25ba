//! The rule engine: a listener on the bus that, whenever a connection's
//! state changes, signals the tasks of the connections whose start rule
//! mentions it, so they re-evaluate their rule against the registry.
//!
//! Why signal and re-read instead of passing the event along: the bus
//! updates its registry before any listener hears of an event, so a task
//! that is woken reads a state at least as new as the event that woke it,
//! and a burst of events costs one evaluation, not one per event.
//!
//! Also here: whether anything can still run, which decides when
//! [`Supervisor::run`](crate::Supervisor::run) returns by itself.

use std::collections::HashMap;
use std::sync::Arc;

use linesman_observer::{Bus, Event, Interest, Listener, ListenerHandle};

use crate::graph::DependencyGraph;
use crate::mailbox::Mailbox;
use crate::rule::Rule;

/// Whether `name` is up according to the bus registry. `Connecting`,
/// `Backoff`, `Waiting`, `Stopping` and every terminal state are not up.
pub(crate) fn is_up(bus: &Bus, name: &str) -> bool {
    bus.state(name).is_some_and(|status| status.state.is_up())
}

/// Whether `rule` holds now; no rule always holds.
pub(crate) fn holds(bus: &Bus, rule: Option<&Rule>) -> bool {
    rule.is_none_or(|rule| rule.holds(&|name: &str| is_up(bus, name)))
}

/// What `rule` waits on now; empty when it holds.
pub(crate) fn waiting_on(bus: &Bus, rule: Option<&Rule>) -> Vec<String> {
    rule.map(|rule| rule.waiting_on(&|name: &str| is_up(bus, name)))
        .unwrap_or_default()
}

/// Up to this many connections with dependents, the engine's interest
/// names them; past it, the engine takes every event and looks it up.
const FILTERED_DEPENDENCIES: usize = 64;

/// Registers the rule engine on `bus`: every event of a connection tells
/// the mailbox of each of its dependents that its rule may have changed
/// (`mailboxes` is in the graph's declaration order). The engine lives as
/// long as the returned handle; `None` when no connection depends on
/// another (then there is nothing to listen for).
pub(crate) fn spawn_engine(
    bus: &Bus,
    graph: &DependencyGraph,
    mailboxes: &[Arc<Mailbox>],
) -> Option<ListenerHandle> {
    let by_name: HashMap<&str, &Arc<Mailbox>> = graph.names().zip(mailboxes).collect();
    let dependents: HashMap<Arc<str>, Vec<Arc<Mailbox>>> = graph
        .names()
        .map(|name| {
            let list = graph
                .dependents_of(name)
                .filter_map(|d| by_name.get(d).map(|s| Arc::clone(s)))
                .collect();
            (Arc::from(name), list)
        })
        .filter(|(_, list): &(Arc<str>, Vec<_>)| !list.is_empty())
        .collect();
    if dependents.is_empty() {
        // No rule depends on anything: no listener, so the events of a
        // storm of connects queue nowhere for nothing.
        return None;
    }
    // Only the events of connections something depends on, when they are
    // few: the bus matches an interest's names one by one for every event,
    // and the engine's own lookup is a hash map.
    let interest = if dependents.len() <= FILTERED_DEPENDENCIES {
        dependents.keys().fold(Interest::all(), |interest, name| {
            interest.conn(Arc::clone(name))
        })
    } else {
        Interest::all()
    };
    Some(bus.listen(Engine {
        interest,
        dependents,
    }))
}

/// The rule engine's listener: the mailboxes of each connection's
/// dependents, and an interest in exactly those connections.
struct Engine {
    interest: Interest,
    dependents: HashMap<Arc<str>, Vec<Arc<Mailbox>>>,
}

impl Listener for Engine {
    async fn on_event(&self, event: &Event) {
        if let Some(list) = self.dependents.get(&event.conn) {
            for mailbox in list {
                mailbox.rules_changed();
            }
        }
    }

    fn name(&self) -> &str {
        "linesman-rules"
    }

    fn interest(&self) -> Interest {
        self.interest.clone()
    }
}

/// Where a connection's task is, as far as "can anything still run" cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connecting, up, or in backoff: it will act by itself.
    Active,
    /// Waiting for its start rule.
    Waiting,
    /// Stopped, failed, or its task ended: only a command can revive it.
    Terminal,
}

/// Whether some connection can still run by itself: it is active, or it is
/// waiting on a rule that could still hold given which connections can
/// still come up. `phases` and `rules` are in the graph's declaration order.
pub(crate) fn anything_can_run(
    graph: &DependencyGraph,
    rules: &[Option<Rule>],
    phases: &[Phase],
) -> bool {
    let index: HashMap<&str, usize> = graph.names().enumerate().map(|(i, n)| (n, i)).collect();
    let mut alive = vec![false; phases.len()];
    // Dependencies come first in start order, so each rule is evaluated
    // over final answers.
    for name in graph.start_order() {
        let Some(&i) = index.get(name) else { continue };
        let can_run = match phases[i] {
            Phase::Active => true,
            Phase::Terminal => false,
            Phase::Waiting => rules[i]
                .as_ref()
                .is_none_or(|rule| rule.holds(&|d: &str| index.get(d).is_some_and(|&j| alive[j]))),
        };
        alive[i] = can_run;
    }
    alive.into_iter().any(|a| a)
}
