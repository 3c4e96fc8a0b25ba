//! The restart policy: when a connection that ended is started again, and
//! how long to wait first.
//!
//! This module only holds the configuration and the pure delay arithmetic;
//! [`RestartTracker`](crate::RestartTracker) applies it to one connection's
//! sessions.
//!
//! A [`RestartPolicy`] is checked once, when
//! [`RestartPolicyBuilder::build`] makes it, and cannot be changed after:
//! whoever holds one (a [`Supervised`](crate::Supervised), a tracker) holds
//! a valid one and checks nothing again.
//!
//! ```
//! use std::time::Duration;
//! use linesman_supervisor::{BackoffPolicy, RestartMode, RestartPolicy};
//!
//! let policy = RestartPolicy::builder()
//!     .mode(RestartMode::OnFailure)
//!     .backoff(BackoffPolicy::default().initial(Duration::from_millis(250)).jitter(0.5))
//!     .build()?;
//! assert_eq!(policy.backoff().max, Duration::from_secs(30));
//! # Ok::<(), linesman_supervisor::PolicyError>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::ParseError;

mod backoff;
mod builder;

pub use backoff::BackoffPolicy;
pub use builder::RestartPolicyBuilder;

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
///
/// Like [`BackoffPolicy`], its values are checked when it becomes part of a
/// [`RestartPolicy`].
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
}

/// A connection's complete, checked restart policy, made by
/// [`RestartPolicy::builder`]. `Default` gives the values in the design:
/// `always`, backoff 100 ms ×2 up to 30 s with ±20 % jitter, at most 10
/// restarts after a session that came up per 10 minutes (see
/// [`Intensity`]), reset after 30 s up.
///
/// Its fields are private so that an invalid policy cannot exist: read them
/// through the getters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestartPolicy {
    mode: RestartMode,
    backoff: BackoffPolicy,
    intensity: Intensity,
    reset_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            mode: RestartMode::Always,
            backoff: BackoffPolicy::default(),
            intensity: Intensity::default(),
            reset_after: Duration::from_secs(30),
        }
    }
}

impl RestartPolicy {
    /// A builder starting from the defaults.
    pub fn builder() -> RestartPolicyBuilder {
        RestartPolicyBuilder::default()
    }

    /// When to restart.
    pub fn mode(&self) -> RestartMode {
        self.mode
    }

    /// Delays between restarts.
    pub fn backoff(&self) -> &BackoffPolicy {
        &self.backoff
    }

    /// When to give up.
    pub fn intensity(&self) -> &Intensity {
        &self.intensity
    }

    /// How long a session must stay up to reset the backoff, so that the
    /// next delay is `initial` again.
    pub fn reset_after(&self) -> Duration {
        self.reset_after
    }
}
