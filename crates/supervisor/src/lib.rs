//! The supervisor's decisions, as pure and separately tested building blocks.
//!
//! What exists now:
//!
//! - [`RestartPolicy`] (`always | on-failure | never`, [`Backoff`] with
//!   jitter, [`Intensity`], `reset_after`) and [`RestartTracker`], the state
//!   machine that applies it to one connection's sessions and answers with a
//!   [`Decision`]: restart after a delay, give up, or stop.
//! - Start rules: [`Rule`] (`up`, `all`, `any`, `depends_on`) and
//!   [`OnDependencyDown`].
//! - [`DependencyGraph`]: validation of the rules between connections
//!   (unknown names with suggestions, self-dependencies, cycles with their
//!   path), start and shutdown order.
//!
//! The runtime that uses them (connection tasks, the rule engine on the
//! observer bus, `start`/`stop`/`restart`, graceful shutdown on signals) is
//! in progress. Nothing here spawns a task or reads a clock: callers pass
//! `now` in, which keeps every rule exact under paused tokio time.
//!
//! ```
//! use linesman_supervisor::{Decision, RestartPolicy, RestartTracker, SessionEnd};
//! use tokio::time::Instant;
//!
//! let policy = RestartPolicy::default();
//! let mut tracker = RestartTracker::new(policy, 42).expect("valid policy");
//! let decision = tracker.session_ended(SessionEnd::Failure, Instant::now());
//! assert!(matches!(decision, Decision::Restart { attempt: 1, .. }));
//! ```

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod error;
mod graph;
mod restart;
mod rng;
mod rule;
mod suggest;
mod tracker;

pub use error::{GraphError, GraphErrors, ParseError, PolicyError};
pub use graph::DependencyGraph;
pub use restart::{Backoff, Intensity, RestartMode, RestartPolicy};
pub use rng::seed_from;
pub use rule::{OnDependencyDown, Rule};
pub use tracker::{Decision, RestartTracker, SessionEnd};
