//! Phase one for `restart:` — the policy word, `backoff`, `intensity` and
//! `reset_after` — with every value that is wrong on its own (a jitter
//! outside 0..=1, a multiplier below 1, zero restarts, zero delays, a max
//! above a day) refused here, at its place, by the supervisor's own rules
//! ([`PolicyValue::check`], said in the config's words by `policy.rs`);
//! clashes between values are left to phase two.

use std::time::Duration;

use linesman_supervisor::{PolicyValue, RestartMode};

use crate::policy::checked;
use crate::tree::Node;
use crate::walk::{Duplicates, Sp, Walker};

const RESTART_KEYS: &[&str] = &["policy", "backoff", "intensity", "reset_after"];
const BACKOFF_KEYS: &[&str] = &["initial", "max", "multiplier", "jitter"];
const INTENSITY_KEYS: &[&str] = &["max_restarts", "window"];
/// `restart:`, flattened.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawRestart {
    pub(crate) policy: Option<Sp<RestartMode>>,
    pub(crate) initial: Option<Sp<Duration>>,
    pub(crate) max: Option<Sp<Duration>>,
    pub(crate) multiplier: Option<Sp<f64>>,
    pub(crate) jitter: Option<Sp<f64>>,
    pub(crate) max_restarts: Option<Sp<u32>>,
    pub(crate) window: Option<Sp<Duration>>,
    pub(crate) reset_after: Option<Sp<Duration>>,
    /// A backoff or intensity value was refused (and said so) while
    /// reading: the merged policy is not also checked for clashes, which
    /// would compare the others with a default instead.
    pub(crate) refused: bool,
}

pub(super) fn read_restart(w: &mut Walker<'_>, node: &Node, path: &str) -> RawRestart {
    let mut r = RawRestart::default();
    let Some(mut fields) = w.mapping(node, path, Duplicates::Keys) else {
        return r;
    };
    if let Some(n) = fields.take("policy") {
        r.policy = w.word(
            n,
            &fields.path_of("policy"),
            &["always", "on-failure", "never"],
            |t| t.parse().ok(),
        );
    }
    if let Some(n) = fields.take("backoff")
        && let Some(mut b) = w.mapping(n, &fields.path_of("backoff"), Duplicates::Keys)
    {
        if let Some(n) = b.take("initial") {
            r.initial = w
                .duration(n, &b.path_of("initial"))
                .and_then(|d| checked(w, d, PolicyValue::Initial, path));
            r.refused |= r.initial.is_none();
        }
        if let Some(n) = b.take("max") {
            r.max = w
                .duration(n, &b.path_of("max"))
                .and_then(|d| checked(w, d, PolicyValue::Max, path));
            r.refused |= r.max.is_none();
        }
        if let Some(n) = b.take("multiplier") {
            r.multiplier = w
                .number(n, &b.path_of("multiplier"))
                .and_then(|m| checked(w, m, PolicyValue::Multiplier, path));
            r.refused |= r.multiplier.is_none();
        }
        if let Some(n) = b.take("jitter") {
            r.jitter = w
                .number(n, &b.path_of("jitter"))
                .and_then(|j| checked(w, j, PolicyValue::Jitter, path));
            r.refused |= r.jitter.is_none();
        }
        b.finish(w, BACKOFF_KEYS, &[]);
    }
    if let Some(n) = fields.take("intensity")
        && let Some(mut i) = w.mapping(n, &fields.path_of("intensity"), Duplicates::Keys)
    {
        if let Some(n) = i.take("max_restarts") {
            r.max_restarts = w
                .integer(n, &i.path_of("max_restarts"), 0, u64::from(u32::MAX))
                // Within 0..=u32::MAX, as just read.
                .map(|v| Sp::new(v.value as u32, v.at))
                .and_then(|v| checked(w, v, PolicyValue::MaxRestarts, path));
            r.refused |= r.max_restarts.is_none();
        }
        if let Some(n) = i.take("window") {
            r.window = w
                .duration(n, &i.path_of("window"))
                .and_then(|d| checked(w, d, PolicyValue::Window, path));
            r.refused |= r.window.is_none();
        }
        i.finish(w, INTENSITY_KEYS, &[]);
    }
    if let Some(n) = fields.take("reset_after") {
        r.reset_after = w.duration(n, &fields.path_of("reset_after"));
    }
    fields.finish(w, RESTART_KEYS, &[]);
    r
}
