//! [`PolicyError`]: why a restart policy was refused, as data.
//!
//! The error names the setting and the value it was given ([`PolicyValue`])
//! and the rule that value broke ([`Allowed`]), so a front end (the YAML
//! config) can say it in its own words at the place the value was written;
//! `Display` is the wording for library users.

use std::fmt;
use std::time::Duration;

/// One setting of a [`RestartPolicy`](crate::RestartPolicy) with the value
/// it was given.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum PolicyValue {
    /// `backoff.initial`: the delay before the first restart.
    Initial(Duration),
    /// `backoff.max`: the largest delay.
    Max(Duration),
    /// `backoff.multiplier`: the growth factor per restart.
    Multiplier(f64),
    /// `backoff.jitter`: the fraction by which a delay may vary.
    Jitter(f64),
    /// `intensity.max_restarts`: flaps allowed within the window.
    MaxRestarts(u32),
    /// `intensity.window`: the length of the intensity window.
    Window(Duration),
}

impl PolicyValue {
    /// The setting's name, as in the builders and in the YAML config:
    /// `backoff.initial`, `backoff.max`, `backoff.multiplier`,
    /// `backoff.jitter`, `intensity.max_restarts` or `intensity.window`.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::Initial(_) => "backoff.initial",
            Self::Max(_) => "backoff.max",
            Self::Multiplier(_) => "backoff.multiplier",
            Self::Jitter(_) => "backoff.jitter",
            Self::MaxRestarts(_) => "intensity.max_restarts",
            Self::Window(_) => "intensity.window",
        }
    }

    /// Checks the value against its setting's own rule (not against the
    /// other settings: `initial` not above `max` is checked when a whole
    /// policy is built). The one place these rules live: the builder and
    /// the YAML config both ask here.
    ///
    /// ```
    /// use linesman_supervisor::{Allowed, PolicyValue};
    ///
    /// assert!(PolicyValue::Jitter(0.2).check().is_ok());
    /// let error = PolicyValue::Jitter(1.5).check().expect_err("above 1.0");
    /// assert_eq!(error.value(), PolicyValue::Jitter(1.5));
    /// assert_eq!(error.allowed(), Allowed::Between { min: 0.0, max: 1.0 });
    /// ```
    pub fn check(self) -> Result<(), PolicyError> {
        let refused = |allowed| Err(PolicyError::new(self, allowed));
        match self {
            Self::Initial(d) | Self::Window(d) if d.is_zero() => refused(Allowed::AboveZero),
            Self::Max(d) if d.is_zero() => refused(Allowed::AboveZero),
            Self::Max(d) if d > crate::BackoffPolicy::MAX_LIMIT => {
                refused(Allowed::AtMost(crate::BackoffPolicy::MAX_LIMIT))
            }
            // NaN fails every comparison, so it is refused too.
            Self::Multiplier(m) if !(m.is_finite() && m >= 1.0) => refused(Allowed::AtLeast(1.0)),
            Self::Jitter(j) if !(0.0..=1.0).contains(&j) => {
                refused(Allowed::Between { min: 0.0, max: 1.0 })
            }
            Self::MaxRestarts(0) => refused(Allowed::AboveZero),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for PolicyValue {
    /// The value alone: `1.5`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Initial(d) | Self::Max(d) | Self::Window(d) => Human(d).fmt(f),
            Self::Multiplier(n) | Self::Jitter(n) => write!(f, "{n}"),
            Self::MaxRestarts(n) => write!(f, "{n}"),
        }
    }
}

/// The rule a [`PolicyValue`] broke: what it may be instead.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Allowed {
    /// Greater than zero (a delay, the window, `max_restarts`).
    AboveZero,
    /// At most this long (`max`: [`BackoffPolicy::MAX_LIMIT`](crate::BackoffPolicy::MAX_LIMIT)).
    AtMost(Duration),
    /// A finite number of at least this (`multiplier`: 1.0).
    AtLeast(f64),
    /// A number within `min..=max` (`jitter`: 0.0 to 1.0).
    Between {
        /// The smallest accepted value.
        min: f64,
        /// The largest accepted value.
        max: f64,
    },
    /// Not above the value of another setting (`initial`: not above `max`).
    NotAbove(PolicyValue),
}

