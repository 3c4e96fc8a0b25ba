//! Phase one for `restart:` — the policy word, `backoff`, `intensity` and
//! `reset_after` — with every value that is wrong on its own (a jitter
//! outside 0..=1, a multiplier below 1, zero restarts, zero delays) refused
//! here, at its place; clashes between values are left to phase two.

use std::time::Duration;

use linesman_supervisor::RestartMode;

use super::settings::nonzero;
use crate::error::{ConfigError, ConfigErrorKind as Kind};
use crate::tree::{Node, Value};
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
    if let Some(n) = fields.take("backoff") {
        let path = fields.path_of("backoff");
        if let Some(mut b) = w.mapping(n, &path, Duplicates::Keys) {
            if let Some(n) = b.take("initial") {
                let p = b.path_of("initial");
                r.initial = w.duration(n, &p).and_then(|d| nonzero(w, d, &p));
            }
            if let Some(n) = b.take("max") {
                let p = b.path_of("max");
                r.max = w.duration(n, &p).and_then(|d| nonzero(w, d, &p));
            }
            if let Some(n) = b.take("multiplier") {
                r.multiplier = w.number(n, &b.path_of("multiplier")).and_then(|m| {
                    if m.value.is_finite() && m.value >= 1.0 {
                        return Some(m);
                    }
                    w.push(
                        ConfigError::at(
                            Kind::OutOfRange,
                            m.at,
                            format!("`{}` must be at least 1.0, found {}", b.path_of("multiplier"), m.value),
                        )
                        .help("each delay is the previous one times the multiplier; 1.0 keeps it constant"),
                    );
                    None
                });
            }
            if let Some(n) = b.take("jitter") {
                r.jitter = w.number(n, &b.path_of("jitter")).and_then(|j| {
                    if (0.0..=1.0).contains(&j.value) {
                        return Some(j);
                    }
                    w.push(
                        ConfigError::at(
                            Kind::OutOfRange,
                            j.at,
                            format!("`{}` must be between 0.0 and 1.0, found {}", b.path_of("jitter"), j.value),
                        )
                        .help("it is a fraction of each delay: 0.2 draws each delay within ±20% of the nominal one"),
                    );
                    None
                });
            }
            b.finish(w, BACKOFF_KEYS, &[]);
        }
    }
    if let Some(n) = fields.take("intensity") {
        let path = fields.path_of("intensity");
        if let Some(mut i) = w.mapping(n, &path, Duplicates::Keys) {
            if let Some(n) = i.take("max_restarts") {
                let p = i.path_of("max_restarts");
                if let Value::Int(0) = n.value {
                    w.push(
                        ConfigError::at(
                            Kind::OutOfRange,
                            n.at,
                            format!("`{p}` must be at least 1, found 0"),
                        )
                        .help("to never restart, set `restart.policy: never`"),
                    );
                } else {
                    r.max_restarts = w
                        .integer(n, &p, 1, u64::from(u32::MAX))
                        .map(|v| Sp::new(v.value as u32, v.at));
                }
            }
            if let Some(n) = i.take("window") {
                let p = i.path_of("window");
                r.window = w.duration(n, &p).and_then(|d| nonzero(w, d, &p));
            }
            i.finish(w, INTENSITY_KEYS, &[]);
        }
    }
    if let Some(n) = fields.take("reset_after") {
        r.reset_after = w.duration(n, &fields.path_of("reset_after"));
    }
    fields.finish(w, RESTART_KEYS, &[]);
    r
}
