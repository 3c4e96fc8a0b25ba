//! The run's live set of connections: each one's task, where it reports
//! its phase, and what a reload compares it by; plus what is needed to
//! start one more (`Starter`).
//!
//! Why slots: a task reports its [`Phase`] at a fixed index of one shared
//! vector (no lookup per state change), so an index must stay valid for the
//! task's whole life. A reload frees the slots of the tasks it ended and
//! gives them to the tasks it starts, so the vector grows only with the
//! largest number of connections run at once.

use std::sync::Arc;

use linesman_connection::{
    Connection, ConnectionHandle, ConnectionSpec, Counting, DynHandler, SocketBudget,
};
use linesman_observer::{Bus, ListenerHandle};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::graph::DependencyGraph;
use crate::lifecycle::{Lifecycle, Phase};
use crate::mailbox::{Inbox, Mailbox};
use crate::restart::RestartPolicy;
use crate::rng::seed_from;
use crate::rule::Rule;
use crate::rules::{RunCheck, spawn_engine};
use crate::shutdown::{Running, shut_down};
use crate::spec::Supervised;
use crate::task::{PhaseReport, RuleWatch, Shell, Task, TaskCommon};
use crate::tracker::RestartTracker;

/// One connection of the live set.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) running: Running,
    /// Its settings' fingerprint (`reload/diff.rs`).
    pub(crate) fingerprint: Option<u64>,
}

/// What starts a connection's task: shared by every task of the run.
#[derive(Debug)]
pub(crate) struct Starter {
    pub(crate) bus: Bus,
    /// Connects in flight, shared by every connection.
    pub(crate) connect_limit: Arc<Semaphore>,
    /// Sockets open at once, shared by every connection, if bounded.
    pub(crate) socket_budget: Option<Arc<SocketBudget>>,
    pub(crate) max_concurrent_connects: usize,
    pub(crate) max_open_sockets: Option<usize>,
    pub(crate) policies: Policies,
    pub(crate) settings: Settings,
    /// Shared with every task: the phases and the shutdown timeout.
    pub(crate) common: Arc<TaskCommon>,
}

/// Everything a new task is made of, before it is spawned.
pub(crate) struct Recruit {
    /// The graph's copy of the name, shared by every list of connections.
    pub(crate) name: Arc<str>,
    pub(crate) supervised: Supervised,
    pub(crate) handle: ConnectionHandle,
    pub(crate) handler: Option<Box<dyn DynHandler>>,
    pub(crate) inbox: Inbox,
    pub(crate) mailbox: Arc<Mailbox>,
}

/// The connections running now.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) graph: DependencyGraph,
    /// By slot; `None` for a free one.
    pub(crate) slots: Vec<Option<Member>>,
    /// The free slots (`None` in `slots`), for `spawn` to take without a
    /// scan: a scan of every slot per start made starting n connections
    /// cost n²/2 slot reads (seconds at 100,000).
    free: Vec<usize>,
    /// Each connection's slot, in the graph's declaration order (`None`
    /// while it has no task): with the graph's index by name, where a map
    /// by name would cost ~40 bytes per connection.
    pub(crate) slot_of: Vec<Option<usize>>,
    pub(crate) check: RunCheck,
    pub(crate) engine: Option<ListenerHandle>,
    pub(crate) starter: Starter,
}

impl Live {
    /// Starts a task for each of `recruits` (in declaration order, the
    /// graph's) and the rule engine.
    pub(crate) fn start(
        graph: DependencyGraph,
        recruits: Vec<Recruit>,
        starter: Starter,
        rules: Vec<Option<Rule>>,
    ) -> Live {
        let mut live = Live {
            check: RunCheck::new(&graph, Vec::new(), &[]),
            slot_of: vec![None; graph.len()],
            graph,
            slots: Vec::with_capacity(recruits.len()),
            free: Vec::new(),
            engine: None,
            starter,
        };
        for recruit in recruits {
            live.spawn(recruit);
        }
        live.rewire(rules);
        live
    }

