//! Carrying out a reload in the run's loop: stop what was removed or
//! changed (dependents first, within the shutdown timeout), publish the new
//! directory, start what was added or changed, rewire the rule engine, and
//! ask every connection to evaluate its start rule again.

use std::collections::HashMap;
use std::sync::Arc;

use linesman_connection::ConnectionHandle;
use linesman_observer::Reloaded;

use super::ReloadReport;
use super::diff::diff;
use crate::control::{Control, Member as Listed};
use crate::lifecycle::Removal;
use crate::live::{Live, Recruit};
use crate::mailbox::Inbox;
use crate::shutdown::{Running, stop_in_waves};
use crate::spec::{Parts, Spec};

impl Live {
    /// Makes the running set what `spec` says; see the module docs.
    pub(crate) async fn reload(&mut self, spec: Spec, control: &Control) -> ReloadReport {
        let Parts {
            connections,
            graph,
            shutdown_timeout,
            max_concurrent_connects,
            max_open_sockets,
        } = spec.into_parts();
        let starter = &self.starter;
        let mut needs_restart = Vec::new();
        if shutdown_timeout != starter.common.timeout {
            needs_restart.push(format!(
                "shutdown_timeout ({}, was {})",
                millis(shutdown_timeout),
                millis(starter.common.timeout)
            ));
        }
        if max_concurrent_connects != starter.max_concurrent_connects {
            needs_restart.push(format!(
                "max_concurrent_connects ({max_concurrent_connects}, was {})",
                starter.max_concurrent_connects
            ));
        }
        if max_open_sockets != starter.max_open_sockets {
            needs_restart.push(format!(
                "max_open_sockets ({}, was {})",
                sockets(max_open_sockets),
                sockets(starter.max_open_sockets)
            ));
        }
        let diff = diff(self.fingerprints(), &connections);

        // Removed and changed ones end, dependents first, in the old graph.
        let mut why: HashMap<Arc<str>, Removal> = HashMap::new();
        let mut ending: Vec<Running> = Vec::new();
        for (names, removal) in [
            (&diff.removed, Removal::Removed),
            (&diff.changed, Removal::Replaced),
        ] {
            for name in names {
                if let Some(member) = self.take(name) {
                    why.insert(Arc::clone(&member.running.name), removal);
                    ending.push(member.running);
                }
            }
        }
        if !ending.is_empty() {
            let tell = |task: &Running| {
                let removal = why.get(&task.name).copied().unwrap_or(Removal::Removed);
                task.mailbox.remove(removal);
            };
            stop_in_waves(
                &self.graph,
                &mut ending,
                self.starter.common.timeout,
                &control.forced,
                &self.starter.bus,
                (&tell, "reload"),
            )
            .await;
        }
        for name in &diff.removed {
            self.starter.bus.forget(name);
        }
        self.freed();

        // The directory first, so commands reach the new tasks at once.
        let mut rules = Vec::with_capacity(connections.len());
        let mut listed = Vec::with_capacity(connections.len());
        let mut recruits = Vec::new();
        for supervised in connections {
            rules.push(supervised.start_when.clone());
            let name = graph.shared_name(supervised.name());
            if let Some(member) = self.member(&name) {
                listed.push(Listed {
                    name: Arc::clone(&member.running.name),
                    mailbox: Arc::clone(&member.running.mailbox),
                    handle: member.running.handle.clone(),
                });
                continue;
            }
            let (mailbox, inbox) = Inbox::new();
            let handle = ConnectionHandle::for_spec_named(
                &supervised.connection,
                Arc::clone(&name),
                &self.starter.bus,
            );
            listed.push(Listed {
                name: Arc::clone(&name),
                mailbox: Arc::clone(&mailbox),
                handle: handle.clone(),
            });
            recruits.push(Recruit {
                name,
                supervised,
                handle,
                handler: None,
                inbox,
                mailbox,
            });
        }
        control.replace(listed);
        self.regraph(graph);
        for recruit in recruits {
            self.spawn(recruit);
        }
        self.rewire(rules);
        // Every rule again: a dependency may have gone, come or changed.
        for member in self.slots.iter().flatten() {
            member.running.mailbox.rules_changed();
        }

        tracing::info!(
            added = diff.added.len(),
            removed = diff.removed.len(),
            changed = diff.changed.len(),
            unchanged = diff.unchanged.len(),
            "reloaded"
        );
        for setting in &needs_restart {
            tracing::warn!(%setting, "this setting changed, and takes effect only when the daemon is restarted");
        }
        // Refused only by a closed bus, which is closed after the run.
        let _ = self.starter.bus.publisher("").publish(Reloaded {
            added: diff.added.clone(),
            removed: diff.removed.clone(),
            changed: diff.changed.clone(),
        });
        ReloadReport {
            added: diff.added,
            removed: diff.removed,
            changed: diff.changed,
            unchanged: diff.unchanged,
            needs_restart,
        }
    }
}

/// A duration in words for an operator: `5s`, `1500ms`.
fn millis(duration: std::time::Duration) -> String {
    let ms = duration.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A socket budget in words: its number, or `unbounded`.
fn sockets(max: Option<usize>) -> String {
    max.map_or_else(|| "unbounded".to_owned(), |max| max.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn settings_that_need_a_restart_read_as_words_not_debug_forms() {
        assert_eq!(millis(Duration::from_secs(5)), "5s");
        assert_eq!(millis(Duration::from_millis(1500)), "1500ms");
        assert_eq!(sockets(None), "unbounded");
        assert_eq!(sockets(Some(9)), "9");
    }
}
