//! [`FAR_FUTURE`]: the longest wait the workspace arms. A timeout given as
//! `Duration::MAX` (or any "never" longer than this) is clamped to it where
//! it is added to the clock: `Instant + Duration` panics on overflow, and a
//! panic in a session is a connection lost for good (in the shutdown, an
//! aborted daemon; in the CLI, exit 101). The supervisor, the control
//! client and the CLI clamp with it too.

use std::time::Duration;

/// 30 years: tokio's own far future.
pub const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);
