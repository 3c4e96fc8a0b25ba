//! The restart policy: when a connection that ended is started again, and
//! how long to wait first.
//!
//! This module only holds the configuration and the pure delay arithmetic;
//! [`RestartTracker`](crate::RestartTracker) applies it to one connection's
//! sessions.
//!
//! The fields are public so the policy can be read and matched on; the
//! chaining setters are the readable way to build one:
//!
//! ```
//! use std::time::Duration;
//! use linesman_supervisor::{Backoff, RestartMode, RestartPolicy};
//!
//! let policy = RestartPolicy::default()
//!     .mode(RestartMode::OnFailure)
//!     .backoff(Backoff::default().initial(Duration::from_millis(250)).jitter(0.5));
//! assert!(policy.validate().is_ok());
//! assert_eq!(policy.backoff.max, Duration::from_secs(30));
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{ParseError, PolicyError};

/// Whether a connection is started again after a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RestartMode {
    /// Restart after every end, clean or not (`always`, the default).
    #[default]
    Always,
    /// Restart only after a failure; a clean end stops the connection
    /// (`on-failure`). See [`SessionEnd`](crate::SessionEnd) for what counts
    /// as a failure.
    OnFailure,
    /// Never restart; the connection stops after its first session (`never`).
    Never,
}

impl RestartMode {
    /// The name used in configuration: `always`, `on-failure` or `never`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::OnFailure => "on-failure",
            Self::Never => "never",
        }
    }
}

impl fmt::Display for RestartMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RestartMode {
    type Err = ParseError;

    /// Parses `always`, `on-failure` or `never`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "always" => Ok(Self::Always),
            "on-failure" => Ok(Self::OnFailure),
            "never" => Ok(Self::Never),
            _ => Err(ParseError::UnknownRestartMode {
                input: s.to_owned(),
            }),
        }
    }
}