/// A [`RestartPolicy`](crate::RestartPolicy) that cannot work, from
/// [`RestartPolicyBuilder::build`](crate::RestartPolicyBuilder::build) or
/// [`PolicyValue::check`]: which setting, the value given
/// ([`value`](Self::value)) and what it may be ([`allowed`](Self::allowed)).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{}", Message(self))]
pub struct PolicyError {
    value: PolicyValue,
    allowed: Allowed,
}

impl PolicyError {
    pub(crate) fn new(value: PolicyValue, allowed: Allowed) -> Self {
        Self { value, allowed }
    }

    /// The setting and the value it was given.
    pub fn value(&self) -> PolicyValue {
        self.value
    }

    /// What the setting may be instead.
    pub fn allowed(&self) -> Allowed {
        self.allowed
    }
}

/// The library's wording: what is wrong, then what to do.
struct Message<'a>(&'a PolicyError);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PolicyError { value, allowed } = *self.0;
        match (value, allowed) {
            (PolicyValue::Initial(_), Allowed::AboveZero) => {
                f.write_str("backoff initial delay must be greater than zero: use e.g. 100ms")
            }
            (PolicyValue::Initial(initial), Allowed::NotAbove(max)) => write!(
                f,
                "backoff initial delay {} is larger than max {max}: lower initial or raise max",
                Human(initial)
            ),
            (PolicyValue::Max(_), Allowed::AboveZero) => {
                f.write_str("backoff max must be greater than zero: use e.g. 30s")
            }
            (PolicyValue::Max(max), Allowed::AtMost(limit)) => write!(
                f,
                "backoff max {} is longer than the limit {}: lower it, or use policy never",
                Human(max),
                Human(limit)
            ),
            (PolicyValue::Multiplier(m), _) => write!(
                f,
                "backoff multiplier {m} is invalid: use a finite number of at least 1.0 (1.0 keeps the delay constant)"
            ),
            (PolicyValue::Jitter(j), _) => write!(
                f,
                "backoff jitter {j} is invalid: use a fraction between 0.0 and 1.0 (0.2 means within 20% of the delay)"
            ),
            (PolicyValue::MaxRestarts(_), _) => f.write_str(
                "restart intensity max_restarts must be at least 1: to never restart, use policy never",
            ),
            (PolicyValue::Window(_), _) => {
                f.write_str("restart intensity window must be greater than zero: use e.g. 60s")
            }
            // Not made by this crate; said plainly all the same.
            (value, allowed) => write!(
                f,
                "restart policy {} {value} is invalid: {}",
                value.setting(),
                Rule(allowed)
            ),
        }
    }
}

/// An [`Allowed`] in words.
struct Rule(Allowed);

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Allowed::AboveZero => f.write_str("use a value greater than zero"),
            Allowed::AtMost(limit) => write!(f, "use at most {}", Human(limit)),
            Allowed::AtLeast(min) => write!(f, "use a finite number of at least {min:.1}"),
            Allowed::Between { min, max } => {
                write!(f, "use a number between {min:.1} and {max:.1}")
            }
            Allowed::NotAbove(other) => write!(f, "use at most {} ({other})", other.setting()),
        }
    }
}

/// A duration as people write it: `5s`, `250ms`, `1.5s`, `86400s`.
struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{}s", d.as_secs())
        } else if d.as_secs() == 0 && d.subsec_nanos().is_multiple_of(1_000_000) {
            write!(f, "{}ms", d.subsec_millis())
        } else {
            write!(f, "{}s", d.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        let shown = |d| Human(d).to_string();
        assert_eq!(shown(Duration::from_secs(5)), "5s");
        assert_eq!(shown(Duration::from_millis(250)), "250ms");
        assert_eq!(shown(Duration::from_millis(1500)), "1.5s");
        assert_eq!(shown(Duration::ZERO), "0s");
        assert_eq!(shown(Duration::from_nanos(1)), "0.000000001s");
    }

    #[test]
    fn a_rule_not_made_here_is_still_said_plainly() {
        let odd = PolicyError::new(
            PolicyValue::Initial(Duration::from_secs(1)),
            Allowed::AtLeast(2.0),
        );
        assert_eq!(
            odd.to_string(),
            "restart policy backoff.initial 1s is invalid: use a finite number of at least 2.0"
        );
    }
}