    /// Starts `recruit`'s task in a free slot (or a new one).
    pub(crate) fn spawn(&mut self, recruit: Recruit) {
        let slot = match self.free.pop() {
            Some(free) => free,
            None => {
                self.slots.push(None);
                self.starter
                    .common
                    .phases
                    .send_modify(|phases| phases.push(Phase::Terminal));
                self.slots.len() - 1
            }
        };
        self.starter
            .common
            .phases
            .send_modify(|phases| phases[slot] = Phase::Active);
        let fingerprint = crate::reload::fingerprint(&recruit.supervised);
        let running = self.starter.spawn(recruit, slot);
        self.place(&running.name, slot);
        self.slots[slot] = Some(Member {
            running,
            fingerprint,
        });
    }

    /// Takes connection `name` out of the set. Its slot is free: the
    /// caller must not start another task before this one has ended, and
    /// then calls [`freed`](Self::freed).
    pub(crate) fn take(&mut self, name: &str) -> Option<Member> {
        let slot = self.slot_of.get_mut(self.graph.position(name)?)?.take()?;
        let member = self.slots.get_mut(slot).and_then(Option::take)?;
        self.free.push(slot);
        Some(member)
    }

    /// Replaces the graph by `graph` (a reload): the members' slots are
    /// found again by name, at their places in the new declaration order.
    /// A member the new graph does not have is no longer found by name.
    pub(crate) fn regraph(&mut self, graph: DependencyGraph) {
        self.graph = graph;
        self.slot_of = vec![None; self.graph.len()];
        for slot in 0..self.slots.len() {
            if let Some(member) = &self.slots[slot] {
                let name = Arc::clone(&member.running.name);
                self.place(&name, slot);
            }
        }
    }

    /// Records that connection `name` runs in `slot`.
    fn place(&mut self, name: &str, slot: usize) {
        if let Some(position) = self.graph.position(name) {
            self.slot_of[position] = Some(slot);
        }
    }

    /// Marks every free slot terminal (a task aborted at a deadline never
    /// said so itself).
    pub(crate) fn freed(&self) {
        let free: Vec<usize> = (0..self.slots.len())
            .filter(|&slot| self.slots[slot].is_none())
            .collect();
        self.starter.common.phases.send_if_modified(|phases| {
            let mut changed = false;
            for &slot in &free {
                changed |= phases[slot] != Phase::Terminal;
                phases[slot] = Phase::Terminal;
            }
            changed
        });
    }

    /// The rule engine and "can anything still run" for the graph and the
    /// members as they are now, whose start rules are `rules` (in the
    /// graph's declaration order).
    pub(crate) fn rewire(&mut self, rules: Vec<Option<Rule>>) {
        let mailboxes: Vec<Arc<Mailbox>> = self
            .graph
            .names()
            .filter_map(|name| self.member(name))
            .map(|member| Arc::clone(&member.running.mailbox))
            .collect();
        // The old engine goes first: two would signal twice.
        self.engine = None;
        self.engine = spawn_engine(&self.starter.bus, &self.graph, &mailboxes);
        self.check = RunCheck::new(&self.graph, rules, &self.slot_of);
    }

    pub(crate) fn member(&self, name: &str) -> Option<&Member> {
        let slot = (*self.slot_of.get(self.graph.position(name)?)?)?;
        self.slots.get(slot)?.as_ref()
    }

    /// Whether some connection can still run by itself.
    pub(crate) fn anything_can_run(&self, phases: &[Phase]) -> bool {
        self.check.anything_can_run(phases)
    }

    /// The names and fingerprints of the members, in declaration order.
    pub(crate) fn fingerprints(&self) -> Vec<(&str, Option<u64>)> {
        self.graph
            .names()
            .filter_map(|name| self.member(name).map(|m| (name, m.fingerprint)))
            .collect()
    }

