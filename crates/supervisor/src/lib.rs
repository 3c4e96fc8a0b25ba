//! linesman's supervisor: runs a set of connections, restarts what fails
//! with backoff, starts a connection only when the connections it depends
//! on are up, and shuts everything down in dependency order.
//!
//! - [`Spec`] (built with [`Spec::builder`]): the connections, each a
//!   [`Supervised`] — the connection's own
//!   [`ConnectionSpec`](linesman_connection::ConnectionSpec) plus its
//!   [`RestartPolicy`], start [`Rule`] and [`OnDependencyDown`] — validated
//!   into a [`DependencyGraph`] (unknown names, self-dependencies, cycles
//!   with their path).
//! - [`Supervisor`]: takes the spec, handlers and listeners, and
//!   [`run`](Supervisor::run)s one task per connection. Every state change is
//!   an event on its [`Bus`](linesman_observer::Bus); the rule engine listens
//!   to it and starts connections when their rules start to hold.
//! - [`SupervisorHandle`]: `start`, `stop`, `restart`, `snapshot` and
//!   `shutdown` from any task.
//!
//! The decisions are pure and separately tested building blocks:
//! [`RestartTracker`] applies a [`RestartPolicy`] to one connection's
//! sessions and answers with a [`Decision`]; it reads no clock (callers pass
//! `now` in), which keeps every rule exact under paused tokio time.
//!
//! ```no_run
//! use std::time::Duration;
//! use linesman_connection::ConnectionSpec;
//! use linesman_supervisor::{BackoffPolicy, RestartPolicy, Spec, Supervised, Supervisor};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = Spec::builder()
//!     .connection(ConnectionSpec::new("quotes", "tcp://127.0.0.1:7001".parse()?))
//!     .connection(ConnectionSpec::new("orders", "unix:///run/orders.sock".parse()?))
//!     .connection(
//!         Supervised::new(ConnectionSpec::new("hw", "tcp://127.0.0.1:7003".parse()?))
//!             .depends_on(["quotes", "orders"])
//!             .restart(
//!                 RestartPolicy::builder()
//!                     .backoff(BackoffPolicy::default().initial(Duration::from_millis(250)))
//!                     .build()?,
//!             ),
//!     )
//!     .build()?;
//! let supervisor = Supervisor::new(spec);
//! let control = supervisor.control();
//! tokio::spawn(async move {
//!     tokio::time::sleep(Duration::from_secs(60)).await;
//!     control.shutdown();
//! });
//! supervisor.run_until_signal().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The pure parts on their own:
//!
//! ```
//! use linesman_supervisor::{Decision, RestartPolicy, RestartTracker, SessionEnd};
//! use tokio::time::Instant;
//!
//! let policy = RestartPolicy::default();
//! let mut tracker = RestartTracker::new(policy, 42);
//! let decision = tracker.session_ended(SessionEnd::Failure, Instant::now());
//! assert!(matches!(decision, Decision::Restart { attempt: 1, .. }));
//! ```

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod command;
mod control;
mod error;
mod graph;
mod lifecycle;
mod live;
mod mailbox;
mod name_index;
mod notices;
mod reload;
mod report;
mod restart;
mod rng;
mod rule;
mod rules;
mod shutdown;
mod signal;
mod size;
mod spec;
mod suggest;
mod supervisor;
mod task;
mod tracker;
mod until_signal;

pub use control::SupervisorHandle;
pub use error::{
    Allowed, ConfigureError, ControlError, GraphError, GraphErrors, ParseError, PolicyError,
    PolicyValue, ReloadError, SpecError, SupervisorError,
};
pub use graph::DependencyGraph;
pub use reload::ReloadReport;
pub use report::RunReport;
pub use restart::{BackoffPolicy, Intensity, RestartMode, RestartPolicy, RestartPolicyBuilder};
pub use rule::{OnDependencyDown, Rule};
pub use signal::{Signal, restore_default_signals};
pub use spec::{Spec, SpecBuilder, Supervised};
pub use supervisor::Supervisor;
pub use tracker::{Decision, RestartTracker, SessionEnd};
