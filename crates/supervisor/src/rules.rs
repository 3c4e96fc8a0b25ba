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

use linesman_observer::{Bus, Event, EventType, Interest, Listener, ListenerHandle};

use crate::graph::DependencyGraph;
use crate::lifecycle::{Phase, RuleNow};
use crate::mailbox::Mailbox;
use crate::rule::Rule;

/// Whether `name` is up according to the bus registry, read in place (no
/// clone of its record). `Connecting`, `Backoff`, `Waiting`, `Stopping` and
/// every terminal state are not up.
fn is_up(bus: &Bus, name: &str) -> bool {
    bus.with_state(name, |status| status.state.is_up())
        .unwrap_or(false)
}

/// What `rule` says now, and the sum of the up generations of every
/// connection it names ([`ConnStatus::ups`](linesman_observer::ConnStatus)):
/// it changes whenever a session of one of them came up, so a task that
/// samples the rule sees a bounce it was too slow to see as a state.
///
/// Cost: one registry lookup per name for the generation and one per name
/// for the rule (twice that when it does not hold), never a clone.
pub(crate) fn evaluate(bus: &Bus, rule: &Rule) -> (RuleNow, u64) {
    let generation = rule.names().fold(0u64, |sum, name| {
        sum.wrapping_add(bus.with_state(name, |status| status.ups).unwrap_or(0))
    });
    let up = |name: &str| is_up(bus, name);
    let now = if rule.holds(&up) {
        RuleNow::Holds
    } else {
        RuleNow::WaitingOn(rule.waiting_on(&up))
    };
    (now, generation)
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
        if !may_change_up(event) {
            return;
        }
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

/// Whether `event` may change whether its connection is up, or its up
/// generation: a rule can only change then. Waiting, connecting, backoff,
/// start and a failed connect never follow `Connected` directly nor make a
/// connection up, and a dense graph publishes many of them (a `Waiting`
/// for every dependency that comes up): signalling the dependents for each
/// would evaluate every rule once per such event. A replay (after a lag)
/// always counts.
fn may_change_up(event: &Event) -> bool {
    event.replay
        || !matches!(
            event.event_type(),
            EventType::Waiting
                | EventType::Connecting
                | EventType::Backoff
                | EventType::Started
                | EventType::ConnectFailed
        )
}

/// The graph as "can anything still run" needs it, computed once per run
/// (and per reload). Empty when no connection has a start rule: then a
/// waiting connection can always run, and the rest is not needed (it would
/// cost ~76 bytes per connection).
#[derive(Debug)]
pub(crate) struct RunCheck {
    /// Indices in the graph's start order.
    order: Vec<usize>,
    /// Each connection's slot in the phases, in declaration order.
    slots: Vec<usize>,
    /// Each name's index in declaration order.
    index: HashMap<String, usize>,
    /// Each connection's start rule, in declaration order.
    rules: Vec<Option<Rule>>,
}

impl RunCheck {
    /// For `graph`, whose connections' rules are `rules` and whose phases
    /// are reported at `slots` (both in declaration order; `None` for a
    /// connection without a task).
    pub(crate) fn new(
        graph: &DependencyGraph,
        rules: Vec<Option<Rule>>,
        slots: &[Option<usize>],
    ) -> RunCheck {
        if rules.iter().all(Option::is_none) {
            return RunCheck {
                order: Vec::new(),
                slots: Vec::new(),
                index: HashMap::new(),
                rules: Vec::new(),
            };
        }
        let index: HashMap<String, usize> = graph
            .names()
            .enumerate()
            .map(|(i, n)| (n.to_owned(), i))
            .collect();
        let order = graph
            .start_order()
            .into_iter()
            .filter_map(|name| index.get(name).copied())
            .collect();
        let slots = slots
            .iter()
            .map(|slot| slot.unwrap_or(usize::MAX))
            .collect();
        RunCheck {
            order,
            slots,
            index,
            rules,
        }
    }

    /// Whether some connection can still run by itself: it is active, or
    /// it is waiting on a rule that could still hold given which
    /// connections can still come up. `phases` is in declaration order.
    ///
    /// Called on every phase change: while any connection is active (the
    /// usual case) it costs a scan of the phases and evaluates no rule.
    pub(crate) fn anything_can_run(&self, phases: &[Phase]) -> bool {
        if phases.contains(&Phase::Active) {
            return true;
        }
        if !phases.contains(&Phase::Waiting) {
            return false;
        }
        if self.rules.is_empty() {
            // No rules: a waiting connection is waiting on nothing.
            return true;
        }
        let mut alive = vec![false; self.slots.len()];
        // Dependencies come first in start order, so each rule is evaluated
        // over final answers.
        for &i in &self.order {
            let slot = self.slots.get(i).copied().unwrap_or(usize::MAX);
            let can_run = match phases.get(slot) {
                Some(Phase::Active) => true,
                Some(Phase::Terminal) | None => false,
                Some(Phase::Waiting) => {
                    self.rules
                        .get(i)
                        .and_then(Option::as_ref)
                        .is_none_or(|rule| {
                            rule.holds(&|d: &str| self.index.get(d).is_some_and(|&j| alive[j]))
                        })
                }
            };
            alive[i] = can_run;
        }
        alive.into_iter().any(|a| a)
    }
}
