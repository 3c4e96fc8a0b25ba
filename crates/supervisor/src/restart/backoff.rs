//! [`BackoffPolicy`]: how long to wait before each restart, and the pure
//! delay arithmetic (nominal delay, jitter) the tracker draws from.

use std::time::Duration;

/// Exponential backoff with jitter between restarts.
///
/// Restart number `n` (counted from 1 since the last stable session) has the
/// nominal delay `initial * multiplier^(n-1)`, capped at `max`; the actual
/// delay is drawn uniformly from `[nominal * (1 - jitter), nominal * (1 + jitter)]`
/// with the upper end lowered to `max`, so a delay never exceeds `max`.
///
/// The values are only checked when the backoff becomes part of a
/// [`RestartPolicy`](crate::RestartPolicy), by
/// [`RestartPolicyBuilder::build`](crate::RestartPolicyBuilder::build);
/// the arithmetic here gives a delay within `0..=max` whatever they are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
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

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

impl BackoffPolicy {
    /// The largest accepted [`max`](Self::max): one day. A longer wait is
    /// better expressed as [`RestartMode::Never`](crate::RestartMode::Never).
    pub const MAX_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

    /// Sets the delay before the first restart (default 100 ms).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use linesman_supervisor::BackoffPolicy;
    /// assert_eq!(BackoffPolicy::default().initial, Duration::from_millis(100));
    /// let b = BackoffPolicy::default().initial(Duration::from_secs(1));
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
    /// # use linesman_supervisor::BackoffPolicy;
    /// assert_eq!(BackoffPolicy::default().max, Duration::from_secs(30));
    /// let b = BackoffPolicy::default().max(Duration::from_secs(5));
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
    /// # use linesman_supervisor::BackoffPolicy;
    /// assert_eq!(BackoffPolicy::default().multiplier, 2.0);
    /// let b = BackoffPolicy::default().multiplier(3.0);
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
    /// # use linesman_supervisor::BackoffPolicy;
    /// assert_eq!(BackoffPolicy::default().jitter, 0.2);
    /// assert_eq!(BackoffPolicy::default().jitter(0.0).jitter, 0.0);
    /// ```
    #[must_use]
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
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
        // Below `max`: a checked `max` (at most a day) fits in u64, and
        // float-to-int casts saturate for an unchecked one.
        Duration::from_nanos(nanos.max(0.0).round() as u64)
    }
}