    /// Stops every task, dependents first (see `shutdown.rs`).
    pub(crate) async fn shut_down(mut self, forced: &CancellationToken) {
        let names: Vec<Arc<str>> = self.graph.names().map(Arc::from).collect();
        let mut running: Vec<Running> = names
            .iter()
            .filter_map(|name| self.take(name).map(|m| m.running))
            .collect();
        // Every member is in the graph; `running` is in its order.
        debug_assert_eq!(running.len(), names.len());
        self.engine = None;
        shut_down(
            &self.graph,
            &mut running,
            self.starter.common.timeout,
            forced,
            &self.starter.bus,
        )
        .await;
    }
}

impl Starter {
    /// Spawns the task of `recruit`, reporting its phase at `slot`.
    fn spawn(&mut self, recruit: Recruit, slot: usize) -> Running {
        let Recruit {
            name,
            supervised,
            handle,
            handler,
            inbox,
            mailbox,
        } = recruit;
        let Supervised {
            connection: spec,
            restart,
            start_when,
            on_dependency_down,
        } = supervised;
        // Fields fixed for the task's life: recording a changing one
        // (the attempt) would append it again to every later line.
        let span = tracing::info_span!("connection", conn = %name, endpoint = %spec.target);
        // Built now, with its handler (or one that only counts).
        let handler = handler.unwrap_or_else(|| Box::new(Counting));
        let mut conn = Connection::with_settings(self.settings.get(spec), handler, handle.clone());
        conn.limit_connects(Arc::clone(&self.connect_limit));
        if let Some(budget) = &self.socket_budget {
            conn.limit_open_sockets(Arc::clone(budget));
        }
        let session_control = conn.session_control();
        let tracker = RestartTracker::shared(self.policies.get(restart), seed_from(&name));
        let rule = start_when.map(|rule| {
            Box::new(RuleWatch {
                rule,
                bus: self.bus.clone(),
            })
        });
        let task = Task {
            conn,
            shell: Shell {
                lifecycle: Lifecycle::new(tracker, on_dependency_down),
                control: session_control.clone(),
                inbox,
                rule,
                report: PhaseReport {
                    common: Arc::clone(&self.common),
                    index: slot,
                },
                hold: None,
            },
        };
        let join = tokio::spawn(task.run().instrument(span));
        Running {
            name,
            join: Some(join),
            mailbox,
            control: session_control,
            handle,
        }
    }
}

/// The restart policies of the connections, each distinct one allocated
/// once and shared by the trackers that use it (most connections of a spec
/// have the same policy).
#[derive(Debug, Default)]
pub(crate) struct Policies(Vec<Arc<RestartPolicy>>);

impl Policies {
    /// Past this many distinct policies, each further one is its own.
    const MAX: usize = 16;

    fn get(&mut self, policy: RestartPolicy) -> Arc<RestartPolicy> {
        if let Some(shared) = self.0.iter().find(|shared| ***shared == policy) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(policy);
        if self.0.len() < Self::MAX {
            self.0.push(Arc::clone(&shared));
        }
        shared
    }
}

/// The connections' settings, each distinct one allocated once and shared
/// by the connections that have it ([`ConnectionSpec::same_settings`]: a
/// spec is ~370 bytes, and the connections of a fleet mostly differ only
/// in their names and endpoints, which each keeps of its own).
#[derive(Debug, Default)]
pub(crate) struct Settings(Vec<Arc<ConnectionSpec>>);

impl Settings {
    /// Past this many distinct settings, each further one is its own: a
    /// spec of thousands of distinct option sets pays a copy each, not a
    /// search of thousands per connection.
    const MAX: usize = 16;

