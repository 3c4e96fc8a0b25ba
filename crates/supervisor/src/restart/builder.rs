//! [`RestartPolicyBuilder`]: the one way to make a [`RestartPolicy`], and
//! the one place its values are checked.

use std::time::Duration;

use super::{BackoffPolicy, Intensity, RestartMode, RestartPolicy};
use crate::error::{Allowed, PolicyError, PolicyValue};

/// Builds a [`RestartPolicy`]; see [`RestartPolicy::builder`]. Every
/// setting starts at its default; [`build`](Self::build) checks them all.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestartPolicyBuilder {
    policy: RestartPolicy,
}

impl RestartPolicyBuilder {
    /// Sets when to restart (default [`RestartMode::Always`]).
    ///
    /// ```
    /// # use linesman_supervisor::{RestartMode, RestartPolicy};
    /// assert_eq!(RestartPolicy::default().mode(), RestartMode::Always);
    /// let p = RestartPolicy::builder().mode(RestartMode::Never).build()?;
    /// assert_eq!(p.mode(), RestartMode::Never);
    /// # Ok::<(), linesman_supervisor::PolicyError>(())
    /// ```
    #[must_use]
    pub fn mode(mut self, mode: RestartMode) -> Self {
        self.policy.mode = mode;
        self
    }

    /// Sets the backoff (default [`BackoffPolicy::default`]: 100 ms, ×2.0,
    /// max 30 s, jitter 0.2).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::{BackoffPolicy, RestartPolicy};
    /// let p = RestartPolicy::builder().backoff(BackoffPolicy::default().jitter(0.0)).build()?;
    /// assert_eq!(p.backoff().jitter, 0.0);
    /// assert_eq!(p.backoff().initial, Duration::from_millis(100));
    /// # Ok::<(), linesman_supervisor::PolicyError>(())
    /// ```
    #[must_use]
    pub fn backoff(mut self, backoff: BackoffPolicy) -> Self {
        self.policy.backoff = backoff;
        self
    }

    /// Sets the restart intensity (default [`Intensity::default`]: 10
    /// restarts after a session that came up within 10 minutes).
    ///
    /// ```
    /// # use linesman_supervisor::{Intensity, RestartPolicy};
    /// let p = RestartPolicy::builder().intensity(Intensity::default().max_restarts(3)).build()?;
    /// assert_eq!(p.intensity().max_restarts, 3);
    /// # Ok::<(), linesman_supervisor::PolicyError>(())
    /// ```
    #[must_use]
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.policy.intensity = intensity;
        self
    }

    /// Sets how long a session must stay up to reset the backoff (default
    /// 30 s; any duration, zero included).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::RestartPolicy;
    /// assert_eq!(RestartPolicy::default().reset_after(), Duration::from_secs(30));
    /// let p = RestartPolicy::builder().reset_after(Duration::from_secs(5)).build()?;
    /// assert_eq!(p.reset_after(), Duration::from_secs(5));
    /// # Ok::<(), linesman_supervisor::PolicyError>(())
    /// ```
    #[must_use]
    pub fn reset_after(mut self, reset_after: Duration) -> Self {
        self.policy.reset_after = reset_after;
        self
    }

    /// Checks every value and makes the policy: `initial` above zero and
    /// not above `max`, `max` above zero and at most
    /// [`BackoffPolicy::MAX_LIMIT`], `multiplier` finite and at least 1.0,
    /// `jitter` within `0.0..=1.0`, `max_restarts` at least 1, `window`
    /// above zero. Returns the first problem found, in that order of the
    /// settings (each on its own first, then `initial` against `max`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::{Allowed, BackoffPolicy, PolicyValue, RestartPolicy};
    /// let error = RestartPolicy::builder()
    ///     .backoff(BackoffPolicy::default().multiplier(0.5))
    ///     .build()
    ///     .expect_err("a shrinking delay");
    /// assert_eq!(error.value(), PolicyValue::Multiplier(0.5));
    /// assert_eq!(error.allowed(), Allowed::AtLeast(1.0));
    /// ```
    pub fn build(self) -> Result<RestartPolicy, PolicyError> {
        let RestartPolicy {
            backoff, intensity, ..
        } = self.policy;
        let (initial, max) = (
            PolicyValue::Initial(backoff.initial),
            PolicyValue::Max(backoff.max),
        );
        for value in [
            initial,
            max,
            PolicyValue::Multiplier(backoff.multiplier),
            PolicyValue::Jitter(backoff.jitter),
            PolicyValue::MaxRestarts(intensity.max_restarts),
            PolicyValue::Window(intensity.window),
        ] {
            value.check()?;
        }
        if backoff.initial > backoff.max {
            return Err(PolicyError::new(initial, Allowed::NotAbove(max)));
        }
        Ok(self.policy)
    }
}
