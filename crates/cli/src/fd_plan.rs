//! [`FdPlan`]: how the daemon shares its open-file limit between the
//! connections' sockets and the control plane, so that no number of
//! connections (and no number of control clients) takes the descriptors
//! the other needs.
//!
//! At start the daemon raises its soft limit to the hard one and counts
//! the descriptors it already holds (stdio, the runtime's epoll and
//! eventfd, an inherited log file…): only the rest is shared. Of the rest,
//! a quarter (at least [`MIN_RESERVE`], at most [`MAX_RESERVE`]) is kept
//! out of the connections' socket budget:
//!
//! - [`REST`] for what the daemon opens after the count (the control
//!   listener, its lock file, the systemd notify socket, the signal pipe);
//! - the remainder for control clients: four fifths served at once (at most
//!   64), a quarter of that (at least one, at most 16) being told "daemon
//!   busy" (see `linesman_control::ServerOptions::max_connections`).
//!
//! So a limit of 1,024 with 10 descriptors in use leaves 918 sockets, 64
//! control clients and 16 refusals; a limit of 64 leaves 40 sockets and 4
//! control clients; a limit too low to keep [`MIN_RESERVE`] and one socket
//! is refused at start, saying what to raise.

use std::fmt;

/// The most descriptors kept out of the socket budget: 64 control clients,
/// 16 refusals and [`REST`], with 8 to spare.
pub(crate) const MAX_RESERVE: u64 = 96;
/// The fewest: three control clients, one refusal and [`REST`].
pub(crate) const MIN_RESERVE: u64 = 12;
/// Descriptors the daemon opens after counting those in use.
pub(crate) const REST: u64 = 8;
/// The most control clients served at once.
const MAX_CONTROL_CONNECTIONS: u64 = 64;

/// The daemon's share-out of its open-file limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FdPlan {
    /// The open-file limit in force (after raising it).
    pub(crate) limit: u64,
    /// Descriptors already open when the plan was made.
    pub(crate) in_use: u64,
    /// Descriptors kept out of the socket budget.
    pub(crate) reserved: u64,
    /// Sockets the connections may hold open at once.
    pub(crate) sockets: u64,
    /// Control clients served at once.
    pub(crate) control_connections: usize,
}

/// The limit leaves too little to run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the open-file limit is {limit} and {in_use} descriptors are already open: linesman needs at least {needed} (its control plane keeps {MIN_RESERVE}, and one for a connection); raise it (`ulimit -n`, LimitNOFILE= in systemd) or close inherited descriptors"
)]
pub(crate) struct TooFewFds {
    /// The open-file limit in force.
    pub(crate) limit: u64,
    /// Descriptors already open.
    pub(crate) in_use: u64,
    /// The least limit that would do.
    pub(crate) needed: u64,
}

impl FdPlan {
    /// The plan for an open-file limit of `limit` with `in_use`
    /// descriptors already open.
    pub(crate) fn new(limit: u64, in_use: u64) -> Result<FdPlan, TooFewFds> {
        let free = limit.saturating_sub(in_use);
        let reserved = (free / 4).clamp(MIN_RESERVE, MAX_RESERVE);
        if free <= reserved {
            return Err(TooFewFds {
                limit,
                in_use,
                needed: in_use + MIN_RESERVE + 1,
            });
        }
        let control = reserved - REST;
        let control_connections = (control * 4 / 5).clamp(1, MAX_CONTROL_CONNECTIONS);
        Ok(FdPlan {
            limit,
            in_use,
            reserved,
            sockets: free - reserved,
            control_connections: usize::try_from(control_connections).unwrap_or(1),
        })
    }

    /// The plan when the limit is unlimited: sockets are not bounded,
    /// control clients are.
    pub(crate) fn unlimited(in_use: u64) -> FdPlan {
        FdPlan {
            limit: u64::MAX,
            in_use,
            reserved: 0,
            sockets: u64::MAX,
            control_connections: MAX_CONTROL_CONNECTIONS as usize,
        }
    }

    /// The socket budget as the supervisor takes it: `None` for unbounded.
    pub(crate) fn max_open_sockets(&self) -> Option<usize> {
        (self.limit != u64::MAX).then(|| usize::try_from(self.sockets).unwrap_or(usize::MAX))
    }
}

impl fmt::Display for FdPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.limit == u64::MAX {
            return write!(
                f,
                "fd limit unlimited: connections open at once are not bounded; {} control clients at once",
                self.control_connections
            );
        }
        write!(
            f,
            "fd limit {}: up to {} connection{} open at once ({} in use at start, {} kept for the control plane: {} control clients at once)",
            self.limit,
            self.sockets,
            if self.sockets == 1 { "" } else { "s" },
            self.in_use,
            self.reserved,
            self.control_connections
        )
    }
}

/// Raises the soft open-file limit to the hard one, counts the descriptors
/// open now and makes the plan, logging it. A limit that cannot be raised
/// is kept (with a warning); one that cannot be read, or an open count that
/// cannot be taken, leaves sockets unbounded.
pub(crate) fn share_fds() -> Result<FdPlan, TooFewFds> {
    let limit = match linesman_stream::raise_nofile_limit() {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit; keeping the current one");
            linesman_stream::nofile_limit().ok()
        }
    };
    let in_use = linesman_stream::open_fds();
    let plan = match (limit, in_use) {
        (Some(limit), Ok(in_use)) if limit != u64::MAX => FdPlan::new(limit, in_use)?,
        (_, in_use) => FdPlan::unlimited(in_use.unwrap_or(0)),
    };
    tracing::info!(
        fd_limit = plan.limit,
        max_open_sockets = plan.sockets,
        in_use = plan.in_use,
        reserved = plan.reserved,
        control_connections = plan.control_connections,
        "{plan}"
    );
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the control plane may hold at once: clients served, clients
    /// refused, and the rest.
    fn control_plane(plan: &FdPlan) -> u64 {
        let served = plan.control_connections as u64;
        served + (served / 4).clamp(1, 16) + REST
    }

    #[test]
    fn every_limit_keeps_the_control_plane_within_the_reserve() {
        for limit in 20..5_000 {
            for in_use in [3, 8, 19] {
                let Ok(plan) = FdPlan::new(limit, in_use) else {
                    assert!(limit - in_use <= MIN_RESERVE, "{limit} {in_use}");
                    continue;
                };
                assert_eq!(plan.in_use + plan.reserved + plan.sockets, limit);
                assert!(plan.sockets >= 1);
                assert!(
                    control_plane(&plan) <= plan.reserved,
                    "{plan}: the control plane may need {}",
                    control_plane(&plan)
                );
            }
        }
    }

    #[test]
    fn common_limits() {
        let plan = FdPlan::new(1024, 10).expect("enough");
        assert_eq!(
            (plan.sockets, plan.reserved, plan.control_connections),
            (918, 96, 64)
        );
        let plan = FdPlan::new(64, 8).expect("enough");
        assert_eq!(
            (plan.sockets, plan.reserved, plan.control_connections),
            (42, 14, 4)
        );
        assert_eq!(
            plan.to_string(),
            "fd limit 64: up to 42 connections open at once (8 in use at start, 14 kept for the control plane: 4 control clients at once)"
        );
    }

    #[test]
    fn a_limit_that_leaves_nothing_is_refused_with_what_to_raise() {
        let error = FdPlan::new(12, 9).expect_err("3 free");
        assert_eq!(error.needed, 22);
        assert!(
            error.to_string().contains("raise it (`ulimit -n`"),
            "{error}"
        );
        assert!(FdPlan::new(22, 9).is_ok());
    }
}