    fn get(&mut self, spec: ConnectionSpec) -> Arc<ConnectionSpec> {
        if let Some(shared) = self.0.iter().find(|shared| shared.same_settings(&spec)) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(spec);
        if self.0.len() < Self::MAX {
            self.0.push(Arc::clone(&shared));
        }
        shared
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use linesman_connection::ConnectionSpec;
    use linesman_stream::SocketHooks;

    use linesman_connection::ConnectionHandle;
    use linesman_observer::Bus;
    use tokio::sync::{Semaphore, watch};

    use super::{Live, Policies, Recruit, Settings, Starter};
    use crate::graph::DependencyGraph;
    use crate::mailbox::Inbox;
    use crate::spec::Supervised;
    use crate::task::TaskCommon;

    fn spec(name: &str) -> ConnectionSpec {
        ConnectionSpec::new(name, "tcp://127.0.0.1:9".parse().expect("an endpoint"))
    }

    /// A live set of `names`, each connection's task started (against a
    /// port nothing listens on; the tasks only back off).
    fn live(names: &[&str]) -> Live {
        let bus = Bus::default();
        let graph =
            DependencyGraph::build(names.iter().map(|name| (*name, None))).expect("a graph");
        let (phases, _) = watch::channel(Vec::new());
        let starter = Starter {
            bus: bus.clone(),
            connect_limit: Arc::new(Semaphore::new(8)),
            socket_budget: None,
            max_concurrent_connects: 8,
            max_open_sockets: None,
            policies: Policies::default(),
            settings: Settings::default(),
            common: Arc::new(TaskCommon {
                phases,
                timeout: Duration::from_secs(1),
            }),
        };
        let recruits = names.iter().map(|name| recruit(name, &bus)).collect();
        Live::start(graph, recruits, starter, vec![None; names.len()])
    }

    fn recruit(name: &str, bus: &Bus) -> Recruit {
        let (mailbox, inbox) = Inbox::new();
        let supervised = Supervised::new(spec(name));
        Recruit {
            name: Arc::from(name),
            handle: ConnectionHandle::for_spec(&supervised.connection, bus),
            supervised,
            handler: None,
            inbox,
            mailbox,
        }
    }

    #[tokio::test]
    async fn a_started_connection_takes_a_freed_slot_before_the_set_grows() {
        let mut live = live(&["a", "b", "c"]);
        assert_eq!(live.slots.len(), 3);
        let b = live.take("b").expect("b is live");
        b.running.control.stop();
        live.spawn(recruit("d", &live.starter.bus.clone()));
        assert_eq!(live.slots.len(), 3, "d took b's slot");
        assert!(live.slots[1].is_some());
        for name in ["a", "c"] {
            live.take(name).expect("live").running.control.stop();
        }
        for name in ["e", "f", "g"] {
            live.spawn(recruit(name, &live.starter.bus.clone()));
        }
        assert_eq!(live.slots.len(), 4, "two freed slots, then one new");
        assert!(live.slots.iter().all(Option::is_some));
        live.starter.bus.close().await;
    }

    #[test]
    fn connections_with_the_same_settings_share_one_copy() {
        let mut settings = Settings::default();
        let a = settings.get(spec("a").kind("feed").tags(["eu"]));
        let b = settings.get(spec("b"));
        assert!(Arc::ptr_eq(&a, &b), "same settings, other labels: one copy");
        let elsewhere =
            ConnectionSpec::new("f", "unix:///run/f.sock".parse().expect("an endpoint"));
        assert!(
            Arc::ptr_eq(&a, &settings.get(elsewhere)),
            "another endpoint, the same settings: one copy (the endpoint is each connection's own)"
        );
        let slow = settings.get(spec("c").idle_timeout(Some(Duration::from_secs(9))));
        assert!(!Arc::ptr_eq(&a, &slow), "other settings: their own copy");
        let hooked = spec("d").hooks(SocketHooks::default().before_close(|_| {}));
        let hooked = settings.get(hooked);
        assert!(!Arc::ptr_eq(&a, &hooked), "code is never compared");
        assert!(!Arc::ptr_eq(
            &hooked,
            &settings.get(spec("e").hooks(hooked.hooks.clone()))
        ));
    }
}
