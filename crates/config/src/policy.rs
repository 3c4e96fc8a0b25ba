//! The restart policy in the config's words: each `restart:` value checked
//! at its place by the supervisor's own rules ([`PolicyValue::check`]), and
//! every [`PolicyError`] said here from its fields (which setting, the value
//! given, what is allowed) at the line and column of the value. The merged
//! policy is built in `restart.rs`.

use linesman_supervisor::{Allowed, PolicyError, PolicyValue};

use crate::error::{ConfigError, ConfigErrorKind as Kind, Location};
use crate::walk::{Sp, Walker};

/// `v` if the supervisor accepts its value as the `setting` on its own;
/// else the error at `v`'s place. `restart` is the path of the `restart:`
/// mapping the value is in.
pub(crate) fn checked<T: Copy>(
    w: &mut Walker<'_>,
    v: Sp<T>,
    setting: fn(T) -> PolicyValue,
    restart: &str,
) -> Option<Sp<T>> {
    match setting(v.value).check() {
        Ok(()) => Some(v),
        Err(error) => {
            w.push(said(&error, Some(v.at), restart));
            None
        }
    }
}

/// `error` in the config's words, at `at`; `restart` is the path of the
/// `restart:` mapping the value is in.
pub(crate) fn said(error: &PolicyError, at: Option<Location>, restart: &str) -> ConfigError {
    let key = format!("`{restart}.{}`", error.value().setting());
    let out_of_range =
        |message: String, help: &str| ConfigError::new(Kind::OutOfRange, at, message).help(help);
    match (error.value(), error.allowed()) {
        (PolicyValue::MaxRestarts(found), Allowed::AboveZero) => out_of_range(
            format!("{key} must be at least 1, found {found}"),
            "to never restart, set `restart.policy: never`",
        ),
        (_, Allowed::AboveZero) => out_of_range(
            format!("{key} must be greater than zero"),
            "use a duration such as `100ms` or `5s`",
        ),
        (PolicyValue::Max(found), Allowed::AtMost(limit)) => out_of_range(
            format!(
                "{key} must be at most {}, found {}",
                humantime::format_duration(limit),
                humantime::format_duration(found)
            ),
            "for a connection that should stop trying, set `restart.policy: never` or `on-failure`",
        ),
        (PolicyValue::Multiplier(found), Allowed::AtLeast(min)) => out_of_range(
            format!("{key} must be at least {min:.1}, found {found}"),
            "each delay is the previous one times the multiplier; 1.0 keeps it constant",
        ),
        (PolicyValue::Jitter(found), Allowed::Between { min, max }) => out_of_range(
            format!("{key} must be between {min:.1} and {max:.1}, found {found}"),
            "it is a fraction of each delay: 0.2 draws each delay within ±20% of the nominal one",
        ),
        (PolicyValue::Initial(initial), Allowed::NotAbove(PolicyValue::Max(max))) => {
            ConfigError::new(
                Kind::Conflict,
                at,
                format!(
                    "`{restart}`: backoff initial delay {} is larger than max {}",
                    humantime::format_duration(initial),
                    humantime::format_duration(max)
                ),
            )
            .help("lower `initial` or raise `max`")
        }
        // A rule this version of the config does not know: the
        // supervisor's own words, which say what to do.
        _ => ConfigError::new(Kind::Conflict, at, format!("{key} is invalid: {error}")),
    }
}