/// Exponential backoff with jitter between restarts.
///
/// Restart number `n` (counted from 1 since the last stable session) has the
/// nominal delay `initial * multiplier^(n-1)`, capped at `max`; the actual
/// delay is drawn uniformly from `[nominal * (1 - jitter), nominal * (1 + jitter)]`
/// with the upper end lowered to `max`, so a delay never exceeds `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the first restart. Default 100 ms.
    pub initial: Duration,
    /// Largest delay, jitter included. Default 30 s.
    pub max: Duration,
    /// Growth factor per consecutive restart, at least 1.0. Default 2.0.
    pub multiplier: f64,
    /// Fraction of the nominal delay by which the actual delay may differ
    /// from it, in `0.0..=1.0`. Default 0.2 (±20 %).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The largest accepted [`max`](Self::max): one day. A longer wait is
    /// better expressed as [`RestartMode::Never`].
    pub const MAX_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

    /// Sets the delay before the first restart (default 100 ms).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::Backoff;
    /// assert_eq!(Backoff::default().initial, Duration::from_millis(100));
    /// let b = Backoff::default().initial(Duration::from_secs(1));
    /// assert_eq!(b.nominal_delay(1), Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Sets the largest delay, jitter included (default 30 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::Backoff;
    /// assert_eq!(Backoff::default().max, Duration::from_secs(30));
    /// let b = Backoff::default().max(Duration::from_secs(5));
    /// assert_eq!(b.nominal_delay(100), Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Sets the growth factor per consecutive restart (default 2.0; 1.0
    /// keeps the delay constant).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::Backoff;
    /// assert_eq!(Backoff::default().multiplier, 2.0);
    /// let b = Backoff::default().multiplier(3.0);
    /// assert_eq!(b.nominal_delay(3), Duration::from_millis(900));
    /// ```
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets the jitter fraction (default 0.2; 0.0 makes delays exact).
    ///
    /// ```
    /// # use linesman_supervisor::Backoff;
    /// assert_eq!(Backoff::default().jitter, 0.2);
    /// assert!(Backoff::default().jitter(0.0).validate().is_ok());
    /// assert!(Backoff::default().jitter(1.5).validate().is_err());
    /// ```
    #[must_use]
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Checks the backoff on its own (see [`RestartPolicy::validate`]).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.initial.is_zero() {
            return Err(PolicyError::ZeroInitialDelay);
        }
        if self.max > Self::MAX_LIMIT {
            return Err(PolicyError::MaxTooLarge {
                max: self.max,
                limit: Self::MAX_LIMIT,
            });
        }
        if self.initial > self.max {
            return Err(PolicyError::InitialAboveMax {
                initial: self.initial,
                max: self.max,
            });
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err(PolicyError::InvalidMultiplier {
                multiplier: self.multiplier,
            });
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            // NaN is not contained in any range, so it lands here too.
            return Err(PolicyError::InvalidJitter {
                jitter: self.jitter,
            });
        }
        Ok(())
    }

    /// The nominal (unjittered) delay before restart number `attempt`
    /// (1-based; 0 is treated as 1): `initial * multiplier^(attempt-1)`,
    /// capped at `max`. Exact to the nanosecond for integral products.
    pub fn nominal_delay(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let nanos = self.initial.as_nanos() as f64 * self.multiplier.powi(exponent);
        self.clamp_nanos(nanos)
    }

    /// The actual delay for a nominal delay and a uniform draw `unit` in
    /// `[0, 1)`: uniform over `[nominal * (1 - jitter), min(nominal * (1 + jitter), max)]`.
    ///
    /// The upper end is lowered to `max` rather than clamping draws to it:
    /// clamping would put every draw above `max` exactly on `max`, so
    /// connections that have reached the cap would reconnect in lockstep.
    pub(crate) fn jittered(&self, nominal: Duration, unit: f64) -> Duration {
        let nominal = nominal.as_nanos() as f64;
        let low = nominal * (1.0 - self.jitter);
        let high = (nominal * (1.0 + self.jitter)).min(self.max.as_nanos() as f64);
        self.clamp_nanos(low + (high - low).max(0.0) * unit)
    }

    /// Rounds a nanosecond count to a duration within `0..=max`, whatever
    /// the float (NaN and infinities included).
    fn clamp_nanos(&self, nanos: f64) -> Duration {
        let max = self.max.as_nanos() as f64;
        if nanos.is_nan() || nanos >= max {
            return self.max;
        }
        // Below `max`: a validated `max` (at most a day) fits in u64, and
        // float-to-int casts saturate for an unvalidated one.
        Duration::from_nanos(nanos.max(0.0).round() as u64)
    }
}

/// Restart intensity: how many restarts after a session that had come up
/// (flaps) are allowed within a sliding window before the supervisor gives
/// up on a connection and marks it `Failed`.
///
/// Only flaps count: a connect that fails (refused, timed out, handshake
/// failed) grows the backoff but never makes a connection `Failed`, because
/// a peer that is not there is not a crash loop; it is retried forever at
/// the backoff's pace. A peer that accepts and then drops again and again
/// is one.
///
/// With the defaults (10 within 10 minutes) and the default backoff, a peer
/// that accepts and drops at once makes the connection `Failed` at the 11th
/// drop, after the ten delays 0.1 + 0.2 + … + 25.6 + 30 s = 81.1 s (65 s to
/// 91 s with the default jitter), plus the time its sessions were up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intensity {
    /// Restarts after a session that came up allowed within `window`; one
    /// more gives up. Default 10.
    pub max_restarts: u32,
    /// Length of the sliding window. Default 10 minutes.
    pub window: Duration,
}

impl Default for Intensity {
    fn default() -> Self {
        Self {
            max_restarts: 10,
            window: Duration::from_secs(600),
        }
    }
}

