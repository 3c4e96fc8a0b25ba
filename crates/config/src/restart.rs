//! Phase two of a connection's restart policy: its `restart:` over
//! `defaults`' over the built-in defaults, value by value, built by
//! [`RestartPolicy::builder`]; a clash between two values is said at the
//! nearer one.

use linesman_supervisor::{BackoffPolicy, Intensity, PolicyValue, RestartPolicy};

use crate::layers::Layers;
use crate::policy::said;
use crate::raw::RawSettings;
use crate::walk::Walker;

/// A connection's restart policy: its `restart:` over `defaults`' over the
/// built-in defaults, value by value; or the error, at the nearer value.
pub(crate) fn restart_policy(w: &mut Walker<'_>, layers: &Layers<'_>) -> Option<RestartPolicy> {
    let r = |s: &RawSettings| s.restart.clone();
    let (top, defaults) = (r(layers.top.settings), r(layers.defaults.settings));
    macro_rules! pick {
        ($name:ident) => {
            top.$name
                .as_ref()
                .map(|v| (v, layers.top.path.as_str()))
                .or(defaults
                    .$name
                    .as_ref()
                    .map(|v| (v, layers.defaults.path.as_str())))
        };
    }
    let mut builder = RestartPolicy::builder();
    if let Some((v, _)) = pick!(policy) {
        builder = builder.mode(v.value);
    }
    let mut backoff = BackoffPolicy::default();
    if let Some((v, _)) = pick!(initial) {
        backoff.initial = v.value;
    }
    if let Some((v, _)) = pick!(max) {
        backoff.max = v.value;
    }
    if let Some((v, _)) = pick!(multiplier) {
        backoff.multiplier = v.value;
    }
    if let Some((v, _)) = pick!(jitter) {
        backoff.jitter = v.value;
    }
    let mut intensity = Intensity::default();
    if let Some((v, _)) = pick!(max_restarts) {
        intensity.max_restarts = v.value;
    }
    if let Some((v, _)) = pick!(window) {
        intensity.window = v.value;
    }
    if let Some((v, _)) = pick!(reset_after) {
        builder = builder.reset_after(v.value);
    }
    let error = match builder.backoff(backoff).intensity(intensity).build() {
        Ok(policy) => return Some(policy),
        // A value refused while reading was said so; the clash found now
        // would compare the others with the default it fell back to.
        Err(_) if top.refused || defaults.refused => return None,
        Err(error) => error,
    };
    // Each value on its own was checked where it was read, so this is in
    // practice a clash between two values (`initial` above `max`); point
    // at the setting the error names, in the layer it came from.
    let located = match error.value() {
        PolicyValue::Initial(_) => pick!(initial).map(|(v, p)| (v.at, p)),
        PolicyValue::Max(_) => pick!(max).map(|(v, p)| (v.at, p)),
        PolicyValue::Multiplier(_) => pick!(multiplier).map(|(v, p)| (v.at, p)),
        PolicyValue::Jitter(_) => pick!(jitter).map(|(v, p)| (v.at, p)),
        PolicyValue::MaxRestarts(_) => pick!(max_restarts).map(|(v, p)| (v.at, p)),
        PolicyValue::Window(_) => pick!(window).map(|(v, p)| (v.at, p)),
        _ => None,
    };
    let (at, layer) = located.map_or((None, layers.top.path.as_str()), |(at, p)| (Some(at), p));
    w.push(said(&error, at, &format!("{layer}.restart")));
    None
}
