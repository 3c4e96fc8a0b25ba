//! [`FAR`]: the longest wait a connection arms. A timeout given in code as
//! `Duration::MAX` (or any "never" longer than this) is clamped to it where
//! it is added to the clock: `Instant + Duration` panics on overflow, and a
//! panic in a session is a connection lost for good.

use std::time::Duration;

/// 30 years: tokio's own far future.
pub(crate) const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