impl Intensity {
    /// Sets the restarts allowed within the window (default 10).
    ///
    /// ```
    /// # use linesman_supervisor::Intensity;
    /// assert_eq!(Intensity::default().max_restarts, 10);
    /// assert_eq!(Intensity::default().max_restarts(5).max_restarts, 5);
    /// ```
    #[must_use]
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// Sets the length of the sliding window (default 10 minutes).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::Intensity;
    /// assert_eq!(Intensity::default().window, Duration::from_secs(600));
    /// let i = Intensity::default().window(Duration::from_secs(60));
    /// assert_eq!(i.window, Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Checks the intensity on its own (see [`RestartPolicy::validate`]).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.max_restarts == 0 {
            return Err(PolicyError::ZeroMaxRestarts);
        }
        if self.window.is_zero() {
            return Err(PolicyError::ZeroWindow);
        }
        Ok(())
    }
}

/// A connection's complete restart policy. `Default` gives the values in
/// the design: `always`, backoff 100 ms ×2 up to 30 s with ±20 % jitter,
/// at most 10 restarts after a session that came up per 10 minutes (see
/// [`Intensity`]), reset after 30 s up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestartPolicy {
    /// When to restart. Default [`RestartMode::Always`].
    pub mode: RestartMode,
    /// Delays between restarts. Default [`Backoff::default`].
    pub backoff: Backoff,
    /// When to give up. Default [`Intensity::default`].
    pub intensity: Intensity,
    /// A session that stayed up at least this long resets the backoff, so
    /// the next delay is `initial` again. Default 30 s.
    pub reset_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            mode: RestartMode::Always,
            backoff: Backoff::default(),
            intensity: Intensity::default(),
            reset_after: Duration::from_secs(30),
        }
    }
}

impl RestartPolicy {
    /// Sets when to restart (default [`RestartMode::Always`]).
    ///
    /// ```
    /// # use linesman_supervisor::{RestartMode, RestartPolicy};
    /// assert_eq!(RestartPolicy::default().mode, RestartMode::Always);
    /// let p = RestartPolicy::default().mode(RestartMode::Never);
    /// assert_eq!(p.mode, RestartMode::Never);
    /// ```
    #[must_use]
    pub fn mode(mut self, mode: RestartMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the backoff (default [`Backoff::default`]: 100 ms, ×2.0, max
    /// 30 s, jitter 0.2).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::{Backoff, RestartPolicy};
    /// let p = RestartPolicy::default().backoff(Backoff::default().jitter(0.0));
    /// assert_eq!(p.backoff.jitter, 0.0);
    /// assert_eq!(p.backoff.initial, Duration::from_millis(100));
    /// ```
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets the restart intensity (default [`Intensity::default`]: 10
    /// restarts after a session that came up within 10 minutes).
    ///
    /// ```
    /// # use linesman_supervisor::{Intensity, RestartPolicy};
    /// let p = RestartPolicy::default().intensity(Intensity::default().max_restarts(3));
    /// assert_eq!(p.intensity.max_restarts, 3);
    /// ```
    #[must_use]
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Sets how long a session must stay up to reset the backoff (default
    /// 30 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::RestartPolicy;
    /// assert_eq!(RestartPolicy::default().reset_after, Duration::from_secs(30));
    /// let p = RestartPolicy::default().reset_after(Duration::from_secs(5));
    /// assert_eq!(p.reset_after, Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn reset_after(mut self, reset_after: Duration) -> Self {
        self.reset_after = reset_after;
        self
    }

    /// Checks every value: `initial` above zero and not above `max`, `max`
    /// at most [`Backoff::MAX_LIMIT`], `multiplier` finite and at least 1.0,
    /// `jitter` within `0.0..=1.0`, `max_restarts` at least 1, `window`
    /// above zero. Returns the first problem found.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::{Backoff, PolicyError, RestartPolicy};
    /// let p = RestartPolicy::default().backoff(Backoff::default().multiplier(0.5));
    /// assert_eq!(p.validate(), Err(PolicyError::InvalidMultiplier { multiplier: 0.5 }));
    /// ```
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.backoff.validate()?;
        self.intensity.validate()
    }
}
