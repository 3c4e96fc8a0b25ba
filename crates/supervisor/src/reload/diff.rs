//! The diff of a reload: which connections a new spec adds, removes,
//! changes or leaves alone.
//!
//! Why a fingerprint and not the old settings: the run keeps one `u64` per
//! connection instead of a second copy of every `ConnectionSpec` (10,000
//! connections is a benchmark). The fingerprint covers every setting of the
//! connection itself, its restart policy, its start rule and
//! `on_dependency_down`: the spec is taken apart field by field, without
//! `..`, so a new setting cannot be forgotten here. Code cannot be compared:
//! a connection with socket hooks or a blocking target has no fingerprint
//! and counts as changed at every reload.

use std::hash::{DefaultHasher, Hash, Hasher};

use linesman_connection::{ConnectionSpec, Target};

use crate::spec::Supervised;

/// What one connection's settings hash to, or `None` when they hold code
/// (hooks, a blocking target) that cannot be compared.
pub(crate) fn fingerprint(supervised: &Supervised) -> Option<u64> {
    let Supervised {
        connection,
        restart,
        start_when,
        on_dependency_down,
    } = supervised;
    let ConnectionSpec {
        name,
        kind,
        tags,
        target,
        connect,
        hooks,
        layout,
        max_frame,
        idle_timeout,
        write_timeout,
        frame_timeout,
        heartbeat,
        outbox,
    } = connection;
    if hooks.has_on_open() || hooks.has_before_close() {
        return None;
    }
    let Target::Endpoint(endpoint) = target else {
        return None;
    };
    let mut hasher = DefaultHasher::new();
    (name, kind, tags, endpoint, layout, max_frame).hash(&mut hasher);
    (idle_timeout, write_timeout, frame_timeout).hash(&mut hasher);
    // Types without `Hash` (they hold floats, or do not derive it): their
    // derived `Debug` shows every field.
    format!("{connect:?}|{heartbeat:?}|{outbox:?}|{restart:?}").hash(&mut hasher);
    (start_when, on_dependency_down).hash(&mut hasher);
    Some(hasher.finish())
}

/// Which connections a reload adds, removes, changes or leaves alone; each
/// list in declaration order (the new spec's; the old one's for `removed`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    pub(crate) added: Vec<String>,
    pub(crate) removed: Vec<String>,
    pub(crate) changed: Vec<String>,
    pub(crate) unchanged: Vec<String>,
}

/// The diff from the running connections `old` (name and fingerprint, in
/// declaration order) to `new`.
pub(crate) fn diff<'a>(
    old: impl IntoIterator<Item = (&'a str, Option<u64>)>,
    new: &[Supervised],
) -> Diff {
    let old: Vec<(&str, Option<u64>)> = old.into_iter().collect();
    let mut diff = Diff::default();
    for supervised in new {
        let name = supervised.name();
        match old.iter().find(|(n, _)| *n == name) {
            None => diff.added.push(name.to_owned()),
            Some((_, Some(was))) if fingerprint(supervised) == Some(*was) => {
                diff.unchanged.push(name.to_owned());
            }
            Some(_) => diff.changed.push(name.to_owned()),
        }
    }
    diff.removed = old
        .iter()
        .filter(|(name, _)| !new.iter().any(|s| s.name() == *name))
        .map(|(name, _)| (*name).to_owned())
        .collect();
    diff
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use linesman_connection::ConnectionSpec;
    use linesman_stream::SocketHooks;

    use super::*;
    use crate::restart::{BackoffPolicy, RestartPolicy};
    use crate::rule::OnDependencyDown;

    fn conn(name: &str, port: u16) -> Supervised {
        let endpoint = format!("tcp://127.0.0.1:{port}")
            .parse()
            .expect("an endpoint");
        Supervised::new(ConnectionSpec::new(name, endpoint))
    }

    fn running(specs: &[Supervised]) -> Vec<(String, Option<u64>)> {
        specs
            .iter()
            .map(|s| (s.name().to_owned(), fingerprint(s)))
            .collect()
    }

    fn of(old: &[Supervised], new: &[Supervised]) -> Diff {
        let old = running(old);
        diff(old.iter().map(|(n, f)| (n.as_str(), *f)), new)
    }

    #[test]
    fn each_connection_is_added_removed_changed_or_unchanged() {
        let old = [conn("a", 1), conn("b", 2), conn("c", 3)];
        let new = [conn("a", 1), conn("c", 4), conn("d", 5)];
        assert_eq!(
            of(&old, &new),
            Diff {
                added: vec!["d".into()],
                removed: vec!["b".into()],
                changed: vec!["c".into()],
                unchanged: vec!["a".into()],
            }
        );
    }

    #[test]
    fn the_same_file_read_again_changes_nothing() {
        let old = [conn("a", 1), conn("b", 2).depends_on(["a"])];
        let new = [conn("a", 1), conn("b", 2).depends_on(["a"])];
        let diff = of(&old, &new);
        assert_eq!(diff.unchanged, ["a", "b"]);
        assert!(diff.added.is_empty() && diff.removed.is_empty() && diff.changed.is_empty());
    }

    #[test]
    fn every_kind_of_setting_counts_as_a_change() {
        let base = conn("a", 1);
        let policy = RestartPolicy::builder()
            .backoff(BackoffPolicy::default().initial(Duration::from_secs(7)))
            .build()
            .expect("a valid policy");
        let variants = [
            conn("a", 2),
            Supervised::new(base.connection.clone().kind("feed")),
            Supervised::new(base.connection.clone().tags(["eu"])),
            Supervised::new(
                base.connection
                    .clone()
                    .idle_timeout(Some(Duration::from_secs(9))),
            ),
            conn("a", 1).restart(policy),
            conn("a", 1).depends_on(["b"]),
            conn("a", 1).on_dependency_down(OnDependencyDown::Keep),
        ];
        for variant in variants {
            let diff = of(std::slice::from_ref(&base), std::slice::from_ref(&variant));
            assert_eq!(diff.changed, ["a"], "{variant:?}");
        }
    }

    #[test]
    fn code_cannot_be_compared_so_a_connection_with_hooks_is_changed() {
        let hooked = Supervised::new(
            conn("a", 1)
                .connection
                .hooks(SocketHooks::default().on_open(|_| Ok(()))),
        );
        let diff = of(std::slice::from_ref(&hooked), std::slice::from_ref(&hooked));
        assert_eq!(diff.changed, ["a"]);
    }
}
